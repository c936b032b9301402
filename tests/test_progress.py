"""The status line: shown and erased in place on a terminal, absent where output is not one."""

from __future__ import annotations

import io
import os
import sys

import pytest

from nerperf.progress import SILENT, Status, on_stream


def written(enabled: bool = True, columns: int = 80, column: int = 0) -> tuple[Status, list[str]]:
    out: list[str] = []
    return Status(out.append, enabled, column=lambda: column), out


def test_a_status_is_written_then_erased_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.get_terminal_size", lambda: os.terminal_size((80, 24)))
    status, out = written()
    status.show("nerperf a-fp32: evaluating 1000 sentences")
    status.show("nerperf a-fp32: timing")
    status.clear()
    status.clear()  # nothing left to erase
    first = len("nerperf a-fp32: evaluating 1000 sentences")
    assert out == [
        "nerperf a-fp32: evaluating 1000 sentences",
        "\b" * first + " " * first + "\b" * first,  # erased with backspaces: the line before it stays
        "nerperf a-fp32: timing",
        "\b" * 22 + " " * 22 + "\b" * 22,
    ]


def test_a_status_never_wraps_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.get_terminal_size", lambda: os.terminal_size((40, 24)))
    status, out = written(column=10)  # pytest's dots take 10 columns: 29 left
    status.show("nerperf minilm-l6-conll03-onnx-int8: building onnx-int8")
    assert out == ["nerperf minilm-l6-conll03-onnx-…"[:28] + "…"] and len(out[0]) == 29
    crowded, nothing = written(column=25)  # 14 left: less than the minimum, so nothing at all
    crowded.show("nerperf x: evaluating")
    assert nothing == []


def test_off_where_output_is_not_a_terminal() -> None:
    stream = io.StringIO()
    status = on_stream(stream)
    status.show("nerperf x: evaluating")
    status.clear()
    assert not status.enabled and stream.getvalue() == ""
    SILENT.show("anything")  # the default: a no-op


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("args", "enabled"), [((), True), (("-q",), False)])
def test_the_plugin_shows_it_on_a_terminal_unless_quiet(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], enabled: bool
) -> None:
    from nerperf.plugin import terminal_status

    config = pytester.parseconfigure(*args)
    monkeypatch.setattr(sys, "__stdout__", _Terminal())
    assert terminal_status(config).enabled is enabled
    monkeypatch.setattr(sys, "__stdout__", io.StringIO())  # a CI log or a pipe
    assert terminal_status(config).enabled is False
