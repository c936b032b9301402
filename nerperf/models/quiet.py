"""Silencing what libraries print about things nerperf already handles, and nothing else.

Three messages reached users' terminals on every run, each about something nerperf deals with itself:

- transformers' ``Loading weights`` progress bar, once per checkpoint and case: loading takes well under
  a second for these models, and the bar interleaves with pytest's output. :func:`no_loading_bar`
  turns transformers' bars off while nerperf loads, then restores the user's setting.
- transformers' ``Token indices sequence length is longer than the specified maximum sequence length``:
  nerperf splits such sentences into overlapping windows and counts them
  (``coverage.windowed_sentences``); :mod:`nerperf.models.alignment` asks the tokenizer not to warn.
- onnxruntime's quantizer's ``Please consider to run pre-processing before quantization``: the
  pre-processing it means (shape inference, graph optimization) is what nerperf's onnx variant already
  ran on the graph it quantizes. :func:`without_root_warning` drops that one record during the call.

Everything else (a real warning from any of them) still gets through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_loading_bar() -> Iterator[None]:
    """transformers' progress bars off for the duration, the user's setting restored after."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


class _DropMessage(logging.Filter):
    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.start)


@contextmanager
def without_root_warning(start: str) -> Iterator[None]:
    """Drop root-logger records whose message starts with ``start`` for the duration (onnxruntime logs
    through the root logger)."""
    dropped = _DropMessage(start)
    root = logging.getLogger()
    root.addFilter(dropped)  # logging.warning() logs on the root logger, whose filters see the record
    try:
        yield
    finally:
        root.removeFilter(dropped)
