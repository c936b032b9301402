"""How the gate's processes are set up (hash seed, CPU set, thread binding): parsed and refused with a
reason, handed to both sides' every process, and said in the summary and the JSON."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_gate import outcome as gate_outcome

from nerperf.gate import rounds, verdict
from nerperf.gate.checkouts import Side, SideFailed
from nerperf.machine import one_cpu_per_core
from nerperf.processes.setup import ProcessSetup, parse_cpus

USABLE = sorted(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    "text, cpus", [(str(USABLE[0]), (USABLE[0],)), (f"{USABLE[0]}-{USABLE[-1]}", tuple(USABLE))], ids=["one", "range"]
)
def test_a_cpu_list_reads_as_linux_writes_it(text: str, cpus: tuple[int, ...]) -> None:
    assert parse_cpus(text) == cpus


@pytest.mark.parametrize("text", ["", "a-b", "0-", "9999"])
def test_a_cpu_list_this_process_cannot_use_is_refused_saying_which_it_can(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="CPU list|may use CPUs"):
        parse_cpus(text)


@pytest.mark.parametrize("option", [["--cpus", "9999"], ["--hash-seed", "-1"], ["--hash-seed", "x"]])
def test_the_gate_refuses_a_bad_setup_before_any_work(option: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nerperf.cli", "gate", "main", *option], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and option[0] in done.stderr and "Traceback" not in done.stderr


def test_every_process_of_both_sides_gets_the_setup(tmp_path: Path) -> None:
    """Both processes of a pair start with the seed and the binding in their environment, pinned to the CPUs."""
    started = []

    class Recording:
        def start(self, name: str, command: list[str], **options: object) -> str:
            started.append(options)
            return name

        def wait(self, child: str) -> int:
            return 0  # exited, but wrote no results.json: the gate stops after this pair

    sides = {name: Side(name, name, name[0] * 40, tmp_path, Path(sys.executable)) for name in ("base", "head")}
    setup = ProcessSetup(hash_seed=7, cpus=(USABLE[0],), bind_threads=True)
    with pytest.raises(SideFailed):
        rounds.run_rounds(sides, 1, tmp_path, {}, [], Recording(), lambda line: None, setup=setup)  # type: ignore[arg-type]
    assert len(started) == 2
    for options in started:
        environment = options["environment"]
        assert environment["PYTHONHASHSEED"] == "7" and options["cores"] == (USABLE[0],)
        # one OpenMP thread per core of the set, bound to it: here one
        assert environment["GOMP_CPU_AFFINITY"] == str(USABLE[0]) and environment["OMP_NUM_THREADS"] == "1"
        assert environment["NERPERF_BOUND_CPUS"] == str(USABLE[0])  # onnxruntime's workers bound within them


def test_without_a_setup_nothing_is_fixed(tmp_path: Path) -> None:
    assert ProcessSetup().environment() == {}


def test_the_summary_and_the_json_say_how_the_processes_were_set_up() -> None:
    outcome = gate_outcome(setup=ProcessSetup(hash_seed=0, cpus=(0, 1), bind_threads=True))
    assert "processes: PYTHONHASHSEED=0; pinned to CPUs 0-1; OpenMP threads bound to cores" in verdict.markdown(outcome)
    recorded = json.loads(verdict.record(outcome))["rounds"]["setup"]
    assert recorded == {"hash_seed": 0, "cpus": [0, 1], "bind_threads": True}


@pytest.mark.slow  # two processes importing torch and onnxruntime
@pytest.mark.skipif(len(USABLE) < 2, reason="binding threads apart needs two CPUs")
def test_with_threads_bound_onnxruntimes_worker_runs_on_the_other_core(tmp_path: Path) -> None:
    """libgomp binds the main thread to one core as torch loads, and a thread started from it inherits that
    core: onnxruntime's worker would share it (batched throughput a third slower, docs/gate.md). Under the
    gate's --bind-threads the worker is bound to the process's other core instead."""
    pytest.importorskip("onnxruntime")
    script = tmp_path / "placed.py"
    script.write_text(
        "import os, pathlib, sys, time, numpy, onnx, torch\n"
        "from onnx import helper, TensorProto\n"
        "from nerperf.variants.onnx_variants import session_forward\n"
        "x = helper.make_tensor_value_info('input_ids', TensorProto.FLOAT, [None, 64])\n"
        "y = helper.make_tensor_value_info('logits', TensorProto.FLOAT, [None, 64])\n"
        "w = helper.make_tensor('w', TensorProto.FLOAT, [64, 64], numpy.ones(64 * 64, 'float32'))\n"
        "graph = helper.make_graph([helper.make_node('MatMul', ['input_ids', 'w'], ['logits'])], 'g', [x], [y], [w])\n"
        "model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])\n"
        "onnx.save(model, sys.argv[1] + '/model.onnx')\n"
        "inputs = {'input_ids': torch.ones(4096, 64) * 2}  # torch's own pool started first\n"
        "before = {t.name for t in pathlib.Path('/proc/self/task').iterdir()}\n"
        "forward = session_forward(pathlib.Path(sys.argv[1]), 2, spin=False)\n"
        "forward(inputs)\n"
        "# a worker sets its own affinity once it first runs, which a busy machine may delay: wait for it\n"
        "deadline = time.monotonic() + 3\n"
        "while True:\n"
        "    pool = [t for t in pathlib.Path('/proc/self/task').iterdir() if t.name not in before]\n"
        "    placed = [sorted(os.sched_getaffinity(int(t.name))) for t in pool]\n"
        "    if any(p != sorted(os.sched_getaffinity(0)) for p in placed) or time.monotonic() > deadline:\n"
        "        break\n"
        "    time.sleep(0.05)\n"
        "print('\\n'.join(str(p) for p in placed))\n"
    )
    first, second = USABLE[0], USABLE[1]
    environment = {**os.environ, **ProcessSetup(cpus=(first, second), bind_threads=True).environment()}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], env=environment, capture_output=True, text=True, check=True
    )
    assert str([second]) in done.stdout.splitlines()  # its worker, on the core the main thread left free
    environment.pop("NERPERF_BOUND_CPUS")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], env=environment, capture_output=True, text=True, check=True
    )
    assert set(done.stdout.splitlines()) == {str([first])}  # without it, every one on the main thread's core


@pytest.mark.slow  # processes importing torch and scikit-learn
@pytest.mark.skipif(len(one_cpu_per_core(USABLE)) < 2, reason="two cores to bind threads to")
def test_with_threads_bound_torch_takes_a_thread_per_core_whoever_loaded_openmp_first() -> None:
    """scikit-learn (seqeval imports it) loads an OpenMP runtime of its own, which binds the main thread to
    one core before torch's loads: with ``OMP_PLACES=cores`` torch's then saw one core, took one thread, and
    put a second one on the same core. The setup's explicit list gives torch a thread on each core."""
    pytest.importorskip("sklearn")
    script = (  # as pytest loads nerperf's plugin, then the suite imports seqeval (scikit-learn), then times
        "import ctypes, json, os, pathlib, nerperf.plugin, seqeval.metrics, torch\n"
        "from nerperf.processes.setup import bind_main_thread, release_main_thread\n"
        "starting = sorted(os.sched_getaffinity(0))\n"
        "bind_main_thread()\n"
        "x = torch.ones(512, 512)\n"
        "for _ in range(20): x @ x\n"
        "tasks = [int(t.name) for t in pathlib.Path('/proc/self/task').iterdir()]\n"
        "runtime = ctypes.CDLL(next(pathlib.Path(torch.__file__).parent.glob('lib/libgomp*.so*')))\n"
        "timing = sorted(os.sched_getaffinity(0))\n"
        "placed = sorted({tuple(sorted(os.sched_getaffinity(t))) for t in tasks})\n"
        "release_main_thread()  # the tests done, as Lockstep.finish does\n"
        "print(json.dumps([torch.get_num_threads(), runtime.omp_get_num_procs(), timing, starting, placed,"
        " sorted(os.sched_getaffinity(0))]))\n"
    )
    first, second = one_cpu_per_core(USABLE)[:2]
    environment = {**os.environ, **ProcessSetup(cpus=(first, second), bind_threads=True).environment()}
    environment.pop("NERPERF_THREADS", None)

    def threads_cpus_and_cores(variables: dict[str, str]) -> list[Any]:
        done = subprocess.run([sys.executable, "-c", script], env=variables, capture_output=True, text=True, check=True)
        threads, cpus, timing, starting, placed, ending = json.loads(done.stdout)
        return [threads, cpus, timing, starting, [tuple(p) for p in placed], ending]

    threads, cpus, timing, starting, placed, ending = threads_cpus_and_cores(environment)
    assert threads == 2 and (second,) in placed  # torch's second thread, alone on the other core
    assert timing == [first] and (first,) in placed  # the main thread times on the first core
    assert starting == [first, second]  # and started up on both, beside the partner's start-up
    assert ending == [first, second]  # and ends on both, beside the partner's summary, files and exit
    assert cpus == 2  # torch's runtime counted both CPUs: it spins between regions as it does unbound
    environment.pop("NERPERF_BOUND_CPUS")  # no torch as the plugin loads: scikit-learn's runtime binds first
    threads, cpus, timing, starting, placed, ending = threads_cpus_and_cores(environment)
    assert (threads, cpus, starting) == (2, 1, [first])  # placed right, but counts one CPU: throttled spin
    assert ending == [first]  # nothing bound as the plugin loaded: nothing released either
    for name in ("GOMP_CPU_AFFINITY", "OMP_NUM_THREADS"):
        environment.pop(name)
    unbound = {**environment, "OMP_PROC_BIND": "close", "OMP_PLACES": "cores"}
    threads, cpus, *_, placed, _ = threads_cpus_and_cores(unbound)
    assert threads == 1 and (second,) not in placed  # what 0.12's binding did


