"""Refusing what will not fit: the smallest of MemAvailable, the cgroup's headroom and the user's cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from nerperf.models import memory_budget
from nerperf.models.checkpoints import CheckpointError, load_checkpoint
from nerperf.settings import BY_NAME, SettingsError, size

LIMIT_VARIABLE = BY_NAME["memory_limit"].env


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake /proc/meminfo and cgroup v2 directory (no v1), 8 GiB available."""
    (tmp_path / "meminfo").write_text("MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\n")
    (tmp_path / "cgroup").mkdir()
    monkeypatch.setattr(memory_budget, "_MEMINFO", tmp_path / "meminfo")
    monkeypatch.setattr(memory_budget, "_CGROUP_V2", tmp_path / "cgroup")
    monkeypatch.setattr(memory_budget, "_CGROUP_V1", tmp_path / "no-v1")
    monkeypatch.delenv(LIMIT_VARIABLE, raising=False)
    return tmp_path


def test_meminfo_alone(machine: Path) -> None:
    assert memory_budget.available() == memory_budget.Available(8 << 30, "MemAvailable in /proc/meminfo")


def test_a_cgroup_limit_counts_its_working_set_not_its_file_cache(machine: Path) -> None:
    cgroup = machine / "cgroup"
    (cgroup / "memory.max").write_text(f"{4 << 30}\n")
    (cgroup / "memory.current").write_text(f"{3 << 30}\n")
    (cgroup / "memory.stat").write_text(f"anon {1 << 30}\ninactive_file {2 << 30}\n")
    found = memory_budget.available()
    assert found is not None and found.bytes == 3 << 30 and "cgroup" in found.source
    (cgroup / "memory.max").write_text("max\n")
    assert memory_budget.available() == memory_budget.Available(8 << 30, "MemAvailable in /proc/meminfo")


def test_the_users_cap_wins_when_smaller_and_must_be_a_size(machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMIT_VARIABLE, "1.5GiB")
    assert memory_budget.available() == memory_budget.Available(
        3 << 29, "the memory_limit setting: NERPERF_MEMORY_LIMIT"
    )
    monkeypatch.setenv(LIMIT_VARIABLE, "a lot")
    with pytest.raises(SettingsError, match="write it like 4GiB"):
        memory_budget.available()


@pytest.mark.parametrize(
    ("text", "expected"), [("4GiB", 4 << 30), ("512M", 512 << 20), ("1.5g", 3 << 29), ("1000", 1000)]
)
def test_sizes(text: str, expected: int) -> None:
    assert size(text) == expected


def test_a_limit_given_as_a_setting_wins_over_the_variable(machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIMIT_VARIABLE, "1GiB")
    found = memory_budget.available(512 << 20)
    assert found is not None and found.bytes == 512 << 20 and "memory_limit" in found.source


def test_a_real_checkpoint_is_counted_exactly_and_refused_only_when_short(
    shared: Path, machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoConfig

    path = shared / "models" / "minilm-l6-conll03"
    assert memory_budget.parameter_count(AutoConfig.from_pretrained(path)) == 22_568_841  # its README's 22.6M
    monkeypatch.setenv(LIMIT_VARIABLE, "150MiB")  # below 2 x 90 MB of fp32 weights
    with pytest.raises(CheckpointError, match=r"refused before loading: its 23M parameters need about 0\.17 GiB"):
        load_checkpoint(path)
    monkeypatch.setenv(LIMIT_VARIABLE, "200MiB")
    assert load_checkpoint(path).model.num_parameters() == 22_568_841
