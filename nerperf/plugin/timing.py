"""Timing a case with pytest-benchmark: per-sentence latency at batch size 1, and batched throughput.

Both time the case's prepared variant through the same runner as the evaluation. Latency runs one
pytest-benchmark round per sentence of the sample (so its median, IQR and outliers are over
sentences); throughput one round per batch, batched by sub-tokens as the evaluation is
(:func:`nerperf.models.runner.sentence_batches`). Each round's sentence or batch index is
recorded beside pytest-benchmark's own timings, so that the raw samples (``samples`` setting) can be
paired sentence by sentence and batch by batch between two runs (``nerperf gate``).
"""

from __future__ import annotations

from typing import Any

from nerperf.cases import Case
from nerperf.plugin.benchmark_internals import round_timings
from nerperf.plugin.session import NerperfSession
from nerperf.results import extra_info

WARMUP_ROUNDS = 1  # run before the timed rounds and excluded from them


def time_latency(benchmark: Any, session: NerperfSession, case: Case) -> None:
    """Per-sentence latency at batch size 1: one pytest-benchmark round per sentence of the sample."""
    words = session.sample()
    rounds = _timed(benchmark, session, case, "latency, batch 1", [[w] for w in words], 1)
    if rounds is None:
        return
    from nerperf.data.metrics import percentiles

    session.latency[case.id] = percentiles([seconds for _, seconds in rounds])
    benchmark.extra_info["latency_percentiles_s"] = session.latency[case.id]
    kept = session.case_samples(case)
    if kept is not None:
        kept.latency_s = [None] * len(words)
        for index, seconds in rounds:
            kept.latency_s[index] = seconds


def time_throughput(benchmark: Any, session: NerperfSession, case: Case) -> None:
    """Throughput at the batch size and token budget: one round per batch, batched as the evaluation is.

    Whole passes over the sample, as many as it takes to time ``throughput_batches`` batches: the gate
    pairs batch by batch, and a median over one pass's few batches spreads far wider a pair than latency's
    over hundreds of sentences (docs/gate.md, "What a gate does", 4).
    """
    from nerperf.models.runner import sentence_batches

    words = session.sample()
    size, budget = session.settings.batch_size, session.settings.max_tokens
    session.result(case)  # evaluated (or skipped) before it is timed, as in _timed
    checkpoint, _ = session.prepared(case)
    one_pass = sentence_batches(checkpoint, words, size, budget)
    order = one_pass * passes(session.settings.throughput_batches, len(one_pass))
    inputs = [[words[i] for i in b] for b in order]
    rounds = _timed(benchmark, session, case, f"throughput, batch {size}", inputs, size, budget)
    kept = session.case_samples(case)
    if rounds is not None and kept is not None:
        kept.batches = order
        kept.batch_s = [0.0] * len(order)
        for index, seconds in rounds:
            kept.batch_s[index] = seconds


def passes(batches: int, per_pass: int) -> int:
    """Whole passes over the sample that time at least ``batches`` batches.

    >>> passes(30, 10), passes(30, 32), passes(30, 7)
    (3, 1, 5)
    """
    return max(1, -(-batches // max(1, per_pass)))


def _timed(
    benchmark: Any,
    session: NerperfSession,
    case: Case,
    label: str,
    inputs: list[list[list[str]]],
    batch_size: int,
    max_tokens: int | None = None,
) -> list[tuple[int, float]] | None:
    """Time every input once (after a warm-up round); (input index, seconds) per timed round.

    None under ``--benchmark-disable``, where pytest-benchmark runs each once, untimed.
    """
    from nerperf.models.runner import predict

    result = session.result(case)
    checkpoint, prepared = session.prepared(case)
    threads = session.settings.threads
    order: list[int] = []  # the input index of every round, warm-up included, as setup hands them out

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        if session.lockstep is not None:
            session.lockstep.turn()  # the other side's process times the same input just before or after
        order.append((len(order) - WARMUP_ROUNDS) % len(inputs))
        return (inputs[order[-1]],), {}

    def run(sentences: list[list[str]]) -> None:
        predict(
            checkpoint, sentences, batch_size, threads, warmup=False, forward=prepared.forward, max_tokens=max_tokens
        )

    session.runner.status.show(f"nerperf {case.id}: timing {label}, {len(inputs)} rounds")
    benchmark.group = f"{case.spec.name}: {label}"
    benchmark.extra_info.update(extra_info(case.id, case.spec.name, case.spec.source, session.baseline_id, result))
    benchmark.pedantic(run, setup=setup, rounds=len(inputs), warmup_rounds=WARMUP_ROUNDS)
    if benchmark.stats is None:
        return None
    timings, total = round_timings(benchmark)
    if session.lockstep is not None:
        session.lockstep.clock.timed += total
    sentences = sum(len(batch) for batch in inputs)
    benchmark.extra_info["timed_sentences_per_s"] = sentences / total
    # setup is also called after the timed rounds under --benchmark-cprofile: those calls are not timed
    return list(zip(order[WARMUP_ROUNDS : WARMUP_ROUNDS + len(timings)], timings, strict=True))
