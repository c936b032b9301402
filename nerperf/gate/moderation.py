"""A variance shared by the gate's comparisons of one measure: limma's moderated t (Smyth 2004).

After 3 pairs each comparison's own variance of log pair ratios has 2 degrees of freedom, so its t
statistic needs a very consistent change to be believed (the family's boundary is 16.9 there). The
comparisons of one measure (every case's batch-1 latency, or every case's throughput) are timed in the
same processes, and their spreads are of one order, so each variance ``s²`` is
shrunk toward their common scale ``s0²``, weighted by the prior's degrees of freedom ``d0``::

    s̃² = (d0·s0² + (k − 1)·s²) / (d0 + k − 1)        on d0 + k − 1 degrees of freedom

``d0`` is fixed (:data:`PRIOR_DF`), not estimated at each look: with 6 comparisons and 2 degrees of
freedom each, limma's estimate of it (:func:`fit_prior`) scatters from 0 to infinity, and a ``d0`` that is
too large shrinks a truly noisy comparison's variance too far, which is how moderation could cry wolf.
The default, 3, is below every per-measure fit on the recorded same-revision gates
(``benches/gate_noise.py moderated``; the fits are in the records' notebook), so it shares least.
``s0²`` is estimated at every look from the group's own variances, by ``fitFDist``'s moment of their
logs with ``d0`` known. The gate's boundaries for the moderated t are simulated under this model,
``s0²`` estimated as here (:func:`nerperf.gate.sequential.plan`), and ``tests/test_moderation.py``
checks the false-alarm rate on simulated gates whose spreads are the error-rate runs', not the model's.
"""

from __future__ import annotations

import math

import numpy as np

PRIOR_DF = 3.0  # the prior's degrees of freedom; 0: each comparison on its own variance
MIN_SHARED = 4  # fewer comparisons of a measure than this share nothing (a bisect step has 1)


def common_scale(variances: np.ndarray, freedom: int, prior_df: float) -> np.ndarray:
    """``s0²`` over the last axis of ``variances`` (each on ``freedom`` degrees of freedom), ``d0`` known:
    under the model ``log s²`` has mean ``log s0² + ψ(f/2) − log(f/2) − ψ(d0/2) + log(d0/2)``.

    >>> round(float(common_scale(np.full(6, 0.0004), 2, 3.0)[0]) / 0.0004, 3)  # above: log s² runs low at 2 df
    1.232
    """
    from scipy.special import digamma

    logs = np.log(variances).mean(axis=-1, keepdims=True)
    half, prior = freedom / 2, prior_df / 2
    return np.exp(logs - digamma(half) + math.log(half) + digamma(prior) - math.log(prior))


def moderated(variances: np.ndarray, freedom: int, prior_df: float) -> np.ndarray:
    """Each variance of the last axis shrunk toward the group's common scale (the module docstring)."""
    scale = common_scale(variances, freedom, prior_df)
    return (prior_df * scale + freedom * variances) / (prior_df + freedom)


def fit_prior(variances: list[float], freedom: int) -> tuple[float, float]:
    """limma's ``fitFDist``: the prior degrees of freedom ``d0`` and common variance ``s0²`` that the sample
    ``variances`` (each on ``freedom`` degrees of freedom) are scattered around, by the method of moments on
    their logs; ``d0`` is infinite where they scatter no more than sampling alone would. Used to choose
    :data:`PRIOR_DF` from the error-rate runs, not by the gate.

    >>> d0, s0 = fit_prior([1.0, 1.0, 1.0, 1.0], 4)
    >>> d0, round(s0, 6)
    (inf, 1.0)
    """
    from scipy.special import digamma, polygamma

    half = freedom / 2
    logs = [math.log(v) - digamma(half) + math.log(half) for v in variances]
    mean = sum(logs) / len(logs)
    excess = sum((e - mean) ** 2 for e in logs) / (len(logs) - 1) - float(polygamma(1, half))
    if excess <= 0:  # as limma since 2017: the pooled variance, the scale's maximum-likelihood estimate then
        return math.inf, sum(variances) / len(variances)
    d0 = 2 * _trigamma_inverse(excess)
    return d0, math.exp(mean + digamma(d0 / 2) - math.log(d0 / 2))


def _trigamma_inverse(x: float) -> float:
    """The y with trigamma(y) = x, by limma's Newton iteration.

    >>> from scipy.special import polygamma
    >>> round(float(polygamma(1, _trigamma_inverse(0.5))), 9)
    0.5
    """
    from scipy.special import polygamma

    y = 0.5 + 1 / x
    for _ in range(50):
        tri = float(polygamma(1, y))
        step = tri * (1 - tri / x) / float(polygamma(2, y))
        y += step
        if -step / y < 1e-8:
            break
    return y
