"""What the cache holds and removing what went unused (nerperf.variants.cache_use, ``nerperf cache``).

A cache with a built variant, a gate work directory and what a killed build left, their times set back;
removal takes what has been unused long enough, keeps what was reused since, and never an entry a
process holds locked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from nerperf.variants import cache
from nerperf.variants.cache_use import remove_unused, survey

DAY_S = 86_400
NOW = time.time()


def built(root: Path, label: str, days_ago: float) -> Path:
    """A variant entry built through the cache (its manifest), last used ``days_ago``."""

    def build(directory: Path) -> dict[str, str]:
        (directory / "model.onnx").write_bytes(b"x" * 1000)
        return {}

    entry = cache.get_or_build(root, label, {"label": label}, build).directory
    _age(entry / cache.MANIFEST, days_ago)
    return entry


def gate_work(root: Path, name: str, days_ago: float) -> Path:
    """A gate work directory with one environment, its key file last touched ``days_ago``."""
    work = root / "gate" / name
    (work / "envs" / "shared-0123").mkdir(parents=True)
    (work / "envs" / "shared-0123" / "nerperf-gate-key").write_text("key\n")
    (work / "base").mkdir()
    (work / "base" / "pyproject.toml").write_bytes(b"y" * 500)
    for path in (work, work / "envs" / "shared-0123" / "nerperf-gate-key"):
        _age(path, days_ago)
    return work


def _age(path: Path, days_ago: float) -> None:
    then = NOW - days_ago * DAY_S
    os.utime(path, (then, then))


def test_the_survey_names_each_part_with_its_size_and_last_use(tmp_path: Path) -> None:
    old = built(tmp_path, "old-onnx", 40)
    work = gate_work(tmp_path, "project-abc", 3)
    leftover = tmp_path / f".{old.name}.k3j2.building"
    leftover.mkdir()
    (leftover / "part").write_bytes(b"z" * 10)
    found = {h.path: h for h in survey(tmp_path)}
    assert {h.kind for h in found.values()} == {"variant", "gate", "leftover"}
    assert found[old].size_bytes > 1000 and found[old].unused_days(NOW) == pytest.approx(40, abs=0.01)
    assert found[work].size_bytes == 500 + 4 and found[work].unused_days(NOW) == pytest.approx(3, abs=0.01)
    assert found[leftover].size_bytes == 10
    assert survey(tmp_path / "none") == []


def test_removal_takes_the_unused_keeps_the_reused_and_the_locked(tmp_path: Path) -> None:
    old = built(tmp_path, "old-onnx", 40)
    reused = built(tmp_path, "reused-onnx", 40)
    fresh = built(tmp_path, "fresh-onnx", 1)
    locked = built(tmp_path, "locked-onnx", 40)
    stale_work, fresh_work = gate_work(tmp_path, "stale-abc", 31), gate_work(tmp_path, "fresh-abc", 2)
    built(tmp_path, "reused-onnx", 0)  # reused today: the cache marks its manifest
    with FileLock(str(locked) + ".lock"):  # another process building or reading it in
        removed, busy = remove_unused(tmp_path, 30, NOW)
    assert {h.path for h in removed} == {old, stale_work}
    assert [h.path for h in busy] == [locked]
    assert not old.exists() and not stale_work.exists()
    assert reused.is_dir() and fresh.is_dir() and locked.is_dir() and fresh_work.is_dir()
    assert cache.verify(reused) is not None  # what is kept is whole


def test_less_than_a_day_is_refused(tmp_path: Path) -> None:
    """A gate at work holds no lock on its directory: only what a day has not touched is removed."""
    with pytest.raises(ValueError, match="at least 1 day"):
        remove_unused(tmp_path, 0)


def test_the_command_lists_then_prunes_the_configured_cache(tmp_path: Path) -> None:
    """``nerperf cache`` and ``nerperf cache --remove-unused-for 30`` as the README names them, from a
    project's directory, the cache where the cache_dir setting's variable puts it."""
    root = tmp_path / "cache"
    old = built(root, "old-onnx", 40)
    kept = built(root, "kept-onnx", 2)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NERPERF_")}
    environment["NERPERF_CACHE_DIR"] = str(root)
    nerperf = str(Path(sys.executable).with_name("nerperf"))

    def run(*arguments: str) -> str:
        done = subprocess.run(
            [nerperf, "cache", *arguments], cwd=tmp_path, env=environment, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listed = run()
    assert old.name in listed and kept.name in listed and f"{root}: 2 parts" in listed
    pruned = run("--remove-unused-for", "30")
    assert "removed 1 part unused for 30 days or more (0.0 MB)" in pruned
    assert not old.exists() and kept.is_dir()
