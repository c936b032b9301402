"""Faults: a run stopped at a random point (Ctrl-C, or killed outright as an out-of-memory killer or a
CI timeout does) leaves every file whole or absent; two processes share the variant cache; the history
writers of pytest-benchmark and asv are atomic too.

The random points are drawn by hypothesis (one per job and signal by default, new ones on every run;
``NERPERF_FAULT_EXAMPLES=20`` for more) as a fraction of the measured length of the run, after the child has
imported everything, so that they fall in loading, the ONNX export and quantization, inference and the
writing of results.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from tiny import SENTENCES, write_conll

from nerperf.data.conll import read_conll
from nerperf.results import EvalResult
from nerperf.variants import cache

pytestmark = pytest.mark.slow  # child processes building real variants, interrupted and run again

EARLIER = b"an earlier run's output\n"
# The child imports what the run needs before saying "ready", so that the clock starts on the work.
CHILD = """
import sys
import onnxruntime, pytest, torch, transformers  # noqa
from nerperf.cli import main
print("ready", flush=True)
sys.exit(pytest.main(sys.argv[2:]) if sys.argv[1] == "pytest" else main(sys.argv[1:]))
"""
SUITE = "from nerperf.suite import test_f1_floor, test_latency, test_throughput\n"
FAULTS = {"ctrl-c": signal.SIGINT, "killed": signal.SIGKILL}
FAULT_EXAMPLES = int(os.environ.get("NERPERF_FAULT_EXAMPLES", "1"))  # per job and fault: one or two child runs


def start(arguments: list[str], cache_dir: Path, cwd: Path | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "NERPERF_CACHE_DIR": str(cache_dir), "HF_ENDPOINT": "http://127.0.0.1:9"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=cwd,
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def whole_result(path: Path) -> None:
    assert EvalResult.from_json(path.read_text()).sentences == len(SENTENCES)


def whole_predictions(path: Path) -> None:
    assert len(read_conll(path).sentences) == len(SENTENCES)


def whole_json(path: Path) -> None:
    json.loads(path.read_text())


def whole_table(path: Path) -> None:
    text = path.read_text()
    assert "| " in text and text.endswith("\n"), text


class Job:
    """A run of a tiny checkpoint's onnx-int8 variant (exported and quantized into a cold cache) with
    output files from an earlier run in place; ``outputs``: file name -> the check that it is whole."""

    def __init__(self, directory: Path, arguments: list[str], outputs: dict[str, Callable[[Path], None]]) -> None:
        self.directory, self.arguments, self.outputs = directory, arguments, outputs
        self.cache, self.out = directory / "cache", directory / "out"

    @classmethod
    def evaluation(cls, checkpoint: Path, directory: Path) -> Job:
        """``nerperf eval`` writing its JSON result and its predictions."""
        out = directory / "out"
        arguments = [
            "eval", "--model", str(checkpoint), "--data", str(write_conll(directory / "data.txt", SENTENCES)),
            "--variant", "onnx-int8", "--json", str(out / "result.json"), "--predictions", str(out / "predictions.txt"),
        ]  # fmt: skip
        return cls(directory, arguments, {"result.json": whole_result, "predictions.txt": whole_predictions})

    @classmethod
    def benchmark(cls, checkpoint: Path, directory: Path) -> Job:
        """The plugin's suite under ``--benchmark-only``: pytest-benchmark's JSON and saved run, nerperf's report."""
        out = directory / "out"
        (directory / "test_models.py").write_text(
            "from nerperf.suite import test_f1_floor, test_latency, test_throughput\n"
        )
        data = write_conll(directory / "data.txt", SENTENCES)
        arguments = [
            "pytest", "-p", "no:cacheprovider", "--benchmark-only", "--benchmark-min-rounds=20",
            f"--benchmark-json={out / 'benchmarks.json'}", f"--benchmark-storage=file://{out / 'saved'}",
            "--benchmark-autosave", f"--nerperf-checkpoints=tiny={checkpoint}", "--nerperf-baseline=tiny",
            "--nerperf-variant-tolerance=100",
            f"--nerperf-data={data}", "--nerperf-variants=fp32,onnx-int8", f"--nerperf-report={out / 'report'}",
            "test_models.py",
        ]  # fmt: skip
        outputs = {"benchmarks.json": whole_json, "report/results.json": whole_json, "report/summary.md": whole_table}
        return cls(directory, arguments, outputs)

    def reset(self) -> None:
        for path in (self.cache, self.out):
            shutil.rmtree(path, ignore_errors=True)
        for name in self.outputs:
            (self.out / name).parent.mkdir(parents=True, exist_ok=True)
            (self.out / name).write_bytes(EARLIER)

    def complete(self) -> float:
        """Run to the end; the seconds from "ready" to exit."""
        child = start(self.arguments, self.cache, self.directory)
        started = time.perf_counter()
        output, errors = child.communicate(timeout=300)
        assert child.returncode == 0, output[-3000:] + errors[-3000:]
        return time.perf_counter() - started

    def interrupt(self, after_s: float, fault: signal.Signals) -> int:
        child = start(self.arguments, self.cache, self.directory)
        time.sleep(after_s)
        child.send_signal(fault)
        child.communicate(timeout=300)
        return child.returncode

    def check_whole_or_earlier(self, fault: signal.Signals) -> None:
        for name, check in self.outputs.items():
            if (self.out / name).read_bytes() != EARLIER:
                check(self.out / name)
        for saved in self.out.rglob("*.json"):  # pytest-benchmark's saved runs among them
            if saved.read_bytes() != EARLIER:
                whole_json(saved)
        leftovers = [p.name for p in self.out.rglob("*") if p.is_file() and p.name.startswith(".")]
        self.cache.mkdir(exist_ok=True)
        for entry in (p for p in self.cache.iterdir() if not p.name.startswith(".") and p.is_dir()):
            assert cache.verify(entry) is not None, f"{entry.name} is in place but not whole"
        hidden = [p.name for p in self.cache.glob(".*")]
        if fault == signal.SIGINT:  # Python unwinds: every temporary file and directory is removed
            assert leftovers == [] and hidden == []
        else:  # killed outright: only temporary names may remain, never read as results
            assert all(name.endswith(".tmp") for name in leftovers), leftovers
            assert all(name.endswith((".building", ".stale")) for name in hidden), hidden


