"""The pytest plugin, driven through real pytest runs in subprocesses (pytester).

Tiny checkpoints (tests/tiny.py) cover options, ids, ordering, skips and the benchmark-history gate;
the real offline checkpoints, one of them degraded inside the test, cover the F1 floors.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import pytest
from tiny import SENTENCES, write_conll

from nerperf.errors import NerperfInputError
from nerperf.settings import OPTIONS

# Variants a child run's conftest.py registers: one that cannot run, one whose forward sleeps NAP_MS
# (a deliberate slowdown), one that adds noise to the logits (a deliberate loss of accuracy).
CHILD_CONFTEST = """
import os, time
from nerperf import variants
from nerperf.variants import torch_variants

def _wrapped(name, change):
    def prepare(checkpoint, context):
        fp32 = torch_variants.prepare("fp32", checkpoint)
        return variants.Prepared(name, change(fp32.forward), fp32.size_bytes, 0.0, False)
    return prepare

def _sleepy(forward):
    def run(tensors):
        time.sleep(float(os.environ.get("NAP_MS", "0")) / 1000)
        return forward(tensors)
    return run

def _noisy(forward):
    import torch
    generator = torch.Generator().manual_seed(0)
    def run(tensors):
        logits = forward(tensors)
        return logits + 8 * torch.randn(logits.shape, generator=generator)
    return run

def _never():
    return "this CPU has no unicorn"

for variant in (
    variants.Variant("sleepy", "fp32 that sleeps NAP_MS per batch", "sleepy/1", _wrapped("sleepy", _sleepy)),
    variants.Variant("noisy", "fp32 with noise on the logits", "noisy/1", _wrapped("noisy", _noisy)),
    variants.Variant("unicorn", "needs a unicorn", "unicorn/1", _wrapped("unicorn", _noisy), _never),
):
    variants.VARIANTS[variant.name] = variant
