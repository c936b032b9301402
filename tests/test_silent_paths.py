"""Paths that used to go quiet, each now said out loud: a gate round without its results, timings taken
alone after the partner process went, a hub outage remembered for a whole session, a cache directory
set in the ini file that the gate did not see."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from tiny import SENTENCES

from nerperf.data import hub
from nerperf.gate.checkouts import GateError, Side
from nerperf.gate.command import _default_work, compare
from nerperf.gate.options import GateOptions
from nerperf.gate.rounds import Round, order
from nerperf.processes.lockstep import Lockstep
from nerperf.processes.samples import CaseSamples, write_unpaired
from nerperf.results import run_record

WORDS = [[w for w, _ in SENTENCES[0]]]
GOLD = [[t for _, t in SENTENCES[0]]]
SIDES = {name: Side(name, name, name[0] * 40, Path("."), Path(sys.executable)) for name in ("base", "head")}


OPTIONS = GateOptions("base", "head", min_pairs=2, max_pairs=2)


def rounds(tmp_path: Path, with_results: bool = True) -> list[Round]:
    found = []
    for index, (pair, side) in enumerate(order(2)):
        directory = tmp_path / f"{index:02d}-{side}"
        CaseSamples("x", WORDS, GOLD, GOLD, [0.01], [[0]], [0.01]).save(directory / "samples")
        if with_results:
            (directory / "results.json").write_text(run_record("x", {}, [], {}, [], []))
        found.append(Round(index, pair, side, directory, 0, 1.0))
    return found


def test_a_round_without_its_results_ends_the_gate_naming_it(tmp_path: Path) -> None:
    ran = rounds(tmp_path, with_results=False)
    with pytest.raises(GateError, match=r"the base side's round 00 \(pair 1\) wrote no results.json, so its floors"):
        compare(ran, SIDES, {}, OPTIONS, {})


def test_timings_taken_alone_after_the_partner_went_are_named(tmp_path: Path) -> None:
    ran = rounds(tmp_path)
    write_unpaired(ran[1].directory / "samples", 7)
    outcome = compare(ran, SIDES, {}, OPTIONS, {})
    assert any(
        note.startswith("round 01 (head): its partner process went after 7 timed calls") and "unpaired" in note
        for note in outcome.notes
    )


def test_the_lockstep_records_when_its_partner_went() -> None:
    ours, theirs = socket.socketpair()
    step = Lockstep(ours, first=True, calls=3)
    theirs.close()  # the partner died mid-run
    step.turn()
    ours.close()
    assert step.alone and step.lost_at == 3
    finishing = Lockstep(None, first=True)
    finishing.finish()
    assert finishing.lost_at is None  # a partner leaving at the end is expected


def test_a_hub_outage_is_remembered_for_a_while_not_for_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    calls, clock = [], [1000.0]

    def connect(address: tuple[str, int], timeout: float) -> socket.socket:
        calls.append(address)
        if len(calls) == 1:
            raise ConnectionRefusedError("refused")
        return socket.socket()

    monkeypatch.setattr(hub.socket, "create_connection", connect)
    monkeypatch.setattr(hub.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(hub, "_failed", {})
    monkeypatch.setattr(hub, "_reachable", set())
    assert "refused" in hub._probe("hub.example", 443)
    assert "refused" in hub._probe("hub.example", 443) and len(calls) == 1  # believed: no new timeout
    clock[0] += hub.FAILED_PROBE_TTL_S + 1
    assert hub._probe("hub.example", 443) is None and len(calls) == 2  # probed again once it is stale
    assert hub._probe("hub.example", 443) is None and len(calls) == 2  # reachable: remembered


def test_the_gate_works_under_the_cache_directory_the_settings_name(tmp_path: Path) -> None:
    repository = tmp_path / "project"
    assert _default_work(repository, str(tmp_path / "ini-cache")).parent == tmp_path / "ini-cache" / "gate"
    relative = _default_work(repository, "relative-cache")
    assert relative.is_absolute() and relative.parent == Path.cwd() / "relative-cache" / "gate"