@pytest.fixture(scope="module", params=["evaluation", "benchmark"])
def job(
    request: pytest.FixtureRequest, bert_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Job, float]:
    """The job, and how long it takes from a cold cache."""
    job = getattr(Job, request.param)(bert_checkpoint, tmp_path_factory.mktemp(request.param))
    job.reset()
    return job, job.complete()


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
@settings(
    max_examples=FAULT_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a point is a moment, not a value
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(point=st.floats(min_value=0.0, max_value=1.1))
def test_an_interrupted_run_leaves_whole_files_or_the_earlier_ones(
    job: tuple[Job, float], fault: signal.Signals, point: float
) -> None:
    interrupted, duration = job
    interrupted.reset()
    code = interrupted.interrupt(point * duration, fault)
    interrupted.check_whole_or_earlier(fault)
    if fault == signal.SIGINT:
        # 130: nerperf's KeyboardInterrupt exit; 2: pytest's "interrupted"; 0: the signal came after the
        # end; -SIGINT: it came while the interpreter was shutting down, after the files were written.
        assert code in (0, 2, 130, -signal.SIGINT), f"Ctrl-C ended the run with exit code {code}"
        return
    interrupted.complete()  # the next run after the fault succeeds, and sweeps what a killed build left
    assert [p.name for p in interrupted.cache.glob(".*")] == []
    for name, check in interrupted.outputs.items():
        check(interrupted.out / name)


def test_two_processes_share_the_cache_and_build_once(bert_checkpoint: Path, tmp_path: Path) -> None:
    data = write_conll(tmp_path / "data.txt", SENTENCES)
    children = [
        start(
            [
                "eval",
                "--model",
                str(bert_checkpoint),
                "--data",
                str(data),
                "--variant",
                "onnx",
                "--json",
                str(tmp_path / f"result-{i}.json"),
            ],
            tmp_path / "cache",
        )  # fmt: skip
        for i in range(2)
    ]
    for child in children:
        _, errors = child.communicate(timeout=300)
        assert child.returncode == 0, errors
    results = [EvalResult.from_json((tmp_path / f"result-{i}.json").read_text()) for i in range(2)]
    assert sorted(r.build.from_cache for r in results) == [False, True]  # one built it, the other waited
    assert results[0].f1 == results[1].f1
    (entry,) = [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert cache.verify(entry) is not None


class Interrupting:
    """Serializing it raises KeyboardInterrupt: Ctrl-C in the middle of writing a file."""

    def __repr__(self) -> str:
        raise KeyboardInterrupt


def test_pytest_benchmarks_files_survive_an_interrupted_write(tmp_path: Path) -> None:
    from pytest_benchmark import session
    from pytest_benchmark.storage.file import FileStorage

    from nerperf.plugin.benchmark_internals import wrap_pytest_benchmark

    class Logger:
        def info(self, *args: object, **kwargs: object) -> None:
            pass

    assert sorted(wrap_pytest_benchmark()) == [
        "pytest_benchmark.session.BenchmarkSession.save_json",
        "pytest_benchmark.storage.file.FileStorage.save",
    ]
    target = tmp_path / "benchmarks.json"
    target.write_bytes(EARLIER)
    owner = type("Session", (), {"json": target, "logger": Logger()})()
    with pytest.raises(KeyboardInterrupt):
        session.BenchmarkSession.save_json(owner, {"benchmarks": [Interrupting()]})
    assert target.read_bytes() == EARLIER and sorted(p.name for p in tmp_path.iterdir()) == ["benchmarks.json"]
    session.BenchmarkSession.save_json(owner, {"benchmarks": []})
    assert json.loads(target.read_text()) == {"benchmarks": []}

    storage = FileStorage(tmp_path / "storage", Logger(), "Linux-CPython-3.11-64bit")
    with pytest.raises(KeyboardInterrupt):
        storage.save({"benchmarks": [Interrupting()]}, "run")
    assert list((tmp_path / "storage").rglob("*")) == [tmp_path / "storage" / "Linux-CPython-3.11-64bit"]
    storage.save({"benchmarks": []}, "run")
    assert [p.name for p in (tmp_path / "storage").rglob("*.json")] == ["0001_run.json"]


def test_a_pytest_benchmark_writer_that_changed_stops_the_run_naming_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Left as it was, an interrupted run could truncate saved benchmarks without anyone knowing."""
    from pytest_benchmark import session

    from nerperf.plugin.benchmark_internals import Unsupported, make_history_durable

    def save_json(self: object, output_json: object, indent: int) -> None:  # a release with another writer
        pass

    monkeypatch.setattr(session.BenchmarkSession, "save_json", save_json)
    with pytest.raises(Unsupported) as raised:
        make_history_durable()
    said = str(raised.value)
    assert said.startswith("nerperf: pytest-benchmark 5.") and "has pytest_benchmark.session.BenchmarkSession" in said
    assert "save_json('self', 'output_json', 'indent'), not the writer nerperf makes atomic" in said
    assert "so an interrupted run could truncate its saved benchmarks. nerperf supports pytest-benchmark >=" in said


def test_asv_results_survive_an_interrupted_write(tmp_path: Path) -> None:
    """asv's plugin machinery (as asv.conf.json's "plugins" entry drives it) makes write_json atomic."""
    from asv import util
    from asv.plugin_manager import plugin_manager

    plugin_manager.import_plugin(".nerperf.atomic")
    target = tmp_path / "results" / "machine" / "commit-env.json"
    util.write_json(str(target), {"results": {"ner.Speed.time_latency": [1.0]}}, api_version=2)
    earlier = target.read_bytes()
    with pytest.raises(TypeError):  # json.dump streams: half the file is written when it fails
        util.write_json(str(target), {"a": list(range(10_000)), "z": object()}, api_version=2)
    assert target.read_bytes() == earlier
    assert sorted(p.name for p in target.parent.iterdir()) == ["commit-env.json"]
    assert json.loads(earlier)["version"] == 2


def test_the_repository_asv_config_loads_the_plugin() -> None:
    from asv.config import Config

    config = Config.load(str(Path(__file__).parent.parent / "asv.conf.json"))
    assert config.plugins == [".nerperf.atomic"]