@pytest.mark.parametrize("shipped", [[], ["libgomp.so.1"], ["libgomp.so.1", "libgomp-a34b3233.so.1"]])
def test_torchs_openmp_runtime_is_loaded_ahead_of_torch_only_where_it_ships_one(
    shipped: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One copy beside torch is the one torch loads; with none (another build) or several, which one torch
    links is not known, and loading the wrong one would put two OpenMP runtimes in the process."""
    import ctypes
    import importlib.util

    from nerperf.processes import setup

    (tmp_path / "torch" / "lib").mkdir(parents=True)
    for name in shipped:
        (tmp_path / "torch" / "lib" / name).write_bytes(b"")
    spec = importlib.util.spec_from_loader("torch", loader=None, is_package=True)
    assert spec is not None and spec.submodule_search_locations is not None
    spec.submodule_search_locations.append(str(tmp_path / "torch"))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec if name == "torch" else None)
    loaded: list[tuple[str, int]] = []
    monkeypatch.setattr(ctypes, "CDLL", lambda path, mode: loaded.append((path, mode)))
    setup._load_torch_openmp()
    expected = [(str(tmp_path / "torch" / "lib" / "libgomp.so.1"), ctypes.RTLD_GLOBAL)] if len(shipped) == 1 else []
    assert loaded == expected

    def unloadable(path: str, mode: int) -> None:
        raise OSError(f"{path}: wrong ELF class")

    monkeypatch.setattr(ctypes, "CDLL", unloadable)
    setup._load_torch_openmp()  # left to torch's own import, which says why if it fails too
