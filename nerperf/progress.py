"""A status line for long work: which case, and whether it is loading, building, evaluating or timing.

The main job runs for minutes with nothing on screen between pytest's dots. On a terminal, nerperf
writes what it is doing after the current output and erases it before anything else is written (with
backspaces, so pytest's line of dots stays as it was). Where output is not a terminal (CI logs, pipes)
or pytest runs with ``-q``, it writes nothing: logs stay as they were.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

MIN_WIDTH = 20  # below this much room left on the line, show nothing rather than wrap


class Status:
    """A transient status written with ``write`` after column ``column()`` of the current line.

    ``enabled`` False (no terminal, or ``-q``) makes every call a no-op.
    """

    def __init__(self, write: Callable[[str], None], enabled: bool, column: Callable[[], int] = lambda: 0) -> None:
        self.write = write
        self.enabled = enabled
        self.column = column
        self._shown = 0

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        self.clear()
        room = shutil.get_terminal_size().columns - self.column() - 1
        if room < MIN_WIDTH:
            return
        text = text if len(text) <= room else text[: room - 1] + "…"
        self.write(text)
        self._shown = len(text)

    def clear(self) -> None:
        if self._shown:
            self.write("\b" * self._shown + " " * self._shown + "\b" * self._shown)
            self._shown = 0


SILENT = Status(lambda text: None, enabled=False)


def on_stream(stream: object) -> Status:
    """A status on ``stream`` (``nerperf eval``'s stderr), enabled only if it is a terminal."""

    def write(text: str) -> None:
        stream.write(text)  # type: ignore[attr-defined]
        stream.flush()  # type: ignore[attr-defined]

    return Status(write, enabled=_isatty(stream))


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False
