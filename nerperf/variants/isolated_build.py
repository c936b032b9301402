"""A calibrated quantization run in a child process, so that a crash in a runtime fails one build, not the run.

NNCF's quantizer and onnxruntime's static one run their runtime's inference over the calibration batches,
in native code. On 2026-12-07 a CI run died there: SIGSEGV inside OpenVINO, in NNCF's statistics
collection (an AVX2 CPU), in a benchmark process that had already run torch, onnxruntime and OpenVINO's
fp32 model. Everything that session had not yet written went with it. Here the quantizer runs in a fresh
Python process: it reads the source model and the batches (an ``.npz`` file) and writes the variant into
the cache's staging directory, as it would in-process. A child that crashes (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
SIGABRT) is run once more, with a warning that says so, since such a crash is intermittent; a second crash,
another signal (SIGKILL, as the out-of-memory killer sends) or an error the quantizer raises is a
:class:`RuntimeError` naming the variant, the signal or the error, and the child's last output. A child
ended by Ctrl-C is a KeyboardInterrupt here too.
Nothing reaches the cache from a failed build (:func:`nerperf.variants.cache.get_or_build`).

The child costs a Python start and the quantizer's imports (a few seconds) once per built entry; a cached
entry starts none.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ATTEMPTS = 2  # a crash is retried once; an error the quantizer raises is not, nor a SIGKILL (out of memory)
CRASHES = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT}
OUTPUT_TAIL = 2000  # characters of the child's output quoted in an error


class BuildCrashed(RuntimeError):
    """The child building a variant was killed by a signal (by a crash in each attempt, or by another signal)."""


def quantize_in_child(
    quantize: Callable[[Path, Path, list[dict[str, Any]]], dict[str, Any]],
    source: Path,
    directory: Path,
    batches: list[dict[str, Any]],
    label: str,
) -> dict[str, Any]:
    """``quantize(source, directory, batches)``, run in a child process; its details as it returns them."""
    import numpy

    target = f"{quantize.__module__}:{quantize.__qualname__}"
    with tempfile.TemporaryDirectory(prefix="nerperf-calibration-") as scratch:
        arrays = Path(scratch) / "batches.npz"
        result = Path(scratch) / "result.json"
        numpy.savez(arrays, **{f"{i}.{name}": a for i, batch in enumerate(batches) for name, a in batch.items()})
        command = [sys.executable, "-m", __name__, target, str(source), str(directory), str(arrays), str(result)]
        for attempt in range(1, ATTEMPTS + 1):
            finished = subprocess.run(command, capture_output=True, text=True, env=_environment(), check=False)
            if finished.returncode == 0:
                return json.loads(result.read_text())
            tail = (finished.stdout + finished.stderr)[-OUTPUT_TAIL:]
            if finished.returncode > 0:
                raise RuntimeError(f"building {label}: {_error(result) or 'the quantizer failed'}\n{tail}")
            number = -finished.returncode
            if number == signal.SIGINT:  # Ctrl-C reached the child too: an interruption, not a crash
                raise KeyboardInterrupt
            crash = f"building {label}: the quantizer's process was killed by {_signal_name(number)}"
            if number not in CRASHES or attempt == ATTEMPTS:
                tries = f" in each of {attempt} attempts" if attempt > 1 else ""
                raise BuildCrashed(f"{crash}{tries}; nothing was cached\n{tail}")
            warnings.warn(f"{crash}; building it once more in a fresh process", RuntimeWarning, stacklevel=2)
            for leftover in directory.iterdir():  # what the crashed child wrote
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    raise AssertionError("unreachable")


def _environment() -> dict[str, str]:
    """The parent's environment, with the directory of the nerperf the parent runs first on the child's path
    where it is not an installed one (a checkout on ``sys.path``), so that the child runs the same code. An
    installed nerperf's site-packages is left where the interpreter puts it: first on the path, it would
    come before the standard library."""
    import site

    here = Path(__file__).resolve().parent.parent.parent
    if here in {Path(p).resolve() for p in site.getsitepackages()}:
        return dict(os.environ)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(here) + (os.pathsep + path if path else "")}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _error(result: Path) -> str | None:
    try:
        return str(json.loads(result.read_text())["error"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _child(target: str, source: str, directory: str, arrays: str, result: str) -> int:
    import numpy

    module, _, name = target.partition(":")
    quantize = getattr(importlib.import_module(module), name)
    batches: dict[int, dict[str, Any]] = {}
    with numpy.load(arrays) as stored:
        for key in stored.files:
            index, _, input_name = key.partition(".")
            batches.setdefault(int(index), {})[input_name] = stored[key]
    try:
        details = quantize(Path(source), Path(directory), [batches[i] for i in sorted(batches)])
    except Exception as error:
        Path(result).write_text(json.dumps({"error": str(error)}))
        raise
    Path(result).write_text(json.dumps(details))
    return 0


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:]))
