"""``nerperf bisect``: the search on simulated comparisons, asv's steps read from published pages, and the
command end to end on a tiny project whose history changes one thing at one commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_gate import PROJECT_CONFTEST, git, write_project

from nerperf.cli import main
from nerperf.gate import bisect


def monotone(step: int, skipped: frozenset[int] = frozenset(), unsure: frozenset[int] = frozenset()):
    calls: list[int] = []

    def judge(index: int) -> str:
        calls.append(index)
        if index in skipped:
            return bisect.SKIP
        if index in unsure:
            return bisect.UNSURE
        return bisect.BAD if index >= step else bisect.GOOD

    return judge, calls


@given(count=st.integers(2, 64), data=st.data())
def test_a_monotone_step_is_found_in_a_logarithm_of_comparisons(count: int, data: st.DataObject) -> None:
    step = data.draw(st.integers(1, count - 1))
    judge, calls = monotone(step)
    found = bisect.conclusion(count, bisect.search(count, judge))
    assert found.culprit == step
    assert len(calls) <= max(1, (count - 2).bit_length())  # binary search between GOOD and BAD
    assert len(set(calls)) == len(calls)  # no commit judged twice


def test_sixteen_commits_take_four_steps_and_an_uninstallable_one_is_skipped() -> None:
    judge, calls = monotone(11)
    assert bisect.conclusion(16, bisect.search(16, judge)).culprit == 11 and len(calls) == 4
    judge, calls = monotone(11, skipped=frozenset({7, 8}))
    judged = bisect.search(16, judge)
    assert bisect.conclusion(16, judged).culprit == 11 and {7, 8} <= set(calls) and len(calls) <= 6


def test_skipped_commits_around_the_step_leave_a_range_not_a_guess() -> None:
    judge, _ = monotone(5, skipped=frozenset({4, 5}))
    found = bisect.conclusion(16, bisect.search(16, judge))
    assert found.culprit is None and (found.low, found.high) == (3, 6)
    assert "one of commits 4 to 6" in found.why and "could not be installed or run" in found.why


def test_an_inconclusive_middle_ends_the_search_with_the_range_left() -> None:
    judge, calls = monotone(11, unsure=frozenset({7}))
    found = bisect.conclusion(16, bisect.search(16, judge))
    assert calls == [7] and found.culprit is None and (found.low, found.high) == (0, 15)
    assert "stayed inconclusive" in found.why and "--max-pairs" in found.why


def test_no_step_points_at_bad_for_the_command_to_check_against_good() -> None:
    judge, _ = monotone(99)  # every commit judged like GOOD
    assert bisect.conclusion(16, bisect.search(16, judge)).culprit == 15


def published_pages(html: Path) -> None:
    """What `asv publish` writes for one step: regressions.json (revisions) and index.json (their hashes)."""
    html.mkdir(parents=True)
    regressions = [
        ["ner.Speed.time_latency('minilm-l6-conll03-onnx-int8')", "graphs/x.json", {}, 3, 0.006, 0.005,
         [[4, 5, 0.005, 0.0055]]],
        ["ner.Accuracy.track_f1_error('minilm-l3-conll03-int8')", "graphs/y.json", {}, 1, 11.3, 11.1,
         [[None, 7, 11.1, 11.3]]],
    ]  # fmt: skip
    (html / "regressions.json").write_text(json.dumps({"regressions": regressions}))
    hashes = {str(r): f"{r:02d}" * 20 for r in range(1, 9)}
    (html / "index.json").write_text(json.dumps({"revision_to_hash": hashes}))


def test_asv_steps_are_read_from_the_published_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    published_pages(tmp_path / "html")
    latency, accuracy = bisect.asv_steps(tmp_path / "html")
    assert (latency.case, latency.measure, latency.before[:2], latency.after[:2]) == (
        "minilm-l6-conll03-onnx-int8", "latency", "04", "05",
    )  # fmt: skip
    assert accuracy.measure == "accuracy" and accuracy.before == "" and accuracy.after == "07" * 20
    assert main(["bisect", "--from-asv", str(tmp_path / "html")]) == 0
    listed = capsys.readouterr().out
    assert "1. minilm-l6-conll03-onnx-int8 latency (ner.Speed.time_latency): x1.10 between 0404040404" in listed
    assert f"nerperf bisect --from-asv {tmp_path / 'html'} --step 2" in listed
    assert main(["bisect", "--from-asv", str(tmp_path / "html"), "--step", "3"]) == 2
    assert "--step 3: asv found 2 steps" in capsys.readouterr().err
    assert main(["bisect", "--from-asv", str(tmp_path)]) == 2
    assert "not asv's published pages" in capsys.readouterr().err


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, bert_checkpoint: Path) -> tuple[Path, list[str]]:
    """A project of five commits whose fourth (index 3) swaps two labels: changed predictions from there on."""
    root = tmp_path_factory.mktemp("history")
    write_project(root, bert_checkpoint, 2)
    git(root, "init", "-q", "-b", "main")
    commits = []
    for index in range(5):
        (root / "conftest.py").write_text(PROJECT_CONFTEST.format(nap=0.0, swap=index >= 3))
        (root / "notes.txt").write_text(f"commit {index}\n")
        git(root, "add", ".")
        git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"commit {index}")
        commits.append(subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                      text=True, check=True).stdout.strip())  # fmt: skip
    return root, commits


@pytest.mark.slow
def test_bisect_finds_the_commit_that_changed_the_predictions(history: tuple[Path, list[str]], tmp_path: Path) -> None:
    """Run as a user would, from the project's root, default --out; accuracy mode, 2 pairs a step."""
    root, commits = history
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NERPERF_")}
    environment.update(HF_ENDPOINT="http://127.0.0.1:9", NERPERF_CACHE_DIR=str(tmp_path / "cache"))
    command = [str(Path(sys.executable).with_name("nerperf")), "bisect", commits[0], commits[4], "--case",
               "tiny-changed", "--measure", "accuracy", "--no-install"]  # fmt: skip
    done = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    record = json.loads((root / "nerperf-bisect" / "bisect.json").read_text())
    assert record["culprit"]["commit"] == commits[3] and record["culprit"]["subject"] == "commit 3"
    assert record["comparisons"] <= 3 and [s["verdict"] for s in record["steps"]] == ["good", "bad"]
    summary = (root / "nerperf-bisect" / "summary.md").read_text()
    assert f"**Culprit** for tiny-changed accuracy: `{commits[3][:10]}` commit 3" in summary
    assert "### The culprit against its parent: bad" in summary and "Entity changes" in summary
    assert record["culprit"]["verdict_against_parent"] == "bad"  # the culprit's own gate, not dropped


