"""Reading and scoring the inputs: column files and hub datasets, tag schemes, label maps, seqeval's and
nervaluate's scores. Imports nothing of nerperf above :mod:`nerperf.errors`, :mod:`nerperf.settings` and
:mod:`nerperf.atomic`."""
