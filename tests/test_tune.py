"""``nerperf tune``: the frontier and the search's pruning on synthetic trials, and the command on a tiny
model: its trials resume after an interrupt, and its settings block selects that case in the plugin."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tiny import SENTENCES, write_conll

from nerperf.tune import command, frontier, leaders, space
from nerperf.tune.frontier import Point
from nerperf.tune.space import Config, Measured

points = st.lists(
    st.builds(Point, st.uuids().map(str), st.floats(0.5, 1.0), st.floats(1.0, 1000.0)), min_size=1, max_size=30
)


@given(points)
def test_the_frontier_is_what_nothing_beats_and_it_beats_the_rest(found: list[Point]) -> None:
    edge = frontier.frontier(found)

    def beats(q: Point, p: Point) -> bool:
        return q.f1 >= p.f1 and q.speed >= p.speed and (q.f1 > p.f1 or q.speed > p.speed)

    assert all(not beats(q, p) for p in edge for q in found)
    assert all(any(beats(q, p) for q in edge) for p in found if p not in edge)
    assert [p.speed for p in edge] == sorted((p.speed for p in edge), reverse=True)


@given(points, st.floats(0.0, 5.0))
def test_the_winner_is_the_fastest_within_the_floor(found: list[Point], floor: float) -> None:
    reference = max(p.f1 for p in found)
    best = frontier.winner(found, reference, floor)
    allowed = [p for p in found if p.f1 >= reference - floor / 100 - 1e-12]
    assert best is not None and best in allowed  # the best F1 itself is always allowed
    assert best.speed == max(p.speed for p in allowed)
    assert best in frontier.frontier(found)
    assert frontier.ranked(found, reference, floor)[0] == best  # what is timed in turns is what is reported


def timed_runner(monkeypatch: pytest.MonkeyPatch, samples_per_s: Any) -> command._Runner:
    """A tune runner whose leaders are timed by ``samples_per_s(config)`` instead of a model, silently."""
    runner = object.__new__(command._Runner)
    runner.status = type("Quiet", (), {"show": lambda self, text: None})()

    def evaluate(self: Any, config: Config, limit: int | None = None) -> Any:
        return type("Result", (), {"speed": type("Speed", (), {"samples_per_s": samples_per_s(config)})()})()

    monkeypatch.setattr(command._Runner, "_evaluate", evaluate)
    return runner


def test_equally_fast_leaders_are_timed_with_the_better_f1_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The search found two configurations equally fast: the one the report names (the better F1) is the
    one timed in turns as the winner, whichever the search measured first."""
    fp32, worse, better = Config("fp32", 2, 32, 1024), Config("int8", 2, 32, 1024), Config("onnx-int8", 2, 32, 1024)
    found = {fp32: Measured(0.90, 100.0), worse: Measured(0.895, 200.0), better: Measured(0.90, 200.0)}
    runner = timed_runner(monkeypatch, lambda config: found[config].speed)
    first, _ = runner.decide(space.THROUGHPUT, found, floor=1.0)
    assert first.winner == better and first.runner_up == worse
    reported = frontier.winner(command._points(found, space.THROUGHPUT), 0.90, 1.0)
    assert reported is not None and reported.key == better.key


def synthetic(
    f1: dict[str, float], speed: dict[str, float], best_batch: int = 64, best_tokens: int | None = 2048
) -> tuple[list[Config], Any]:
    """A measure function over a separable, unimodal space: a variant's base speed, more threads faster,
    batch size and token budget each best at one value (distance in the value lists costs 10% a step)."""
    calls: list[Config] = []

    def measure(config: Config) -> Measured:
        calls.append(config)
        rate = speed[config.variant] * config.threads
        if config.batch_size != 1:
            rate *= 0.9 ** abs(space.BATCH_SIZES.index(config.batch_size) - space.BATCH_SIZES.index(best_batch))
            rate *= 0.9 ** abs(space.TOKEN_BUDGETS.index(config.max_tokens) - space.TOKEN_BUDGETS.index(best_tokens))
        return Measured(f1[config.variant], rate)

    return calls, measure


