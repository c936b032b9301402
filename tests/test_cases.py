"""Choosing and running cases without pytest: the one path the plugin and the asv suite share."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny import SENTENCES, write_conll

from nerperf.case_runner import CaseFailed, CaseRunner
from nerperf.cases import Case, select, unavailable_variant
from nerperf.errors import Unavailable
from nerperf.settings import Settings, SettingsError


def settings(**values: str) -> Settings:
    return Settings.resolve({}, {f"NERPERF_{k.upper()}": v for k, v in values.items()}, {})


def test_cases_are_checkpoint_by_variant_with_the_baseline_first(bert_checkpoint: Path) -> None:
    chosen = select(settings(checkpoints=f"other={bert_checkpoint},base={bert_checkpoint}", baseline="base"))
    assert [c.id for c in chosen.cases[:3]] == ["base-fp32", "base-int8", "base-bf16"]
    assert {c.spec.name for c in chosen.cases} == {"base", "other"}
    assert chosen.baseline_case not in chosen.floor_cases() and len(chosen.floor_cases()) == len(chosen.cases) - 1
    other_int8 = chosen.case("other", "int8")
    assert chosen.reference(other_int8) == Case(other_int8.spec, "fp32")
    assert chosen.reference(chosen.case("other", "fp32")) == chosen.baseline_case


def test_the_study_checkpoints_are_selected_by_default() -> None:
    chosen = select(settings(variants="fp32"))
    assert chosen.baseline.name == "bert-base-ner" and chosen.cases[0].id == "bert-base-ner-fp32"
    assert len(chosen.cases) == 6


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"variants": "fp23"}, "NERPERF_VARIANTS: unknown variant 'fp23': did you mean 'fp32'?"),
        ({"tolerances": "bert-base-ner-fp16=1"}, "NERPERF_TOLERANCES: tolerance for 'bert-base-ner-fp16'"),
    ],
)
def test_bad_names_say_which_setting(values: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        select(settings(**values))


def test_a_tolerance_for_a_case_this_run_does_not_select_is_kept() -> None:
    """A project's tolerances stay valid when a run selects fewer variants, or one shard of the cases."""
    chosen = select(settings(variants="fp32", tolerances="bert-base-ner-int8=1.5,mbert-ner-hrl=6", shard="2/2"))
    assert "bert-base-ner-int8" not in {c.id for c in chosen.cases}


@pytest.fixture
def runner(bert_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CaseRunner:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # a closed port: the hub is unreachable
    data = write_conll(tmp_path / "tiny.txt", SENTENCES)
    chosen = settings(checkpoints=f"tiny={bert_checkpoint},distilbert-ner", baseline="tiny", data=str(data))
    chosen = chosen.with_defaults("test", variants=("fp32", "int8", "bf16"), stand_in_tokenizer=str(bert_checkpoint))
    return CaseRunner(chosen, select(chosen))


def test_a_case_is_evaluated_once(runner: CaseRunner) -> None:
    case = runner.selection.case("tiny", "int8")
    first = runner.evaluate(case)
    assert runner.evaluate(case) is first and first.variant == "int8" and first.sentences == len(SENTENCES)
    assert [list(words) for words in runner.sample()] == [[w for w, _ in s] for s in SENTENCES]


def test_an_evaluation_uses_the_threads_the_gate_allows_while_its_partner_starts_up(runner: CaseRunner) -> None:
    """Under nerperf gate the plugin caps an evaluation's threads (the lockstep's threads_beside_partner); the
    result records the threads it ran on, and with no cap the threads setting (here torch's default)."""
    import torch

    asked: list[int | None] = []
    runner.evaluation_threads = lambda configured: asked.append(configured) or 1
    capped = runner.evaluate(runner.selection.case("tiny", "fp32"))
    runner.evaluation_threads = lambda configured: None
    free = runner.evaluate(runner.selection.case("tiny", "int8"))
    assert asked == [runner.settings.threads] and capped.speed.threads == 1
    assert free.speed.threads == torch.get_num_threads()


def test_one_variant_besides_fp32_is_kept_prepared_at_a_time(runner: CaseRunner) -> None:
    """A variant's runtime keeps a thread pool: released when the next variant is prepared, not left beside
    its timing; fp32, every floor's reference, stays."""
    import weakref

    from nerperf.cases import Case

    reference = runner.selection.case("tiny", "fp32")
    fp32 = runner.prepared(reference)[1]
    int8 = runner.prepared(Case(reference.spec, "int8"))[1]
    assert runner.prepared(Case(reference.spec, "int8"))[1] is int8  # prepared once while it is current
    released = weakref.ref(int8)
    del int8
    runner.prepared(Case(reference.spec, "onnx-int8"))
    assert released() is None  # the int8 model and its forward are gone
    assert runner.prepared(reference)[1] is fp32


def test_what_cannot_run_is_unavailable_with_what_to_do(runner: CaseRunner) -> None:
    bf16 = runner.selection.case("tiny", "bf16")
    if unavailable_variant(bf16) is None:
        pytest.skip("this CPU runs bf16 natively")
    with pytest.raises(Unavailable, match="variant bf16 cannot run here"):
        runner.evaluate(bf16)
    with pytest.raises(Unavailable, match="distilbert-ner: weights not reachable offline.*nerperf_random_weights"):
        runner.evaluate(runner.selection.case("distilbert-ner", "fp32"))
    assert len(runner.not_run()) == 2


def test_random_weights_stand_in_for_unreachable_study_checkpoints(runner: CaseRunner) -> None:
    import dataclasses

    runner.settings = dataclasses.replace(runner.settings, random_weights=True)
    result = runner.evaluate(runner.selection.case("distilbert-ner", "fp32"))
    assert result.weights == "random" and result.f1 is None


def test_a_refused_checkpoint_fails_each_of_its_cases_with_the_same_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    data = write_conll(tmp_path / "tiny.txt", SENTENCES)
    chosen = settings(checkpoints=f"broken={broken}", baseline="broken", data=str(data), variants="fp32,int8")
    runner = CaseRunner(chosen, select(chosen))
    messages = []
    for case in runner.selection.cases:
        with pytest.raises(CaseFailed) as failed:
            runner.evaluate(case)
        messages.append(str(failed.value))
    assert messages[0] == messages[1] and messages[0].startswith("nerperf: broken: checkpoint")