def test_the_report_lists_asvs_steps_with_the_command_that_bisects_each(tmp_path: Path) -> None:
    """`nerperf report --asv DIR`: the history's steps, each with its `nerperf bisect` command, in both pages."""
    import html

    from tiny import made_up_result

    published_pages(tmp_path / "html")
    result = tmp_path / "result.json"
    made_up_result(0.9, "minilm-l6-conll03", "onnx-int8").save(result)
    out = tmp_path / "report"
    assert main(["report", str(result), "--asv", str(tmp_path / "html"), "--out", str(out)]) == 0
    command = f"nerperf bisect --from-asv {tmp_path / 'html'} --step 2"
    for page in ("report.md", "report.html"):
        text = html.unescape((out / page).read_text())
        assert "A step in asv's history: minilm-l6-conll03-onnx-int8 latency" in text and command in text, page


@pytest.fixture
def four_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A git repository of four empty commits, the working directory: what bisect reads before any gate."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for index in range(4):
        git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", f"c{index}")
    monkeypatch.chdir(root)
    log = subprocess.run(["git", "-C", str(root), "log", "--format=%H", "--reverse"], capture_output=True, text=True)
    return log.stdout.split()


def bisect_with_gate(commits: list[str], gate: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple:
    from nerperf.gate import command

    monkeypatch.setattr(command, "gate", gate)
    status = main(["bisect", commits[0], commits[-1], "--case", "c-fp32", "--no-install", "--out", str(tmp_path / "o")])
    return status, json.loads((tmp_path / "o" / "bisect.json").read_text())


def test_a_bug_inside_bisect_exits_2_with_its_traceback_never_1_no_step(
    four_commits: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def gate(*args: object) -> None:
        raise KeyError("a bug in nerperf")

    status, record = bisect_with_gate(four_commits, gate, monkeypatch, tmp_path)
    assert status == 2 and record["status"] == 2  # 1 would tell CI "GOOD and BAD are alike"
    assert "nerperf bisect failed (KeyError: 'a bug in nerperf'); this is a bug in nerperf" in record["reason"]
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_which_side_failed_is_read_from_the_error_not_its_wording(
    four_commits: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from nerperf.gate.checkouts import SideFailed

    def base_fails(*args: object) -> None:  # worded without "the base side"
        raise SideFailed("pip could not resolve torch>=9", "base", "install")

    status, record = bisect_with_gate(four_commits, base_fails, monkeypatch, tmp_path)
    assert status == 2 and record["reason"].startswith(f"GOOD ({four_commits[0][:10]}) cannot be installed: pip")

    def head_fails(*args: object) -> None:  # worded with it, as a head's message may quote the base
        raise SideFailed("the base side's lock differs; the head side's pytest could not run", "head", "run")

    status, record = bisect_with_gate(four_commits, head_fails, monkeypatch, tmp_path)
    assert status == 2 and {s["verdict"] for s in record["steps"]} == {bisect.SKIP}  # every commit skipped
    assert "could not be installed or run" in record["why"]
