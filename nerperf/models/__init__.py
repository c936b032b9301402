"""Checkpoints and running them: loading (local or hub, safely), the registry of names, architectures,
sub-word alignment, batching and timed inference. Below :mod:`nerperf.variants`, above :mod:`nerperf.data`."""
