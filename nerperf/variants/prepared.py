"""What every variant backend returns and is given: a prepared forward function, and where to build.

Kept apart from the registry (:mod:`nerperf.variants`) so that the backends, which the registry
imports on use, need nothing from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerperf.models.runner import Forward
from nerperf.variants.calibration import Calibration

if TYPE_CHECKING:
    from nerperf.variants.kernels import Kernels


@dataclass(frozen=True)
class Prepared:
    """A variant ready to run, with the facts a result records about it."""

    variant: str
    forward: Forward
    size_bytes: int  # on disk (cached variants) or the bytes of the state dict (in-memory ones)
    build_s: float  # time to derive or build it (a cached entry reports its original build)
    from_cache: bool
    details: dict[str, Any] = field(default_factory=dict)
    # Which kernels ran: given a function that runs one forward pass, the runtime's own report of it
    # (:mod:`nerperf.variants.kernels`); None where the backend cannot say.
    kernels: Callable[[Callable[[], Any]], Kernels] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Context:
    """Where built variants are cached, how many threads the forward may use, whether its runtime's
    threads may spin between calls (not while taking turns with another process: ``nerperf gate``), and
    where the statically quantized variants' calibration sentences come from."""

    cache_root: Path
    threads: int
    spin: bool = True
    calibration: Calibration | None = None  # the statically quantized variants' sentences

    def calibration_key(self) -> dict[str, Any]:
        return self._calibration().key()

    def calibration_batches(self, checkpoint: Any, names: list[str]) -> list[dict[str, Any]]:
        return self._calibration().batches(checkpoint, names)

    def _calibration(self) -> Calibration:
        from nerperf.errors import NerperfInputError

        if self.calibration is None:
            raise NerperfInputError("this variant is calibrated on training sentences, and none were given")
        return self.calibration
