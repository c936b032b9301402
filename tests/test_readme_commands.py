"""The README's `nerperf eval` and `nerperf report` commands, run exactly as written, from the repository's
root, defaults included (a test that passes its own absolute paths or options can hide a broken default)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
NERPERF = Path(sys.executable).with_name("nerperf")


def readme_commands(prefixes: tuple[str, ...]) -> list[str]:
    """The README's shell commands (continuation lines joined) that start with one of ``prefixes``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split("  #")[0].strip()
            if command.startswith(prefixes):
                found.append(command)
    return found


def run(command: str) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command)
    assert Path(words[0]).name == "nerperf"
    return subprocess.run([str(NERPERF), *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_the_readmes_eval_scores_the_whole_file_and_says_so(shared: Path) -> None:
    evals = readme_commands((".venv/bin/nerperf eval",))
    (command,) = [c for c in evals if "--data ../shared/" in c and "--variant" not in c]  # the plain one
    done = run(command)
    assert done.returncode == 0, done.stderr
    scored = re.search(r"data: \.\./shared/data/conll2003/valid\.txt, (\d+) of (\d+) sentences,", done.stdout)
    assert scored and scored.group(1) == scored.group(2), done.stdout  # the whole file, by default


@pytest.mark.slow
def test_the_readmes_calibrated_eval_on_a_data_file_names_the_training_file_beside_it(shared: Path) -> None:
    (command,) = [c for c in readme_commands((".venv/bin/nerperf eval",)) if "onnx-int8-static" in c]
    done = run(command)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^calibrated on: 300 sentences of \.\./shared/data/conll2003/train\.txt ", done.stdout, re.M)


@pytest.mark.slow
def test_the_readmes_two_machine_report(shared: Path) -> None:
    (command,) = [c for c in readme_commands(("nerperf report",)) if "../shared/measurements" in c]
    out = ROOT / "nerperf-report"
    shutil.rmtree(out, ignore_errors=True)
    try:
        done = run(command)
        assert done.returncode == 0, done.stderr
        page = (out / "report.md").read_text()
        assert "EPYC AVX-512 VNNI BF16, 2026-12-01" in page and "EPYC AVX-512 VNNI BF16, 2026-11-28" in page
        assert (out / "figures" / "fig3_f1_vs_samples_per_s.svg").is_file()
    finally:
        shutil.rmtree(out, ignore_errors=True)


@pytest.mark.slow
def test_the_readmes_tune_keeps_its_trials_in_its_default_out_when_interrupted(shared: Path) -> None:
    """The README's tune command as written, from the root (its default --out), on 40 sentences (the
    environment's NERPERF_SENTENCES; the whole default run is the 20-minute measurement in docs/tune.md),
    stopped with Ctrl-C's signal after its first trials: exit 130, the finished trials and a summary kept."""
    import os
    import signal
    import time

    (command,) = readme_commands((".venv/bin/nerperf tune",))
    out = ROOT / "nerperf-tune"
    shutil.rmtree(out, ignore_errors=True)
    environment = {**os.environ, "NERPERF_SENTENCES": "40"}
    child = subprocess.Popen([str(NERPERF), *shlex.split(command)[1:]], cwd=ROOT, env=environment, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(list((out / "trials").glob("*.json"))) < 3:
            time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=120)
        assert child.returncode == 130, stderr
        assert len(list((out / "trials").glob("*.json"))) >= 3
        assert "interrupted (Ctrl-C)" in (out / "summary.md").read_text() and "### Trials" in stdout
    finally:
        child.kill()
        shutil.rmtree(out, ignore_errors=True)
