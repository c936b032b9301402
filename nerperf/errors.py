"""The errors that mean "bad input": each names the file, line, checkpoint or option, and what to do.

The command line prints them and exits 2; the pytest plugin fails the affected tests with them. Any
other exception is a bug in nerperf and keeps its traceback.
"""

from __future__ import annotations


def input_errors() -> tuple[type[Exception], ...]:
    """The exception types of bad input (imported on call: the plugin must not import them early)."""
    from nerperf.checkpoints import CheckpointError
    from nerperf.conll import DataError
    from nerperf.hub import HubUnreachable
    from nerperf.labels import LabelError
    from nerperf.memory_budget import MemoryLimitError
    from nerperf.variants import VariantError

    return (DataError, CheckpointError, LabelError, HubUnreachable, VariantError, MemoryLimitError)