def test_a_variant_below_the_floor_is_timed_at_the_defaults_only() -> None:
    calls, measure = synthetic({"fp32": 0.90, "int8": 0.85, "onnx": 0.90}, {"fp32": 1, "int8": 9, "onnx": 2})
    space.search(["fp32", "int8", "onnx"], 2, measure, floor_points=1.0)
    assert [c for c in calls if c.variant == "int8"] == [space.default("int8", 2, o) for o in space.OBJECTIVES]


def test_a_thread_count_slower_for_every_variant_is_not_carried_on() -> None:
    calls, measure = synthetic({"fp32": 0.9, "onnx": 0.9}, {"fp32": 1, "onnx": 2})  # more threads: faster
    space.search(["fp32", "onnx"], 4, measure, floor_points=1.0)
    batched = [c for c in calls if c.batch_size != space.DEFAULT_BATCH or c.max_tokens != space.DEFAULT_TOKENS]
    assert all(c.threads == 4 for c in batched if c.batch_size != 1)  # the walk runs at the fastest count only


@given(st.sampled_from(space.BATCH_SIZES), st.sampled_from(space.TOKEN_BUDGETS))
def test_the_batching_walk_finds_a_unimodal_optimum(best_batch: int, best_tokens: int | None) -> None:
    calls, measure = synthetic({"fp32": 0.9}, {"fp32": 1}, best_batch, best_tokens)
    found = space.search(["fp32"], 2, measure, floor_points=1.0, objectives=[space.THROUGHPUT])
    fastest = max(found, key=lambda c: found[c].speed or 0)
    assert (fastest.batch_size, fastest.max_tokens) == (best_batch, best_tokens)
    grid = len(space.BATCH_SIZES) * len(space.TOKEN_BUDGETS) * 2
    assert len(set(calls)) < grid / 2  # pruned: less than half the grid measured


def test_without_fp32_the_search_has_no_reference() -> None:
    with pytest.raises(ValueError, match="needs fp32"):
        space.search(["onnx"], 2, lambda c: Measured(0.9, 1.0), 1.0)


def test_the_leaders_in_turns_decide_or_say_within_the_noise() -> None:
    a, b = Config("onnx-int8", 2), Config("openvino-int8", 2)
    drift = iter(1 + 0.01 * i for i in range(100))  # the machine slows down as it goes: both alike, in turns
    clear = leaders.decide(a, b, lambda c: next(drift) * (1.0 if c == a else 1.2))
    assert clear.decided and 1.15 < clear.ratio < 1.25 and "faster than" in clear.describe()
    noise = iter([1.0, 1.1, 1.05, 1.0, 0.97, 1.02, 1.0, 0.96, 1.03, 1.0, 1.0, 1.01])
    close = leaders.decide(a, b, lambda c: next(noise))
    assert not close.decided and close.low < 1 < close.high and "within the noise" in close.describe()


def test_the_recommended_configuration_yields_to_a_faster_runner_up_then_to_the_defaults() -> None:
    """One rule names the winner, for what ``decide`` times against the defaults and for the report."""
    fastest, runner_up, defaults = Config("int8", 2, 64), Config("onnx", 2, 64), Config("onnx-int8", 2)
    runner_up_faster = leaders.Decision(fastest, runner_up, 0.8, 0.7, 0.9, 6)
    within_noise = leaders.Decision(fastest, runner_up, 1.0, 0.9, 1.1, 6)
    assert leaders.recommended(fastest.key, "one configuration met the floor", None) == fastest.key
    assert leaders.recommended(fastest.key, within_noise, None) == fastest.key
    assert leaders.recommended(fastest.key, runner_up_faster, None) == runner_up.key
    beats_defaults = leaders.Decision(runner_up, defaults, 1.3, 1.2, 1.4, 6)
    ties_defaults = leaders.Decision(runner_up, defaults, 1.02, 0.95, 1.1, 6)
    assert leaders.recommended(fastest.key, runner_up_faster, beats_defaults) == runner_up.key
    assert leaders.recommended(fastest.key, runner_up_faster, ties_defaults) == defaults.key


