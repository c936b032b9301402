"""Child processes (:mod:`nerperf.processes.children`): `nerperf gate` and `nerperf parallel` leave none behind.

Each command runs, as a user would, from the root of a small project whose one benchmark sleeps for a
minute, and gets SIGTERM (a cancelled CI job) at a point hypothesis draws within its first seconds
(after its imports, a second, as the interrupted-run tests of tests/test_interruptions.py do):
while it checks out, while its children start, or while they run. Within 5 seconds no process of its
tree may be left (found by a marker variable every child inherits), and the files it wrote are whole.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nerperf.processes.children import Children, absolute

SLOW_BENCHMARK = """\
import time


def test_sleeps(benchmark):
    benchmark.pedantic(time.sleep, args=(60,), rounds=1, iterations=1)
"""
MARKER = "NERPERF_TEST_CHILDREN_MARKER"
EXAMPLES = settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def marked(marker: str) -> list[int]:
    """Every process whose environment holds ``MARKER=marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"{MARKER}={marker}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue  # gone, or not ours to read
    return found


def terminate_after(command: list[str], cwd: Path, delay: float) -> tuple[int, str, list[int]]:
    """Run ``command``, SIGTERM it after ``delay`` s; its status, its stderr, and its tree's processes 5 s on."""
    marker = uuid.uuid4().hex
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NERPERF_")}
    environment.update({MARKER: marker, "NERPERF_CACHE_DIR": str(cwd.parent / "cache")})  # never ~/.cache
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        return -1, stderr.decode(), marked(marker)
    deadline = time.monotonic() + 5
    while marked(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return process.returncode, stderr.decode(), marked(marker)


@pytest.fixture
def slow_project(tmp_path: Path) -> Path:
    """A git repository whose suite is one benchmark that sleeps for a minute."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "test_slow.py").write_text(SLOW_BENCHMARK)
    for arguments in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "slow"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=root, check=True)
    return root


NERPERF = str(Path(sys.executable).with_name("nerperf"))


@pytest.mark.slow
@EXAMPLES
@given(delay=st.floats(min_value=1.0, max_value=4.0))
def test_a_gate_terminated_leaves_no_process_and_a_whole_summary(slow_project: Path, delay: float) -> None:
    command = [NERPERF, "gate", "main", "main", "--no-install", "--json", "nerperf-gate/gate.json"]
    status, stderr, left = terminate_after([*command, "--", "test_slow.py"], slow_project, delay)
    assert left == [] and status == 143, stderr
    record = json.loads((slow_project / "nerperf-gate" / "gate.json").read_text())  # whole, saying why
    assert record["status"] == 143 and record["reason"].startswith("interrupted by SIGTERM; stopped: ")
    assert "interrupted by SIGTERM" in (slow_project / "nerperf-gate" / "summary.md").read_text()
    assert not list(slow_project.rglob(".*.tmp"))


@pytest.mark.slow
@EXAMPLES
@given(delay=st.floats(min_value=1.0, max_value=4.0))
def test_parallel_terminated_leaves_no_process(slow_project: Path, delay: float) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("nerperf parallel 2 needs 2 cores")
    status, stderr, left = terminate_after([NERPERF, "parallel", "2", "--", "test_slow.py"], slow_project, delay)
    assert left == [] and status == 143, stderr
    assert not list(slow_project.rglob(".*.tmp"))


@pytest.mark.slow
def test_a_gate_terminated_while_its_rounds_run_names_them(slow_project: Path) -> None:
    """Late enough that both sides' pytest are running: the summary names both as stopped."""
    command = [NERPERF, "gate", "main", "--no-install", "--", "test_slow.py"]
    status, stderr, left = terminate_after(command, slow_project, 6.0)
    assert left == [] and status == 143, stderr
    reason = json.loads((slow_project / "nerperf-gate" / "gate.json").read_text())["reason"]
    assert "the base side's pytest (pair 1)" in reason and "the head side's pytest (pair 1)" in reason


def test_children_get_absolute_paths_only(tmp_path: Path) -> None:
    with Children() as children, pytest.raises(ValueError, match="relative; hand children absolute paths"):
        children.start("x", ["true"], cwd=Path("."), log=tmp_path / "log")
    assert absolute("out").is_absolute() and absolute("out") == Path.cwd() / "out"


def test_a_child_is_pinned_after_it_starts(tmp_path: Path) -> None:
    """Affinity is the child's own (set by the parent on its pid), not this process's."""
    cores = sorted(os.sched_getaffinity(0))[:1]
    with Children() as children:
        child = children.start(
            "pinned", [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
            cwd=tmp_path, log=tmp_path / "log", cores=cores,
        )  # fmt: skip
        assert children.wait(child) == 0
    assert (tmp_path / "log").read_text().strip() == str(cores)


def test_an_exception_stops_the_children_and_names_them(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), Children() as children:
        child = children.start("sleeper", ["sleep", "60"], cwd=tmp_path, log=tmp_path / "log")
        raise RuntimeError("the parent failed")
    assert child.process.returncode == -signal.SIGTERM and children.killed == ["sleeper"]
