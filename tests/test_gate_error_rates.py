"""The error-rate runs' bookkeeping (benches/gate_error_rates.py, its table benches/gate_tables.py): records
judged again by the gate's own rule, and a table over records that resumes across sessions."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).parent.parent / "benches" / "gate_error_rates.py"
NOISE_SCRIPT = SCRIPT.with_name("gate_noise.py")
TABLES = SCRIPT.with_name("gate_tables.py")


def load(path: Path):
    """A script of benches/ as a module, as Python runs it: its own directory on the path (its sibling imports)."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # as an import would: dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def error_rates():
    return load(SCRIPT)


@pytest.fixture(scope="module")
def tables():
    return load(TABLES)


@pytest.fixture(scope="module")
def noise_script():
    return load(NOISE_SCRIPT)


def record(slowed: float, seed: int, pairs: int = 6) -> dict:
    """A gate.json of schema 2 over the error-rate runs' cases, onnx-int8's forward ``slowed`` times slower."""
    rng = np.random.default_rng(seed)
    cases = {}
    for checkpoint in ("minilm-l6-conll03", "minilm-l3-conll03"):
        for variant in ("fp32", "int8", "onnx-int8"):
            case = f"{checkpoint}-{variant}"
            effect = math.log(slowed) if variant == "onnx-int8" else 0.0
            cases[case] = {
                measure: {
                    "base": 1.0,
                    "head": 1.0,
                    "ratio": 1.0,
                    "verdict": "?",
                    "pair_ratios": np.exp(rng.normal(effect, 0.01, pairs)).tolist(),
                }  # fmt: skip
                for measure in ("latency", "throughput")
            }
    return {"schema": 2, "status": 0, "rounds": {"pairs": pairs, "looks": [3, 10]}, "min_effect": 0.02,
            "seconds": 600.0, "cases": cases}  # fmt: skip


def test_records_are_judged_again_by_the_gates_own_rule(tables) -> None:
    again = tables.judged_again(record(1.20, 1), first=3, last=3, min_effect=2.0)
    slowed = again["cases"]["minilm-l6-conll03-onnx-int8"]["latency"]
    assert slowed["verdict"] == "slower" and slowed["decided_at"] == 3
    assert again["cases"]["minilm-l6-conll03-fp32"]["latency"]["verdict"] in {"same", "inconclusive"}
    assert again["seconds"] == pytest.approx(300.0)  # 3 of the 6 pairs run


def test_a_replayed_failing_gate_stops_where_the_gate_would_have(tables) -> None:
    """A 20% slowdown in 8 recorded pairs: the replay, like the gate, stops at the look that fails it (the
    unslowed cases undecided or same there), and its minutes are the share of the pairs it would have run."""
    again = tables.judged_again(record(1.20, 1, pairs=8), first=3, last=10, min_effect=2.0, prior_df=3.0)
    found = [m for measures in again["cases"].values() for name, m in measures.items() if name != "accuracy"]
    assert again["status"] == 1 and max(m["decided_at"] for m in found) == 3
    assert again["seconds"] == pytest.approx(600.0 * 3 / 8)