def test_the_winner_is_timed_in_turns_against_the_defaults_which_are_kept_unless_it_is_faster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ratio to nerperf's defaults is taken in turns in the same run, not from two trials minutes apart:
    here the search's single trials say the big batch is 1.5x the defaults, timing in turns says 1.1x; and a
    winner not faster than the defaults in turns yields to them (a change is recommended only when it pays)."""
    defaults, big, fp32 = (
        Config("onnx-int8", 2, 32, 1024),
        Config("onnx-int8", 2, 64, 2048),
        Config("fp32", 2, 32, 1024),
    )
    found = {fp32: Measured(0.90, 100.0), defaults: Measured(0.90, 200.0), big: Measured(0.90, 300.0)}
    true_seconds = {fp32: 1 / 100, defaults: 1 / 200, big: 1 / 220}
    runner = timed_runner(monkeypatch, lambda config: 1 / true_seconds[config])
    first, against = runner.decide(space.THROUGHPUT, found, floor=1.0)
    assert first.winner == big and first.runner_up == defaults and against is first  # timed once, not twice
    found[Config("int8", 2, 32, 1024)] = Measured(0.90, 250.0)  # now a runner-up that is not the defaults
    true_seconds[Config("int8", 2, 32, 1024)] = 1 / 150
    first, against = runner.decide(space.THROUGHPUT, found, floor=1.0)
    assert first.decided and against is not None and against.runner_up == defaults
    assert against.ratio == pytest.approx(1.1) and against.decided
    points = command._points(found, space.THROUGHPUT)
    said = command._against_defaults(next(p for p in points if p.key == big.key), defaults.key, points, against)
    assert said["ratio"] == pytest.approx(1.1) and said["low"] > 1 and "in turns" in said["said"]
    for really in (1 / 180, 1 / 200):  # the defaults really faster, or the same: timed in turns, they are kept
        true_seconds[big] = really
        _, against = runner.decide(space.THROUGHPUT, found, floor=1.0)
        assert not against.decided
        kept = next(p for p in points if p.key == defaults.key)
        said = command._against_defaults(kept, defaults.key, points, against)
        assert said["said"].startswith(f"kept: {big.key}, the fastest single trial, was not faster in turns")


@pytest.fixture
def project(tmp_path: Path, bert_checkpoint: Path) -> Path:
    """Data as a split directory (the calibrated variants' training split beside it) and the tiny model."""
    data = tmp_path / "data"
    data.mkdir()
    write_conll(data / "valid.txt", SENTENCES)
    write_conll(data / "train.txt", SENTENCES[::-1])
    return data


def tune(data: Path, model: Path, out: Path, *extra: str) -> int:
    from nerperf.cli import main

    return main(
        ["tune", "--model", str(model), "--data", str(data), "--variants", "fp32,int8", "--out", str(out), *extra]
    )


def _import_interrupted() -> None:
    """What onnxruntime's import does when Ctrl-C lands in it: pybind11 raises ImportError from it."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as interrupt:
        raise ImportError("initialization failed") from interrupt


def _ctrl_c() -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "stop",
    [_ctrl_c, pytest.param(_import_interrupted, marks=pytest.mark.slow)],  # the second: slow tests, fast under 3 min
    ids=["ctrl-c", "ctrl-c-in-an-import"],
)
def test_an_interrupted_tune_resumes_from_its_trials(
    project: Path, bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: Any
) -> None:
    real, ran = command._Runner._run, []

    def interrupted(self: Any, config: Config) -> Any:
        if len(ran) == 3:
            stop()
        ran.append(config)
        return real(self, config)

    monkeypatch.setattr(command._Runner, "_run", interrupted)
    assert tune(project, bert_checkpoint, tmp_path / "out", "--objective", "latency") == 130
    assert len(list((tmp_path / "out" / "trials").iterdir())) == 3  # the finished ones, kept
    assert "interrupted" in (tmp_path / "out" / "summary.md").read_text()
    monkeypatch.setattr(command._Runner, "_run", lambda self, config: ran.append(config) or real(self, config))
    assert tune(project, bert_checkpoint, tmp_path / "out", "--objective", "latency") in (0, 1)
    assert len(set(ran)) == len(ran)  # nothing measured twice: the second run took the first's three
    assert (tmp_path / "out" / "frontier.png").stat().st_size > 0


def test_the_settings_block_selects_that_case(
    project: Path, bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    winner = {"variant": "int8", "threads": 1, "batch_size": 16, "max_tokens": None}
    block = command.settings_block(str(bert_checkpoint), winner)
    here = tmp_path / "adopted"
    here.mkdir()
    (here / "pyproject.toml").write_text(block)
    monkeypatch.chdir(here)
    for name in [n for n in os.environ if n.startswith("NERPERF_")]:
        monkeypatch.delenv(name)
    from nerperf.cli import main
    from nerperf.ini_file import project_settings

    assert main(["cases"]) == 0
    listed = capsys.readouterr().out
    name = bert_checkpoint.name
    cases = [line.split()[0] for line in listed.splitlines() if not line.startswith("baseline:")]
    assert cases == [f"{name}-fp32", f"{name}-int8"] and listed.startswith(f"baseline: {name} ")
    chosen = project_settings(here)
    assert (chosen.threads, chosen.batch_size, chosen.max_tokens) == (1, 16, None)


def test_unknown_variants_are_refused_with_the_choices(project: Path, bert_checkpoint: Path, tmp_path: Path) -> None:
    from nerperf.cli import main

    assert main(["tune", "--model", str(bert_checkpoint), "--data", str(project), "--variants", "fp32,onnx-int9"]) == 2
    assert not (tmp_path / "nerperf-tune").exists()


def test_trial_speeds_are_one_over_latency_or_sentences_per_second() -> None:
    from nerperf.tune.trials import Trial

    latency = Trial(Config("fp32", 1), 0.9, 4.0, 5.0, None, 100.0, 1.0)
    assert math.isclose(latency.measured.speed or 0, 250.0)
    batched = Trial(Config("fp32", 1, 32, 1024), 0.9, None, None, 320.0, 100.0, 1.0)
    assert batched.measured == Measured(0.9, 320.0)
    assert Trial.from_json(batched.to_json()) == batched


def test_without_matplotlib_tune_says_its_figure_was_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nerperf.report import figures

    def missing(*args: object) -> None:
        raise ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")

    monkeypatch.setattr(figures, "tune_frontier", missing)
    outcome = {"trials": [], "objectives": {}, "model": "m", "machine": {"cpu": "AMD EPYC; AVX2 yes"}}
    command._figure(outcome, tmp_path / "frontier.png")
    assert "frontier.png not written: matplotlib is not installed" in capsys.readouterr().out
    assert not (tmp_path / "frontier.png").exists()

    def broken(*args: object) -> None:
        raise ModuleNotFoundError("No module named 'nerperf.gone'", name="nerperf.gone")

    monkeypatch.setattr(figures, "tune_frontier", broken)
    with pytest.raises(ModuleNotFoundError):  # a bug is not a missing extra
        command._figure(outcome, tmp_path / "frontier.png")


def test_only_an_import_that_ctrl_c_broke_counts_as_an_interrupt() -> None:
    from nerperf.errors import caused_by_ctrl_c

    with pytest.raises(ImportError) as broken:
        _import_interrupted()
    assert caused_by_ctrl_c(broken.value)
    assert not caused_by_ctrl_c(ImportError("No module named 'onnxruntime'"))  # a real failure stays one
