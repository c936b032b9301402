"""``nerperf gate`` and ``nerperf bisect``: did a change make accuracy or speed worse, and which commit did.

A verdict per case and measure, never a silent pass. The method is docs/gate.md; module by module:

- :mod:`.options`: the gate's and bisect's options, typed and frozen, built once from the command line.
- :mod:`.checkouts`: each side (BASE, HEAD) checked out at its commit as a git worktree; one
  environment for both where their requirement files match (each side importing its own checkout), else
  one each, reused while those files do not change; a side that cannot be installed or run raises
  :class:`.checkouts.SideFailed`, naming the side and the stage.
- :mod:`.import_guard`: a stand-alone pytest plugin every round loads, naming the modules it took from
  the other side's checkout (or the repository), which the gate refuses to compare.
- :mod:`.rounds`: the sides run the suite (``pytest --benchmark-only``) in *pairs* of fresh processes
  that take turns in **lockstep** (:mod:`nerperf.processes.lockstep`, below both the gate and the plugin),
  one timed call each; every process leaves its raw samples (:mod:`nerperf.processes.samples`). After
  the first looks, *narrowing* times only the measure still undecided.
- :mod:`.speed`: per case, batch-1 latency paired by sentence and throughput paired by batch; the log
  head/base ratio per pair of processes, the pairs being the units.
- :mod:`.moderation`: the comparisons of one measure share their variance (limma's moderated t), so
  that each is decided in fewer pairs.
- :mod:`.sequential`: the **sequential rule**, a group-sequential design looked at after every pair:
  alpha-spending boundaries that keep the false-alarm rate at its level over all looks and comparisons,
  and the one verdict type (:data:`.sequential.Verdict`: ``slower``, ``same``, ``faster``,
  ``inconclusive``, ``undecided``); the gate stops as soon as every comparison is decided.
- :mod:`.simulation`: the same rule vectorized over thousands of simulated gates, for its error rates
  and cost (the tests hold :func:`.speed.judge` to it verdict by verdict).
- :mod:`.accuracy`: the two sides' predictions compared word by word: every entity gained, lost,
  retyped or re-bounded, with its sentence, and ΔF1 with a paired bootstrap interval.
- :mod:`.verdict`: the Markdown summary (a pull-request comment), the JSON record, the exit status.
- :mod:`.command`: ``nerperf gate``'s command line and its steps; exit 0 passed, 1 worse, 2 nothing
  could be compared, 130 or 143 cancelled.
- :mod:`.bisect` and :mod:`.bisect_command`: ``nerperf bisect GOOD BAD``, a binary search over the
  first-parent commits, each step a gate of GOOD against the commit; the culprit's own gate against its
  parent; a crash exits 2, never 1.
"""
