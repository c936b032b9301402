"""``nerperf eval``: the table, the JSON, and clear errors for bad options and bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nerperf.cli import main
from nerperf.results import EvalResult


def test_eval_prints_tables_and_writes_json(
    bert_checkpoint: Path, conll_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    code = main(
        [
            "eval",
            "--model",
            str(bert_checkpoint),
            "--data",
            str(conll_file),
            "--batch-size",
            "2",
            "--bootstrap",
            "20",
            "--json",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "Accuracy  Precision  Recall" in printed and "Samples/s" in printed
    assert "Type  Precision  Recall" in printed and "MISC" in printed
    assert "matching: seqeval conlleval mode, IOB2" in printed
    assert "F1 95% bootstrap interval" in printed
    result = EvalResult.from_json(out.read_text())
    assert result.sentences == 5 and result.speed.batch_size == 2
    assert f"{result.f1:.4f}" in printed


BAD_OPTIONS = {
    "zero-batch": (["--batch-size", "0"], "'0' must be at least 1"),
    "word-limit": (["--limit", "many"], "'many' is not a whole number"),
    "unknown-scheme": (["--scheme", "bio"], "unknown tag scheme 'bio'"),
    "unknown-mode": (["--mode", "lenient"], "invalid choice: 'lenient'"),
    "negative-bootstrap": (["--bootstrap", "-5"], "'-5' must be at least 1"),
}


@pytest.mark.parametrize(("extra", "message"), BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_option_values(extra: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["eval", "--model", "m", "--data", "d", *extra])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_console_script(bert_checkpoint: Path, conll_file: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("nerperf")
    done = subprocess.run(
        [
            str(script),
            "eval",
            "--model",
            str(bert_checkpoint),
            "--data",
            str(conll_file),
            "--json",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "r.json").read_text())["sentences"] == 5


def test_unknown_or_unavailable_variant_exits_2(
    bert_checkpoint: Path, conll_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ["eval", "--model", str(bert_checkpoint), "--data", str(conll_file)]
    assert main([*base, "--variant", "int9"]) == 2
    assert "unknown variant 'int9': did you mean 'int8'?" in capsys.readouterr().err
    from nerperf import machine

    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset({"avx2"}))
    assert main([*base, "--variant", "bf16"]) == 2
    assert "unavailable: this CPU has no native bfloat16" in capsys.readouterr().err


def test_variants_lists_each_with_its_availability(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nerperf import machine

    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset({"avx2"}))
    assert main(["variants"]) == 0
    out = capsys.readouterr().out
    for name in ("fp32", "int8", "onnx", "onnx-int8", "bf16"):
        assert f"\n{name} " in f"\n{out}"
    assert "unavailable here: this CPU has no native bfloat16" in out
    assert "here: quantized on the x86 engine (FBGEMM, torch's default): no usable AMX here" in out
    from nerperf.variants import kernels

    amx = {"avx2", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16"}
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset(amx))
    monkeypatch.setattr(kernels, "amx_permitted", lambda: True)
    assert main(["variants"]) == 0
    out = capsys.readouterr().out
    assert "here: quantized on the onednn engine: AMX is usable" in out and "here: native bf16 on AMX tiles" in out
    assert "openvino-bf16 " in out and "unavailable here" not in out.split("openvino-bf16 ")[1].split("\n")[1]


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """``nerperf variants | head -1``: the pipe closes under the listing; the command ends quietly with the
    status a shell gives a process ended by SIGPIPE, not with Python's BrokenPipeError."""
    nerperf = subprocess.Popen(
        [str(Path(sys.executable).with_name("nerperf")), "variants"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert nerperf.stdout is not None
    nerperf.stdout.readline()
    nerperf.stdout.close()  # as head does, having its line
    _, stderr = nerperf.communicate(timeout=60)
    assert nerperf.returncode in (0, 141) and "Traceback" not in stderr, stderr
