"""``nerperf tune``: the fastest configuration of a checkpoint within an F1 floor, on this machine.

The space (:mod:`.space`): every variant that can run here, the thread counts, and for throughput the
batch size and token budget, searched in a documented hand order with pruning. Each trial (:mod:`.trials`)
is one ``evaluate()`` in this warm process, kept on disk as soon as it ends so an interrupted run resumes.
The leaders are then timed again in turns until their order is decided (:mod:`.leaders`), and the trials
make a Pareto frontier of F1 against speed and a winner per objective (:mod:`.frontier`), printed as a
table, drawn, and given as a block of settings to paste (:mod:`.command`).
"""
