"""Is the winner faster than the runner-up, or within the noise? Timed again in turns, and a t interval.

Each configuration was timed once in the search, minutes apart, and a machine's speed drifts within the
hour by more than the differences sought (docs/measurements.md). So the two fastest configurations within the floor are
timed again, in turns (A B, B A, A B, ...: drift hits both alike), :data:`ROUNDS` times each, and the
ratio of each pair's times is taken: the 95% t interval of the mean log ratio says whether the winner is
faster (the interval above 1), or within the noise (it holds 1), with the interval given either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from nerperf.tune.space import Config

ROUNDS = 6


@dataclass(frozen=True)
class Decision:
    """The runner-up's time over the winner's (above 1: the winner is faster), with its 95% interval."""

    winner: Config
    runner_up: Config
    ratio: float
    low: float
    high: float
    rounds: int

    @property
    def decided(self) -> bool:
        return self.low > 1.0

    @property
    def runner_up_won(self) -> bool:
        """Timed in turns, the runner-up was the faster (the whole interval below 1)."""
        return self.high < 1.0

    def interval(self) -> str:
        return f"x{self.ratio:.3f} (95% interval {self.low:.3f}-{self.high:.3f}, {self.rounds} pairs in turns)"

    def describe(self) -> str:
        interval = self.interval()
        if self.decided:
            return f"faster than {self.runner_up.key}: {interval}"
        if self.runner_up_won:
            return f"timed in turns, {self.runner_up.key} was faster: {interval}; it is the winner"
        return f"within the noise of {self.runner_up.key}: {interval}"


def decide(winner: Config, runner_up: Config, seconds: Callable[[Config], float], rounds: int = ROUNDS) -> Decision:
    """Time both in turns ``rounds`` times (``seconds(config)``: one timing, lower is faster)."""
    from scipy import stats

    logs = []
    for index in range(rounds):
        order = (winner, runner_up) if index % 2 == 0 else (runner_up, winner)
        timed = {config: seconds(config) for config in order}
        logs.append(math.log(timed[runner_up] / timed[winner]))
    mean = sum(logs) / len(logs)
    spread = stats.sem(logs) if len(logs) > 1 else math.inf
    if spread == 0:
        low = high = mean
    else:
        low, high = stats.t.interval(0.95, len(logs) - 1, loc=mean, scale=spread)
    return Decision(winner, runner_up, math.exp(mean), math.exp(low), math.exp(high), rounds)


def recommended(fastest: str, first: Decision | str | None, against: Decision | None) -> str:
    """The key tune recommends, from the ``fastest`` single trial within the floor and the timings in turns.

    The runner-up replaces it where it was the faster in turns (``first``); nerperf's defaults replace
    that where it was not faster than them in turns (``against``): a change is recommended only when it
    pays. ``decide``'s choice of what to time against the defaults and the report's winner both come from
    here, so they cannot disagree.
    """
    key = fastest
    if isinstance(first, Decision) and first.runner_up_won:
        key = first.runner_up.key
    if against is not None and not against.decided:
        key = against.runner_up.key
    return key