"""

SUITE = "from nerperf.suite import test_f1_floor, test_latency, test_throughput\n"


@pytest.fixture
def child(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytest project with the variants above; no NERPERF_* setting leaks in from this process."""
    for option in OPTIONS:
        monkeypatch.delenv(option.env, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # a closed port: the hub is unreachable
    pytester.makeconftest(CHILD_CONFTEST)
    return pytester


def ini(pytester: pytest.Pytester, **settings: str) -> None:
    lines = ["[pytest]", "addopts = -p no:cacheprovider", *(f"nerperf_{k} = {v}" for k, v in settings.items())]
    pytester.makefile(".ini", pytest="\n".join(lines))


@pytest.fixture
def tiny_project(child: pytest.Pytester, bert_checkpoint: Path) -> pytest.Pytester:
    data = write_conll(child.path / "tiny.txt", SENTENCES)
    ini(child, checkpoints=f"tiny={bert_checkpoint}", baseline="tiny", data=str(data), variants="fp32,sleepy")
    child.makepyfile(test_models=SUITE)
    return child


def test_ids_are_checkpoint_variant_baseline_first_and_floors_skip_the_baseline(
    child: pytest.Pytester, bert_checkpoint: Path
) -> None:
    data = write_conll(child.path / "tiny.txt", SENTENCES)
    ini(child, data=str(data), baseline="base", variants="fp32, sleepy")
    child.makepyfile(test_models=SUITE)
    run = child.runpytest_subprocess(
        "--collect-only", "-q", f"--nerperf-checkpoints=other={bert_checkpoint},base={bert_checkpoint}"
    )
    ids = [line for line in run.outlines if "::" in line]
    assert ids == [
        "test_models.py::test_latency[base-fp32]",
        "test_models.py::test_throughput[base-fp32]",
        "test_models.py::test_f1_floor[base-sleepy]",
        "test_models.py::test_latency[base-sleepy]",
        "test_models.py::test_throughput[base-sleepy]",
        "test_models.py::test_f1_floor[other-fp32]",
        "test_models.py::test_latency[other-fp32]",
        "test_models.py::test_throughput[other-fp32]",
        "test_models.py::test_f1_floor[other-sleepy]",
        "test_models.py::test_latency[other-sleepy]",
        "test_models.py::test_throughput[other-sleepy]",
    ]


def test_the_measures_setting_keeps_those_measures_of_the_suite_and_every_test_of_the_users_own(
    tiny_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``nerperf gate`` narrows its later pairs with it (NERPERF_MEASURES): the suite's other tests are
    deselected, never skipped (a skip would still start the case), and a test of the user's own stays."""
    tiny_project.makepyfile(test_own="def test_own_case(nerperf_case):\n    pass\n")
    monkeypatch.setenv("NERPERF_MEASURES", "throughput")
    run = tiny_project.runpytest_subprocess("--collect-only", "-q", "test_models.py", "test_own.py")
    ids = [line for line in run.outlines if "::" in line]
    assert ids == [
        "test_models.py::test_throughput[tiny-fp32]",
        "test_own.py::test_own_case[tiny-fp32]",
        "test_models.py::test_throughput[tiny-sleepy]",
        "test_own.py::test_own_case[tiny-sleepy]",
    ]
    run.stdout.fnmatch_lines(["*4/7 tests collected (3 deselected)*"])  # two latency tests and a floor
    monkeypatch.setenv("NERPERF_MEASURES", "floor,latency")
    run = tiny_project.runpytest_subprocess("--collect-only", "-q", "test_models.py")
    assert [line for line in run.outlines if "::" in line] == [
        "test_models.py::test_latency[tiny-fp32]",
        "test_models.py::test_f1_floor[tiny-sleepy]",
        "test_models.py::test_latency[tiny-sleepy]",
    ]
    monkeypatch.setenv("NERPERF_MEASURES", "speed")
    bad = tiny_project.runpytest_subprocess("--collect-only", "-q", "test_models.py")
    assert bad.ret != pytest.ExitCode.OK
    bad.stdout.fnmatch_lines(
        ["*nerperf: NERPERF_MEASURES: 'speed' is not a measure; choose from floor, latency, throughput"]
    )


def test_a_run_without_the_floors_evaluates_no_baseline_it_does_not_time(
    child: pytest.Pytester, bert_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The baseline is evaluated first for the floors (and the summary's "× baseline"); the gate's later pairs,
    told to time some measures only, no floors among them, must not load and evaluate it for nothing."""
    data = write_conll(child.path / "tiny.txt", SENTENCES)
    ini(child, data=str(data), baseline="base", variants="fp32")
    child.makepyfile(
        test_models=SUITE,
        test_zz="def test_evaluated(nerperf):\n    print('EVALUATED', sorted(nerperf.runner.results))\n",
    )
    monkeypatch.setenv("NERPERF_CASES", "other-fp32")
    monkeypatch.setenv("NERPERF_MEASURES", "latency,throughput")
    checkpoints = f"--nerperf-checkpoints=base={bert_checkpoint},other={bert_checkpoint}"
    run = child.runpytest_subprocess("-s", "--benchmark-disable", checkpoints, "test_models.py", "test_zz.py")
    assert run.ret == pytest.ExitCode.OK
    assert "EVALUATED ['other-fp32']" in run.stdout.str()  # with the floors: ['base-fp32', 'other-fp32']


def test_the_cases_setting_keeps_those_cases_and_refuses_one_not_selected(
    tiny_project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``nerperf gate`` stops timing a case once its comparisons are decided (NERPERF_CASES): the other
    cases' tests are deselected; a case id the selection does not hold is a usage error naming those it does."""
    monkeypatch.setenv("NERPERF_CASES", "tiny-sleepy")
    monkeypatch.setenv("NERPERF_MEASURES", "latency,throughput")
    run = tiny_project.runpytest_subprocess("--collect-only", "-q", "test_models.py")
    assert [line for line in run.outlines if "::" in line] == [
        "test_models.py::test_latency[tiny-sleepy]",
        "test_models.py::test_throughput[tiny-sleepy]",
    ]
    monkeypatch.setenv("NERPERF_CASES", "tiny-int9")
    bad = tiny_project.runpytest_subprocess("--collect-only", "-q", "test_models.py")
    assert bad.ret != pytest.ExitCode.OK
    bad.stderr.fnmatch_lines(
        ["*the cases setting names tiny-int9, which the selection does not hold; choose among tiny-fp32, tiny-sleepy"]
    )


def test_settings_precedence_and_bad_values(child: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    ini(child, sentences="5", batch_size="4")
    child.makepyfile(
        test_settings="def test_settings(nerperf):\n"
        "    s = nerperf.settings\n"
        "    print('SETTINGS', s.sentences, s.where('sentences'), s.batch_size, s.where('batch_size'))\n"
    )
    monkeypatch.setenv("NERPERF_SENTENCES", "7")
    run = child.runpytest_subprocess("-s", "--nerperf-batch-size=2")
    run.stdout.fnmatch_lines(["*SETTINGS 7 NERPERF_SENTENCES 2 --nerperf-batch-size"])
    monkeypatch.setenv("NERPERF_SENTENCES", "seven")
    bad = child.runpytest_subprocess()
    assert bad.ret != pytest.ExitCode.OK
    bad.stdout.fnmatch_lines(["*nerperf: NERPERF_SENTENCES: 'seven' is not a whole number*"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--nerperf-variants=fp23", "*nerperf_variants*unknown variant 'fp23': did you mean 'fp32'?*"),
        ("--nerperf-baseline=bert-bse-ner", "*unknown checkpoint 'bert-bse-ner': did you mean 'bert-base-ner'?*"),
        ("--nerperf-tolerances=tiny-fp16=2", "*tolerance for 'tiny-fp16'*did you mean 'tiny-fp32'?*"),
    ],
)
def test_unknown_names_are_usage_errors_with_a_suggestion(
    tiny_project: pytest.Pytester, option: str, message: str
) -> None:
    run = tiny_project.runpytest_subprocess(option, "--collect-only")
    assert run.ret != pytest.ExitCode.OK
    assert any(__import__("fnmatch").fnmatch(line, message.replace("nerperf_variants", "--nerperf-variants"))
               for line in run.outlines + run.errlines), run.outlines + run.errlines  # fmt: skip


@pytest.mark.slow
def test_what_cannot_run_is_skipped_with_what_to_do(tiny_project: pytest.Pytester, bert_checkpoint: Path) -> None:
    checkpoints = f"--nerperf-checkpoints=tiny={bert_checkpoint},bert-base-ner"
    run = tiny_project.runpytest_subprocess("-rs", checkpoints, "--nerperf-variants=fp32,unicorn", "-k", "floor")
    run.assert_outcomes(skipped=3)  # bert-base-ner fp32 and unicorn, tiny unicorn; tiny-fp32 is the baseline
    run.stdout.fnmatch_lines(
        [
            "*variant unicorn cannot run here: this CPU has no unicorn*",
            "*bert-base-ner: weights not reachable offline (dslim/bert-base-NER*add a local copy as "
            "bert-base-ner=DIRECTORY, or set nerperf_random_weights = true "
            "(--nerperf-random-weights=true, NERPERF_RANDOM_WEIGHTS=true)*",
        ]
    )
    run.stdout.fnmatch_lines(["*nerperf: the study's Table 5 for this run*", "not run: bert-base-ner: *"])


@pytest.mark.slow
def test_unreachable_study_checkpoints_can_be_timed_with_random_weights(
    tiny_project: pytest.Pytester, bert_checkpoint: Path
) -> None:
    options = [f"--nerperf-checkpoints=tiny={bert_checkpoint},distilbert-ner", "--nerperf-variants=fp32"]
    options += ["--nerperf-random-weights=true", f"--nerperf-stand-in-tokenizer={bert_checkpoint}"]
    run = tiny_project.runpytest_subprocess("-rs", *options, "-k", "floor or throughput")
    run.assert_outcomes(passed=2, skipped=1)
    skipped = "*distilbert-ner-fp32: random weights have no F1 to hold to a floor*"
    run.stdout.fnmatch_lines(["distilbert-ner-fp32 (random weights) *", skipped])


@pytest.mark.slow
def test_users_own_tests_get_the_cases_and_the_floor_helper(tiny_project: pytest.Pytester) -> None:
    tiny_project.makepyfile(
        test_own="""
import pytest
from nerperf.floors import assert_f1_floor

def test_sleepy_as_accurate_as_fp32(nerperf, nerperf_case, nerperf_result):
    if nerperf_case.variant != "sleepy":
        pytest.skip("compares sleepy with fp32")
    fp32 = nerperf.result(nerperf.case(nerperf_case.spec.name, "fp32"))
    print("OWN", assert_f1_floor(nerperf_result, fp32, 0.0, (nerperf_case.id, "fp32")).describe())
"""
    )
    run = tiny_project.runpytest_subprocess("-s", "test_own.py")
    run.assert_outcomes(passed=1, skipped=1)
    run.stdout.fnmatch_lines(["*OWN F1 floor holds: tiny-sleepy F1 * against fp32 F1 * - tolerance 0.00 points*"])


@pytest.mark.slow
def test_a_plain_pytest_run_imports_neither_torch_nor_transformers(tiny_project: pytest.Pytester) -> None:
    tiny_project.makepyfile(
        test_a_plain="import sys\ndef test_light():\n    assert not {'torch', 'transformers'} & set(sys.modules)\n"
    )
    run = tiny_project.runpytest_subprocess("-p", "nerperf", "test_a_plain.py", "test_models.py", "--collect-only")
    assert run.ret == pytest.ExitCode.OK
    tiny_project.runpytest_subprocess("test_a_plain.py", "test_models.py", "-k", "light or throughput").assert_outcomes(
        passed=3
    )


@pytest.mark.slow
def test_autosave_then_compare_fails_a_slowdown_and_passes_the_same_speed(tiny_project: pytest.Pytester) -> None:
    options = ["--benchmark-only", "--nerperf-variants=sleepy", "--nerperf-baseline=tiny", "-k", "latency"]
    # Naps long beside the tiny model's forward pass, and compares the fastest round: load only adds to a
    # nap, so a same-speed run's minimum stays put where its median did not (CI read a 50 ms nap's median
    # more than 25% slower minutes later, and 10 ms naps 25% slower under load).
    first = _run_with(tiny_project, {"NAP_MS": "50"}, *options, "--benchmark-autosave")
    first.assert_outcomes(passed=1, skipped=0)
    saved = json.loads(next((tiny_project.path / ".benchmarks").rglob("0001_*.json")).read_text())
    info = saved["benchmarks"][0]["extra_info"]
    assert (info["nerperf_id"], info["variant"], info["weights"]) == ("tiny-sleepy", "sleepy", "real")
    assert info["f1"] is not None and info["result"]["scores"]["f1"] == info["f1"]
    assert saved["machine_info"]["nerperf"]["torch"].startswith("2.")
    gate = ["--benchmark-compare", "--benchmark-compare-fail=min:50%"]
    slower = _run_with(tiny_project, {"NAP_MS": "200"}, *options, *gate)
    assert slower.ret == pytest.ExitCode.TESTS_FAILED
    lines = "\n".join(slower.outlines + slower.errlines)
    assert "Performance has regressed" in lines and "test_latency[tiny-sleepy]" in lines, lines
    same = _run_with(tiny_project, {"NAP_MS": "50"}, *options, *gate)
    assert same.ret == pytest.ExitCode.OK, same.outlines


def _run_with(pytester: pytest.Pytester, env: dict[str, str], *args: str) -> pytest.RunResult:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return pytester.runpytest_subprocess(*args)


@pytest.fixture
def offline_project(child: pytest.Pytester, shared: Path) -> pytest.Pytester:
    """The real minilm-l6 checkpoint and a copy degraded here: its classifier pushed towards O."""
    from safetensors.torch import load_file, save_file

    models = child.mkdir("models")
    (models / "minilm-l6-conll03").symlink_to(shared / "models" / "minilm-l6-conll03")
    degraded = models / "degraded"
    shutil.copytree(shared / "models" / "minilm-l6-conll03", degraded)
    config = json.loads((degraded / "config.json").read_text())
    outside = int(config["label2id"]["O"])
    weights = load_file(degraded / "model.safetensors")
    weights["classifier.bias"][outside] += 6.0
    save_file(weights, degraded / "model.safetensors", metadata={"format": "pt"})
    ini(
        child,
        checkpoint_dirs="models",
        baseline="minilm-l6-conll03",
        data=str(shared / "data" / "conll2003"),
        sentences="50",
        variants="fp32,noisy",
        tolerances="degraded-noisy=100",
    )
    child.makepyfile(test_models=SUITE)
    return child


@pytest.mark.slow
def test_floors_fail_clearly_and_run_under_benchmark_only(offline_project: pytest.Pytester) -> None:
    run = offline_project.runpytest_subprocess(
        "--benchmark-only", "--nerperf-report=report", "--nerperf-show-errors=true"
    )
    # 8 benchmarks and degraded-noisy's floor (tolerance 100) pass; the study's checkpoints are not reachable.
    run.assert_outcomes(passed=9, failed=2, skipped=36)
    run.stdout.fnmatch_lines(
        [
            "*F1 floor VIOLATED: degraded-fp32 F1 * against minilm-l6-conll03-fp32 F1 * - tolerance 5.00 points*",
            "*Type*Precision*Recall*F1*F1 of minilm-l6-conll03-fp32*",
        ]
    )
    run.stdout.fnmatch_lines(
        ["*F1 floor VIOLATED: minilm-l6-conll03-noisy F1 * against minilm-l6-conll03-fp32 F1 * - tolerance 1.00*"]
    )
    report = json.loads((offline_project.path / "report" / "results.json").read_text())
    assert [r["id"] for r in report["results"]][:2] == ["minilm-l6-conll03-fp32", "minilm-l6-conll03-noisy"]
    assert [f["held"] for f in report["floors"]].count(False) == 2
    assert report["results"][0]["batch1_latency_percentiles_s"]["90"] > 0
    markdown = (offline_project.path / "report" / "summary.md").read_text()
    assert "| minilm-l6-conll03-fp32 (baseline) |" in markdown and "## F1 floors" in markdown
    # output to a pipe, as in CI: no status line, no backspaces
    assert "\b" not in run.stdout.str() and ": evaluating " not in run.stdout.str()
    # --nerperf-show-errors=true: the SemEval schemes and error kinds, in the terminal and in summary.md
    run.stdout.fnmatch_lines(["*SemEval-2013 schemes*", "*Strict F1*Exact F1*Partial F1*Type F1*Correct*Spurious*"])
    assert "## SemEval schemes and error kinds" in markdown
    assert set(report["results"][0]["errors"]) >= {"correct", "incorrect", "partial", "missed", "spurious", "per_type"}
    assert set(report["results"][0]["schemes"]) == {"strict", "exact", "partial", "type"}


@pytest.mark.slow
def test_raw_samples_pair_every_sentence_and_batch_with_its_time(tiny_project: pytest.Pytester) -> None:
    """With the samples setting, each case's file holds every word's prediction and every round's time;
    throughput in whole passes over the sample, enough to time ``throughput_batches`` batches (the gate's 30)."""
    out = tiny_project.path / "samples"
    run = tiny_project.runpytest_subprocess(
        "--benchmark-only", f"--nerperf-samples={out}", "--nerperf-batch-size=2", "--nerperf-throughput-batches=5"
    )
    run.assert_outcomes(passed=5)  # the floor of sleepy (fp32 is the baseline), both timings of both cases
    run.stdout.fnmatch_lines(["nerperf: wrote the raw samples of 2 cases to *samples"])
    from nerperf.processes.samples import read_directory

    found = read_directory(out)
    assert sorted(found) == ["tiny-fp32", "tiny-sleepy"]
    for samples in found.values():
        assert samples.words == [[word for word, _ in sentence] for sentence in SENTENCES]
        assert samples.gold == [[tag for _, tag in sentence] for sentence in SENTENCES]
        assert [len(p) for p in samples.predicted] == [len(w) for w in samples.words]
        assert len(samples.latency_s) == len(SENTENCES) and all(t is not None and t > 0 for t in samples.latency_s)
        covered = [len({i for batch in samples.batches[: m + 1] for i in batch}) for m in range(len(samples.batches))]
        one_pass = covered.index(len(SENTENCES)) + 1  # the batches of the first pass: every sentence once
        assert sorted(i for batch in samples.batches[:one_pass] for i in batch) == list(range(len(SENTENCES)))
        assert samples.batches == samples.batches[:one_pass] * (len(samples.batches) // one_pass)
        assert len(samples.batches) >= 5 > len(samples.batches) - one_pass  # whole passes, no more than it takes
        assert all(len(batch) <= 2 for batch in samples.batches) and len(samples.batch_s) == len(samples.batches)
        assert all(t > 0 for t in samples.batch_s)
    # The same sentences in the same order in every case: the gate pairs them by index.
    assert found["tiny-fp32"].batches == found["tiny-sleepy"].batches


@pytest.mark.slow
def test_shards_are_disjoint_complete_and_merge_into_the_unsharded_run(
    child: pytest.Pytester, bert_checkpoint: Path
) -> None:
    """Three checkpoints in two parts: whole checkpoints per part, and the report merges the parts."""
    from nerperf.report.merge import read

    data = write_conll(child.path / "tiny.txt", SENTENCES)
    checkpoints = ",".join(f"{name}={bert_checkpoint}" for name in ("base", "second", "third"))
    ini(child, data=str(data), baseline="base", variants="fp32,noisy", checkpoints=checkpoints)
    child.makepyfile(test_models=SUITE)
    collected = {}
    for shard in ("", "1/2", "2/2"):
        option = [f"--nerperf-shard={shard}"] if shard else []
        report = child.path / f"report-{shard.replace('/', 'of') or 'all'}"
        run = child.runpytest_subprocess("-k", "floor", "-v", f"--nerperf-report={report}", *option)
        collected[shard] = {line.split("[")[1].split("]")[0] for line in run.outlines if "::test_f1_floor[" in line}
    assert collected["1/2"] == {"base-noisy", "third-fp32", "third-noisy"}  # the baseline's fp32 has no floor
    assert collected["2/2"] == {"second-fp32", "second-noisy"}
    assert collected["1/2"] | collected["2/2"] == collected[""] and not collected["1/2"] & collected["2/2"]
    whole = read([child.path / "report-all" / "results.json"]).results
    merged = read([child.path / f"report-{part}" / "results.json" for part in ("1of2", "2of2")]).results
    assert (
        sorted(merged)
        == sorted(whole)
        == sorted(f"{c}-{v}" for c in ("base", "second", "third") for v in ("fp32", "noisy"))
    )
    assert {k: r.f1 for k, r in merged.items()} == {k: r.f1 for k, r in whole.items()}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores: one for each part")
@pytest.mark.slow
def test_parallel_parts_run_pinned_and_merge(child: pytest.Pytester, bert_checkpoint: Path) -> None:
    """nerperf parallel 2: two pytest processes, one core and one thread each, one merged report."""
    from nerperf import cli
    from nerperf.report.merge import read

    data = write_conll(child.path / "tiny.txt", SENTENCES)
    ini(
        child,
        data=str(data),
        baseline="tiny",
        variants="fp32",
        checkpoints=f"tiny={bert_checkpoint},other={bert_checkpoint}",
    )
    child.makepyfile(test_models=SUITE)
    # each part says which cores it may run on, as the kernel sees it: the pinning, not just the threads
    child.makeconftest(
        CHILD_CONFTEST + "\n\ndef pytest_sessionstart(session):\n    import os, pathlib\n"
        "    pathlib.Path(f'affinity-{os.getpid()}.txt').write_text(repr(sorted(os.sched_getaffinity(0))))\n"
    )
    out = child.path / "parallel"
    assert cli.main(["parallel", "2", "--out", str(out), "--", "-p", "no:cacheprovider"]) == 0
    pinned = sorted(ast.literal_eval(p.read_text()) for p in child.path.glob("affinity-*.txt"))
    cores = sorted(os.sched_getaffinity(0))
    assert pinned == [[cores[0]], [cores[1]]]  # two parts, one core each, not the same one
    for part, cases in ((1, "tiny-fp32"), (2, "other-fp32")):
        log = (out / f"part-{part}" / "pytest.log").read_text()
        assert f"[{cases}]" in log and "passed" in log
        found = read([out / f"part-{part}" / "results.json"])
        assert all(r.speed.threads == 1 for r in found.results.values())  # one core each: one thread
    merged = read([out / "part-1" / "results.json", out / "part-2" / "results.json"])
    assert sorted(merged.results) == ["other-fp32", "tiny-fp32"]
    assert "other-fp32" in (out / "report" / "report.md").read_text()
    with pytest.raises(NerperfInputError, match="parts would share cores"):
        cli.dispatch(type("Args", (), {"command": "parallel", "parts": 64, "out": str(out), "pytest_args": []})())


def test_a_run_that_uses_no_nerperf_fixture_leaves_pytest_benchmark_as_it_is(pytester: pytest.Pytester) -> None:
    """The plugin loads in every pytest run of an environment where nerperf is installed: only runs that use
    it get pytest-benchmark's writers made atomic."""
    pytester.makeconftest(
        "def pytest_sessionfinish(session):\n"
        "    from pytest_benchmark.session import BenchmarkSession\n"
        "    print('wrapped:', getattr(BenchmarkSession.save_json, '__nerperf_atomic__', False))\n"
    )
    pytester.makepyfile(test_plain="def test_plain(benchmark):\n    benchmark(sum, [1, 2])\n")
    run = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    run.assert_outcomes(passed=1)
    run.stdout.fnmatch_lines(["*wrapped: False*"])


def test_floors_stop_the_run_where_pytest_benchmark_skips_them_some_other_way(tiny_project: pytest.Pytester) -> None:
    """A pytest-benchmark whose --benchmark-only skip nerperf does not recognise would leave every floor
    skipped in silence: the run stops instead, naming the installed version and the supported range."""
    tiny_project.makeconftest(
        CHILD_CONFTEST + "\nimport pytest\n\n"
        "@pytest.hookimpl(trylast=True)\n"
        "def pytest_collection_modifyitems(config, items):\n"
        "    for item in items:  # the same skip, worded as another release might word it\n"
        "        for mark in item.own_markers:\n"
        "            if mark.name == 'skip':\n"
        "                mark.kwargs['reason'] = 'benchmark-only mode: not a benchmark'\n"
    )
    run = tiny_project.runpytest_subprocess("--benchmark-only", "test_models.py")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(
        [
            "*nerperf: pytest-benchmark 5.* did not mark test_models.py::test_f1_floor[[]tiny-sleepy[]] "
            "skip(reason='...(--benchmark-only active)') under --benchmark-only, so nerperf cannot keep its "
            "F1 floors in this run. nerperf supports pytest-benchmark >=*"
        ]
    )


def test_the_supported_range_named_is_the_one_nerperf_declares() -> None:
    import tomllib
    from packaging.requirements import Requirement

    from nerperf.plugin.benchmark_internals import declared_range

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    (declared,) = [r for r in map(Requirement, pyproject["project"]["dependencies"]) if r.name == "pytest-benchmark"]
    assert declared_range() == str(declared.specifier) != ""


def test_round_timings_missing_from_pytest_benchmark_stop_the_run() -> None:
    from nerperf.plugin.benchmark_internals import Unsupported, round_timings

    class Stats:  # a release that renamed its per-round data
        rounds: list[float] = [0.1]

    class Benchmark:
        stats = type("Metadata", (), {"stats": Stats()})()

    with pytest.raises(Unsupported, match=r"pytest-benchmark \S+ has no benchmark\.stats\.stats\.data and \.total"):
        round_timings(Benchmark())
