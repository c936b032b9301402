"""The two sides of a gate: each revision checked out at its commit and installed in its own environment.

Checkouts are git worktrees of the project's repository, at fixed paths under the gate's work
directory, so that an environment's editable install keeps pointing at its side. An environment is
built once and reused while its key holds: the install command, the interpreter, and the content of the
files that say what to install (pyproject.toml, setup.py, setup.cfg, constraints.txt, requirements*.txt).
The default install adds ``-c constraints.txt`` where the side's checkout has one, so that both sides
run with the exact versions the project measures with. A failed install leaves no environment that
could be taken for a good one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from nerperf.errors import NerperfInputError
from nerperf.processes.children import Children

DEFAULT_INSTALL = "python -m pip install -e '.[test]'"
CONSTRAINTS = "constraints.txt"  # exact versions a project measures with: the default install honours them
REQUIREMENT_FILES = ("pyproject.toml", "setup.py", "setup.cfg", CONSTRAINTS)
_KEY_FILE = "nerperf-gate-key"


class GateError(NerperfInputError):
    """Nothing could be compared: a revision, a checkout, an install or a run failed; the message says which."""


class SideFailed(GateError):
    """One side could not be installed, or its suite could not run: which side and which stage, as fields
    (``nerperf bisect`` skips a commit whose side failed, and stops when GOOD's did)."""

    def __init__(self, message: str, side: str, stage: Literal["install", "run"]) -> None:
        super().__init__(message)
        self.side = side  # "base" or "head"
        self.stage = stage


@dataclass(frozen=True)
class Side:
    name: str  # "base" or "head"
    revision: str  # as the user gave it
    commit: str
    checkout: Path
    python: Path  # the interpreter that runs its rounds
    reused: bool = False  # its environment was reused, not installed


def git(repository: Path, *arguments: str) -> str:
    done = subprocess.run(["git", "-C", str(repository), *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise GateError(f"git {' '.join(arguments)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def repository_root(start: Path) -> Path:
    try:
        return Path(git(start, "rev-parse", "--show-toplevel"))
    except GateError:
        raise GateError(f"{start}: not in a git checkout; run nerperf gate in the repository being gated") from None


def resolve(repository: Path, revision: str) -> str:
    """The full commit of ``revision``; an unknown one is a GateError naming it."""
    try:
        return git(repository, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except GateError:
        raise GateError(f"{revision!r} is not a commit of {repository} (try git fetch, or a branch or sha)") from None


def check_out(repository: Path, work: Path, name: str, commit: str) -> Path:
    """A worktree of ``repository`` at ``commit`` in ``work/name``, replacing an earlier one there."""
    path = work / name
    if path.exists():
        subprocess.run(["git", "-C", str(repository), "worktree", "remove", "--force", str(path)], capture_output=True)
        shutil.rmtree(path, ignore_errors=True)
    git(repository, "worktree", "prune")
    git(repository, "worktree", "add", "--force", "--detach", str(path), commit)
    return path


def install_command(checkout: Path, install: str) -> str:
    """``install`` as run in ``checkout``: the default with ``-c constraints.txt`` where the checkout has one."""
    if install == DEFAULT_INSTALL and (checkout / CONSTRAINTS).is_file():
        return f"{DEFAULT_INSTALL} -c {CONSTRAINTS}"
    return install


def environment_key(checkout: Path, install: str, python: str) -> str:
    digest = hashlib.sha256(f"{install}\0{python}\0".encode())
    names = [*REQUIREMENT_FILES, *sorted(p.name for p in checkout.glob("requirements*.txt"))]
    for name in names:
        path = checkout / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
    return digest.hexdigest()


def prepare(
    side: str, checkout: Path, envs: Path, install: str, python: str, log: Path, children: Children
) -> tuple[Path, bool]:
    """The side's interpreter, installing an environment unless one with the same key is under ``envs``.

    Each side keeps its environments by key (``envs/SIDE-KEY``), the :data:`KEEP` most recently used: a
    bisection that meets a commit with other requirements (or one that cannot be installed) goes back
    to the environment it had, without installing it again. ``install`` runs in the checkout with the
    environment's ``bin`` first on PATH (``python`` and ``pip`` are the environment's); its output goes to
    ``log``. Paths must be absolute (the install runs in the checkout, and a relative ``bin`` on PATH would
    find the outer interpreter). The checkout's path never changes, so an editable install stays true.
    """
    install = install_command(checkout, install)
    key = environment_key(checkout, install, python)
    env_dir = envs / f"{side}-{key[:16]}"
    interpreter = env_dir / "bin" / "python"
    stamp = env_dir / _KEY_FILE
    if interpreter.is_file() and stamp.is_file() and stamp.read_text().strip() == key:
        stamp.touch()  # most recently used: kept by _forget_old
        return interpreter, True
    shutil.rmtree(env_dir, ignore_errors=True)
    name = f"the {side} side's install"
    created = children.wait(children.start(name, [python, "-m", "venv", str(env_dir)], cwd=checkout, log=log))
    if created == 0:
        variables = {**os.environ, "VIRTUAL_ENV": str(env_dir), "PATH": f"{env_dir / 'bin'}:{os.environ['PATH']}"}
        variables.pop("PYTHONHOME", None)
        with log.open("ab") as output:
            output.write(f"$ {install}\n".encode())
        installing = children.start(
            name, ["/bin/sh", "-c", install], cwd=checkout, log=log, environment=variables, append=True
        )
        created = children.wait(installing)
    if created != 0:
        shutil.rmtree(env_dir, ignore_errors=True)  # never reused: the next gate installs again
        failed = f"the {side} side failed to install ({install!r} in {checkout})"
        raise SideFailed(f"{failed}: {log_tail(log, 3)} (log: {log})", side, "install")
    stamp.write_text(key + "\n")
    _forget_old(envs, side)
    return interpreter, False


KEEP = 3  # environments kept per side: a few requirement changes in a bisected range, not a disk's worth


def _forget_old(envs: Path, side: str) -> None:
    """Remove the side's environments beyond the :data:`KEEP` most recently used (and any unfinished one)."""
    found = [(d / _KEY_FILE, d) for d in envs.glob(f"{side}-*") if d.is_dir()]
    finished = sorted((stamp.stat().st_mtime, d) for stamp, d in found if stamp.is_file())
    for _, directory in finished[:-KEEP]:
        shutil.rmtree(directory, ignore_errors=True)
    legacy = envs / side  # nerperf 0.5 kept one environment per side there
    if legacy.is_dir():
        shutil.rmtree(legacy, ignore_errors=True)


def log_tail(log: Path, lines: int) -> str:
    """A failed command's last non-blank lines, on one line, for the error that names its log."""
    text = log.read_text(errors="replace").splitlines() if log.is_file() else []
    return " | ".join([line for line in text if line.strip()][-lines:]) or "no output"
