"""Machine facts: CPU flags, and a peak-memory probe that can be reset (the matmul peaks: benches/peaks.py)."""

from __future__ import annotations

import sys

import pytest

from nerperf import machine


def test_memory_probe_sees_an_allocation_and_resets() -> None:
    first = machine.MemoryProbe.start()
    block = bytearray(200 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    assert first.peak() - first.start_bytes >= 150 * 2**20
    del block
    second = machine.MemoryProbe.start()
    if not sys.platform.startswith("linux"):
        pytest.skip("resetting the high-water mark (VmHWM) is Linux's")
    assert second.method.startswith("VmHWM")  # reset worked: the freed block no longer counts
    assert second.peak() - second.start_bytes < 100 * 2**20


@pytest.mark.parametrize(
    ("flags", "native"),
    [({"avx2", "fma"}, False), ({"avx512f", "avx512_bf16"}, True), ({"amx_bf16", "amx_tile"}, True)],
    ids=["avx2", "avx512-bf16", "amx"],
)
def test_native_bf16_by_flags(flags: set[str], native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset(flags))
    assert machine.native_bf16() is native


def test_the_machine_label_names_the_flags_that_decide_the_variants(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}))
    monkeypatch.setattr(machine, "cpu_model", lambda: "AMD EPYC 9R14")
    label = machine.machine_label()
    assert label.startswith("AMD EPYC 9R14; AVX2 yes, AVX-512 yes, VNNI yes, BF16 yes, AMX no; ")
    assert label.endswith(" cores")


@pytest.mark.parametrize(
    ("flags", "kind"),
    [({"avx2", "fma"}, "avx2"), ({"avx2", "avx512f", "avx512_vnni"}, "avx512-vnni"),
     ({"avx512_vnni", "amx_tile"}, "amx")],
)  # fmt: skip
def test_the_cpu_kind_names_the_records_kept_per_kind(
    flags: set[str], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(machine, "cpu_flags", lambda: frozenset(flags))
    assert machine.cpu_kind() == kind


@pytest.mark.parametrize(("info", "vendor"), [({"vendor_id_raw": "AuthenticAMD"}, "AuthenticAMD"), ({}, "")])
def test_the_cpu_vendor_is_py_cpuinfos_or_empty(info: dict, vendor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate's default wait is chosen by it (nerperf.processes.lockstep.default_wait)."""
    monkeypatch.setattr(machine, "_cpu_info", lambda: info)
    assert machine.cpu_vendor() == vendor


def test_the_cpu_kind_of_recorded_flags_reads_amx_from_amx_int8() -> None:
    """A gate's record keeps the flags that decide the variants: ``amx_int8``, not ``amx_tile``."""
    assert machine.cpu_kind(["amx_bf16", "amx_int8", "avx512_vnni"]) == "amx"
    assert machine.cpu_kind(["avx2", "avx512_vnni"]) == "avx512-vnni" and machine.cpu_kind([]) == "avx2"


def test_the_usable_cpus_are_the_affinity_or_else_every_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the gate halves for its start-ups, tune records and parallel splits: the CPUs this process may use."""
    from nerperf.machine import usable_cpus

    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {3, 1}, raising=False)
    assert usable_cpus() == (1, 3)
    monkeypatch.delattr("os.sched_getaffinity", raising=False)  # not Linux
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert usable_cpus() == (0, 1, 2, 3)
