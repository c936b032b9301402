"""``nerperf gate``: did this pull request make accuracy or speed worse? A verdict per case, never a silent pass.

The method, module by module:

- :mod:`.checkouts`: each side (BASE, HEAD) checked out at its commit and installed once in its own
  environment, reused while its requirements do not change.
- :mod:`.rounds`: the sides run the suite (``pytest --benchmark-only``) in alternating rounds, a fresh
  process each, in a balanced order (base, head, head, base, ...) so that the machine's drift cancels;
  every round records its raw samples (:mod:`nerperf.gate.samples`).
- :mod:`.speed`: per case, batch-1 latency paired by sentence and throughput paired by batch; the
  head/base ratio with a bootstrap interval over the pairs of rounds, a minimum effect, Holm's
  correction for the many comparisons, and a verdict: slower, faster, same or inconclusive.
- :mod:`.accuracy`: the two sides' predictions compared word by word: every entity gained, lost,
  retyped or re-bounded, with the sentence and words, and ΔF1 with a paired bootstrap interval.
- :mod:`.verdict`: the Markdown summary (a pull-request comment) and the JSON record.
- :mod:`.command`: the command line and its exit status: 0 passed, 1 worse, 2 nothing could be compared.
"""
