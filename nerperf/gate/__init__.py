"""``nerperf gate`` and ``nerperf bisect``: did a change make accuracy or speed worse, and which commit did.

A verdict per case and measure, never a silent pass. The method (docs/gate.md), module by module:

- :mod:`.checkouts`: each side (BASE, HEAD) checked out at its commit as a git worktree and installed
  once in its own environment, reused while its requirement files do not change.
- :mod:`.rounds`: the sides run the suite (``pytest --benchmark-only``) in *pairs* of fresh processes,
  one process per side, started together; every process records its raw samples (:mod:`.samples`).
- :mod:`.lockstep`: within a pair the two processes take turns, one timed call each, so that both meet
  the machine in the same state; between-process noise is what the pairs then average.
- :mod:`.speed`: per case, batch-1 latency paired by sentence and throughput paired by batch; the log
  head/base ratio per pair of processes, the pairs being the units.
- :mod:`.moderation`: the comparisons of one measure share their variance (limma's moderated t), so
  that each is decided in fewer pairs.
- :mod:`.sequential`: the group-sequential rule looked at after every pair, from the minimum to the
  maximum pairs: boundaries that keep the false-alarm rate at its level over all looks and comparisons,
  and the verdicts ``slower``, ``same`` (no slowdown of the minimum effect), ``faster`` or
  ``inconclusive``; the gate stops as soon as every comparison is decided.
- :mod:`.accuracy`: the two sides' predictions compared word by word: every entity gained, lost,
  retyped or re-bounded, with its sentence, and ΔF1 with a paired interval.
- :mod:`.verdict`: the Markdown summary (a pull-request comment), the JSON record, the exit status.
- :mod:`.command`: ``nerperf gate``'s command line and its steps; exit 0 passed, 1 worse, 2 nothing
  could be compared.
- :mod:`.bisect` and :mod:`.bisect_command`: ``nerperf bisect GOOD BAD``, a binary search over the
  first-parent commits, each step a gate of GOOD against the commit.
"""