def test_the_table_reads_the_tracked_records_and_skips_the_fixed_sample_ones(
    error_rates, tables, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for index in range(3):
        # the first: recorded before run measured it
        beside = {"beside": {"other_cores": 0.5 * index, "cores": 2}} if index else {}
        (tmp_path / f"calib-base-{index:02d}.json").write_text(json.dumps(record(1.0, index) | beside))
        (tmp_path / f"calib-slow-10-{index:02d}.json").write_text(json.dumps(record(1.10, 10 + index)))
    (tmp_path / "calib-base-09.json").write_text(json.dumps({"schema": 1, "cases": {}}))  # before 0.5
    (tmp_path / "calib-slow-05-00.json").write_text(json.dumps({"status": 143, "reason": "interrupted by SIGTERM"}))
    (tmp_path / "calib-slow-05-01.json").write_text(json.dumps({"status": 2, "reason": "the base could not install"}))
    # judged again (min_effect given), since the records' own verdicts are made up
    args = tables.argparse.Namespace(out=str(tmp_path / "none"), records=str(tmp_path), first=0, last=0,
                                     min_effect=2.0, prior_df=None, same_alpha=None, fit_order=False,
                                     shared_order=False, trim=None)  # fmt: skip
    tables.table(args)
    printed = capsys.readouterr().out
    assert "## calib-base: 3 gates" in printed and "## calib-slow-10: 3 gates" in printed
    assert "## calib-slow-05: 1 gates exited 2 (nothing compared): the base could not install" in printed
    # an interrupted gate is run again by `run`; one that finished, exit 2 included, is kept
    assert [error_rates._finished(tmp_path / f"calib-slow-05-0{i}.json") for i in range(3)] == [False, True, False]
    assert error_rates._finished(tmp_path / "calib-base-00.json")
    assert "minilm-l6-conll03-onnx-int8 latency: slower in 3 of 3 gates" in printed
    assert "other work beside each gate: 0.50, 1.00 cores of 2; 1 gate not measured" in printed
    # false alarms and wrong descriptions of the unslowed cases are counted apart
    assert printed.count("gates with a slower verdict on a case not slowed (a false alarm): 0 of 3") == 2
    assert printed.count("gates with a faster verdict on a case not slowed (a description, never failing): 0") == 2
    # each comparison's pair spread, pooled over its gates: about the 1% the records were drawn with
    spreads = [float(line.split(" | ")[7]) for line in printed.splitlines() if line.startswith("| minilm")]
    assert len(spreads) == 24 and all(0.5 < s < 2.0 for s in spreads)


def test_the_tables_median_gate_of_an_even_count_is_the_mean_of_the_middle_two(
    tables, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ten gates a head is an even count: the upper middle one alone overstated the median (19.7 for 19.4)."""
    for index, minutes in enumerate((10, 14, 16, 30)):
        (tmp_path / f"calib-base-{index:02d}.json").write_text(
            json.dumps(record(1.0, index) | {"seconds": 60 * minutes})
        )
    args = tables.argparse.Namespace(out=str(tmp_path / "none"), records=str(tmp_path), first=0, last=0,
                                     min_effect=None, prior_df=None, same_alpha=None, fit_order=False,
                                     shared_order=False, trim=None)  # fmt: skip
    tables.table(args)
    assert "wall time per gate: 10.0 to 30.0 min, median 15.0" in capsys.readouterr().out


def test_other_work_beside_a_gate_is_the_machines_busy_time_less_the_gates_own(error_rates) -> None:
    """What ``run`` records as other work: a process burning a core for 1 s shows in the machine's busy time
    while it runs, and in this process's children's time only once reaped (the gate's tree, when it ends)."""
    busy, children = error_rates.busy_cpu_seconds(), error_rates.children_cpu_seconds()
    if busy is None:
        pytest.skip("no /proc/stat on this system: run records no other work")
    burner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.process_time() + 1\nwhile time.process_time() < end: pass"]
    )
    os.waitid(os.P_PID, burner.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: the machine's time only
    assert error_rates.busy_cpu_seconds() - busy >= 0.9
    assert error_rates.children_cpu_seconds() - children < 0.1
    burner.wait()
    assert error_rates.children_cpu_seconds() - children >= 0.9


def test_the_prior_is_fitted_on_each_same_revision_gate(noise_script, tmp_path: Path, capsys) -> None:
    """``moderated`` prints limma's d0 per gate, over all comparisons and per measure: drawn alike (the
    records' pairs all spread 1%), the variances scatter no more than sampling does, so d0 is large."""
    for index in range(2):
        (tmp_path / f"calib-base-{index:02d}.json").write_text(json.dumps(record(1.0, 20 + index, pairs=8)))
    noise_script.moderated(noise_script.argparse.Namespace(records=str(tmp_path)))
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| calib-base")]
    assert [row[2] for row in rows] == ["8", "8"]
    assert all(float(d0) > 3 for row in rows for d0 in row[3:6])


def test_pairs_far_out_are_counted_with_their_partners_that_moved_along(noise_script, tmp_path: Path) -> None:
    """``trimmed``'s first line: in a same-revision gate whose fourth pair ran 8% slower in one latency
    comparison and 3% in another (a process slower as a whole), that pair is far out and a partner moved
    along; the records are read per measure (latency first), comparisons of fewer than 5 pairs left out."""
    gate = record(1.0, 30, pairs=8)
    quiet = [1.0, 1.001, 0.999, 1.0, 1.002, 0.998, 1.0, 1.001]
    for index, case in enumerate(gate["cases"].values()):
        case["latency"]["pair_ratios"] = [1.08 if (k, index) == (3, 0) else 1.03 if (k, index) == (3, 1) else r
                                          for k, r in enumerate(quiet)]  # fmt: skip
    gate["cases"]["minilm-l3-conll03-fp32"]["throughput"]["pair_ratios"] = [1.0] * 4  # too few pairs: left out
    (tmp_path / "calib-base-00.json").write_text(json.dumps(gate))
    latency, throughput = noise_script.recorded_groups([tmp_path])
    assert len(latency) == 6 and len(throughput) == 5
    pairs, far, moved, partners = noise_script.tails([latency])
    assert (pairs, far, moved, partners) == (48, 2, 2, 10)


def raw_rounds(tmp_path: Path, pairs: int, seed: int, between: float) -> Path:
    """A same-revision gate's record and its rounds' raw samples: per pair an offset shared by its inputs
    (sd ``between``, the processes') and per input a heavy-tailed jitter (Student's t on 2 degrees of
    freedom, scaled by 5%), which the median is robust to and the mean and the total time are not."""
    from nerperf.processes.samples import CaseSamples

    records = tmp_path / f"error-rates-{seed}"
    records.mkdir()
    (records / "calib-base-00.json").write_text(json.dumps(record(1.0, seed, pairs=pairs)))
    rounds = tmp_path / "out" / records.name / "calib-base-00" / "rounds"
    rng = np.random.default_rng(seed)
    for pair in range(pairs):
        offset = rng.normal(0, between)
        for side, index in (("base", 2 * pair), ("head", 2 * pair + 1)):
            directory = rounds / f"{index:02d}-{side}" / "samples"
            directory.mkdir(parents=True)
            for case in ("minilm-l3-conll03-fp32", "minilm-l6-conll03-fp32"):
                shift = offset if side == "head" else 0.0

                def times(n: int, shift: float = shift) -> list[float]:
                    return np.exp(np.log(0.01) + shift + 0.05 * rng.standard_t(2, n)).tolist()

                CaseSamples(case, latency_s=times(300), batches=[[i] for i in range(30)], batch_s=times(30)).save(
                    directory
                )
    return records


def test_a_pairs_median_spreads_less_than_its_mean_on_heavy_tailed_timings(noise_script, tmp_path, capsys) -> None:
    """``estimators`` reads a same-revision gate's raw rounds and prints, per measure, the spread across pairs
    of each figure of a pair's log ratios; ``spread`` splits the median's into within and between pairs."""
    records = raw_rounds(tmp_path, pairs=8, seed=5, between=0.002)
    args = noise_script.argparse.Namespace(out=str(tmp_path / "out"), records=str(records))
    noise_script.estimators(args)
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| calib-base")]
    assert [row[1] for row in rows] == ["latency", "throughput"]
    median, mean, total = (float(rows[0][3]), float(rows[0][4]), float(rows[0][8].rstrip(" |")))
    assert median < mean and median < total
    records = raw_rounds(tmp_path, pairs=8, seed=6, between=0.02)  # most of the spread between processes
    noise_script.spread(noise_script.argparse.Namespace(out=str(tmp_path / "out"), records=str(records)))
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| calib-base")]
    whole, within = float(rows[0][3]), float(rows[0][5])
    assert rows[0][2] == "8" and 0 < within < whole


def run_script(*arguments: str, timeout: float, script: Path = SCRIPT) -> subprocess.CompletedProcess[str]:
    """``python benches/SCRIPT ARGUMENTS`` from the repository's root, as docs/gate.md shows it."""
    command = [sys.executable, f"benches/{script.name}", *arguments]
    return subprocess.run(command, cwd=SCRIPT.parent.parent, capture_output=True, text=True, timeout=timeout)


def test_the_estimators_command_runs_as_docs_gate_md_shows_it() -> None:
    """``python benches/gate_noise.py estimators`` from the repository's root: the tracked records, and
    a row for each gate whose rounds are still under .benchmarks/gate (none in a fresh clone)."""
    done = run_script("estimators", timeout=120, script=NOISE_SCRIPT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("| gate | measure | pairs | median | mean |")


@pytest.mark.slow  # a replay of every recorded gate: the fast tests stay under 3 minutes
def test_the_same_level_replay_runs_as_docs_gate_md_shows_it() -> None:
    """``table --prior-df 3 --same-alpha 0.2`` from the repository's root, on the tracked records: the ten
    same-revision gates stop sooner than as run (at 5%), and every slowed comparison is still ``slower``."""
    done = run_script("table", "--prior-df", "3", "--same-alpha", "0.2", timeout=300)
    assert done.returncode == 0, done.stderr
    base = done.stdout.split("## calib-base: 10 gates")[1].split("##")[0]
    assert "pairs run: [3, 4, 5, 5, 6, 6, 7, 9, 10, 10]" in base and "median 13.3" in base
    assert "a case not slowed (a false alarm): 0 of 10" in base
    for head in ("calib-slow-05", "calib-slow-10", "calib-slow-20"):
        found = done.stdout.split(f"## {head}:")[1].split("##")[0]
        assert found.count(" slower in ") == 4 and "slower in 0 of" not in found


def test_the_noise_table_gives_each_setups_spread_and_speed_against_the_defaults(
    noise_script, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two setups of one gate each: the spread of their pair ratios (here 1% by construction) and their
    times over the defaults' (the seeded gate's base times are 10% longer: throughput lower by as much)."""
    for setup, scale in (("defaults", 1.0), ("seeded", 1.1)):
        gate = record(1.0, 3, pairs=10)
        for measures in gate["cases"].values():
            measures["latency"]["base"] = 5.0 * scale
            measures["throughput"]["base"] = 800.0 / scale
        gate["machine"] = {"cpu_model": "Intel(R) Xeon(R) Processor", "cpu_flags": ["amx_int8"], "cpus": 2}
        (tmp_path / setup).mkdir()
        (tmp_path / setup / "calib-base-00.json").write_text(json.dumps(gate))
    noise_script.noise(noise_script.argparse.Namespace(records=str(tmp_path), reference="defaults"))
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("| defaults", "| seeded"))]
    assert (
        rows[0].startswith("| defaults | 1 | 10 | 1.")
        and "| 1.000 | 1.000 | Intel(R) Xeon(R) Processor, AMX" in rows[0]
    )
    assert rows[1].startswith("| seeded | 1 | 10 |") and "| 1.100 | 1.100 |" in rows[1]
    noise_script.noise(noise_script.argparse.Namespace(records=str(tmp_path), reference="seeded"))  # --reference
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("| defaults", "| seeded"))]
    assert "| 0.909 | 0.909 |" in rows[0] and "| 1.000 | 1.000 |" in rows[1]


def test_the_order_table_finds_a_first_process_that_runs_slower(noise_script, tmp_path: Path, capsys) -> None:
    """Pairs whose first process is 2% slower (base first in even pairs, head first in odd ones): ``order``
    reports an order effect of -1% and a spread that fitting the order takes back to the pairs' own 0.5%."""
    gate = record(1.0, 7, pairs=10)
    rng = np.random.default_rng(7)
    for measures in gate["cases"].values():
        for found in measures.values():
            found["pair_ratios"] = [math.exp((-0.01 if k % 2 == 0 else 0.01) + rng.normal(0, 0.005)) for k in range(10)]
    (tmp_path / "calib-base-00.json").write_text(json.dumps(gate))
    noise_script.order(noise_script.argparse.Namespace(records=[str(tmp_path)]))
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith(f"| {tmp_path}")]
    assert [row[1] for row in rows] == ["latency", "throughput"]
    for row in rows:
        mean, rms = (float(v) for v in row[4].split(", "))
        plain, fitted = float(row[5]), float(row[6].rstrip(" |"))
        assert -1.1 < mean < -0.9 and fitted < 0.7 < 1.0 < plain


def test_the_order_command_runs_as_its_docstring_shows_it() -> None:
    """``python benches/gate_noise.py order`` from the repository's root, on every tracked design's records."""
    done = run_script("order", timeout=120, script=NOISE_SCRIPT)
    assert done.returncode == 0, done.stderr
    assert "| benches/records/gate-error-rates | latency |" in done.stdout


def test_the_sides_table_reads_a_head_slower_throughout(noise_script, tmp_path: Path, capsys) -> None:
    """A same-revision gate whose head ran 1.5% slower in every pair of every case, in both orders: ``sides``
    reports +1.5% with a standard error far below it; a gate without such a bias reads near 0."""
    directory = tmp_path / "one-environment"
    directory.mkdir()
    for index, shift in enumerate((0.015, 0.0)):
        gate = record(1.0, 11 + index, pairs=6)
        for measures in gate["cases"].values():
            for found in measures.values():
                found["pair_ratios"] = [r * math.exp(shift) for r in found["pair_ratios"]]
        if index == 1:
            gate["rounds"]["environments"] = "shared"  # what a gate records since 0.9 wins over the directory
        (directory / f"calib-base-{index:02d}.json").write_text(json.dumps(gate))
    noise_script.sides(noise_script.argparse.Namespace(records=[str(directory)]))
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| one-env")]
    assert [row[3] for row in rows] == ["one (--no-install)", "one, shared"]
    biased, plain = ([float(v) for v in row[4].split(" ± ")] for row in rows)
    assert 1.3 < biased[0] < 1.7 and biased[1] < 0.3 and abs(plain[0]) < 0.5


def test_the_sides_command_runs_as_docs_gate_md_shows_it() -> None:
    """``python benches/gate_noise.py sides`` from the repository's root, on every noise setup's records."""
    done = run_script("sides", timeout=120, script=NOISE_SCRIPT)
    assert done.returncode == 0, done.stderr
    assert "| one-environment/calib-base-00 | 0 | 6 | one (--no-install) |" in done.stdout
