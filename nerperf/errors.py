"""The two kinds of expected failure: bad input, and a case that cannot run here.

Every error nerperf raises on purpose derives from one of these, so the command line, the pytest
plugin and the asv suite each catch two classes, not a list kept in step with the modules:

- :class:`NerperfInputError`: bad input (a file, a checkpoint, a setting). The message names the file
  and line, the checkpoint or the option, and what to do. The command line prints it and exits 2; the
  plugin fails the affected tests with it.
- :class:`Unavailable`: the input is fine, but this machine or installation cannot run it (a variant
  the CPU lacks, weights out of reach). The plugin skips, asv shows ``n/a``, the command line exits 2.

Any other exception is a bug in nerperf and keeps its traceback.
"""

from __future__ import annotations


class NerperfInputError(ValueError):
    """Bad input; the message says what is wrong, where, and what to do."""


class Unavailable(Exception):
    """Cannot run on this machine or installation; the message says why (a skip, not a failure)."""


def caused_by_ctrl_c(error: BaseException) -> bool:
    """Whether ``error`` is Ctrl-C or was raised from one. A native extension imported at that moment
    (onnxruntime, through pybind11) turns the KeyboardInterrupt into ``ImportError: initialization
    failed`` with the interrupt as its ``__cause__``: without this, an interrupted run ends as a crash."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__
    return False
