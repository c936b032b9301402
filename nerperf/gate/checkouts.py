"""The two sides of a gate: each revision checked out at its commit, and the environments they run in.

Checkouts are git worktrees of the project's repository, at fixed paths under the gate's work
directory, so that an environment's editable install keeps pointing at its side. An environment is
built once and reused while its key holds: the install command, the interpreter, and the content of the
files that say what to install (pyproject.toml, setup.py, setup.cfg, constraints.txt, requirements*.txt).
The default install adds ``-c constraints.txt`` where the side's checkout has one, so that both sides
run with the exact versions the project measures with. A failed install leaves no environment that
could be taken for a good one.

When both sides' keys are equal (the usual pull request), both run in one environment, installed from
the base's checkout, and each side imports its own code from its own checkout, put first on the import
path (:func:`source_roots`): separate environments had made the head read slower than the same code as
base, by up to 2.3% for hours on one machine (docs/gate.md, "A head side slower for hours"). Each
round loads :mod:`nerperf.gate.import_guard`, so that a module taken from the other side's checkout
(one the side's own checkout lacks) stops the gate instead of timing the wrong code.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from nerperf.errors import NerperfInputError
from nerperf.gate import import_guard
from nerperf.processes.children import Children
from nerperf.variants.cache_use import GATE_KEY_FILE

DEFAULT_INSTALL = "python -m pip install -e '.[test]'"
CONSTRAINTS = "constraints.txt"  # exact versions a project measures with: the default install honours them
REQUIREMENT_FILES = ("pyproject.toml", "setup.py", "setup.cfg", CONSTRAINTS)


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
    import_path: tuple[Path, ...] = ()  # first on its rounds' import path: its own code, then the import guard
    foreign: tuple[Path, ...] = ()  # where its rounds' modules must not come from (import_guard); (): unguarded


SIDES = ("base", "head")
ENVIRONMENTS = {  # how the sides' environments were set up, for the gate's summary
    "shared": "one environment for both sides (the same requirements), each side's code from its own checkout",
    "per-side": "an environment per side",
    "interpreter": "the gate's own interpreter for both sides (--no-install)",
}


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


def prepare_sides(
    repository: Path,
    work: Path,
    out: Path,
    revisions: dict[str, str],
    commits: dict[str, str],
    install: str,
    *,
    no_install: bool,
    separate: bool,
    children: Children,
    say: Callable[[str], None],
    python: str = sys.executable,
) -> tuple[dict[str, Side], str]:
    """Both sides checked out and given an environment, and how (a key of :data:`ENVIRONMENTS`): the
    gate's interpreter under ``no_install``; one shared environment where the requirements are the same,
    unless ``separate``; else one per side, each made with ``python -m venv``."""
    checkout = {name: check_out(repository, work, name, commits[name]) for name in SIDES}
    keys = {name: environment_key(checkout[name], install_command(checkout[name], install), python) for name in SIDES}
    named = {name: f"{name} = {revisions[name]} ({commits[name][:10]})" for name in SIDES}
    if no_install:
        how, environments = "interpreter", dict.fromkeys(SIDES, (Path(python), True))
    elif not separate and keys["base"] == keys["head"]:
        how = "shared"
        log = out / "install-shared.log"
        shared = prepare("shared", checkout["base"], work / "envs", install, python, log, children)
        done = "reused" if shared[1] else f"installed ({install})"
        say(f"nerperf gate: {named['base']}, {named['head']}: the same requirements, one environment for both ({done})")
        environments = dict.fromkeys(SIDES, shared)
    else:
        how, environments = "per-side", {}
        for name in SIDES:
            log = out / f"install-{name}.log"
            environments[name] = prepare(name, checkout[name], work / "envs", install, python, log, children)
            done = "its environment reused (same requirements)" if environments[name][1] else f"installed ({install})"
            say(f"nerperf gate: {named[name]}: {done}")
    guard = import_guard.install(work / "guard")
    sides = {
        name: Side(
            name,
            revisions[name],
            commits[name],
            checkout[name],
            *environments[name],
            import_path=(*source_roots(checkout[name]), guard),
            foreign=(checkout["head" if name == "base" else "base"], repository),
        )
        for name in SIDES
    }
    return sides, how


def source_roots(checkout: Path) -> tuple[Path, ...]:
    """Where a checkout's own modules are imported from: its root (a flat layout, as ``python -m pytest``
    has it), and ``src/`` where there is one. A module elsewhere is caught by the import guard."""
    return (checkout, *([checkout / "src"] if (checkout / "src").is_dir() else []))


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
    """The side's interpreter, installing an environment unless one with the same key is under ``envs``;
    ``side`` is "base", "head", or "shared" for the one both sides share (installed from the base's checkout).

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
    stamp = env_dir / GATE_KEY_FILE  # its time is the last use (nerperf cache)
    if interpreter.is_file() and stamp.is_file() and stamp.read_text().strip() == key:
        stamp.touch()  # most recently used: kept by _forget_old
        return interpreter, True
    shutil.rmtree(env_dir, ignore_errors=True)
    whose = "the environment both sides share" if side == "shared" else f"the {side} side"
    name = f"{whose}'s install"
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
        failed = f"{whose} failed to install ({install!r} in {checkout})"
        # a shared environment is installed from the base's checkout: its failure is the base's (bisect stops)
        raise SideFailed(f"{failed}: {log_tail(log, 3)} (log: {log})", "base" if side == "shared" else side, "install")
    stamp.write_text(key + "\n")
    _forget_old(envs, side)
    return interpreter, False


KEEP = 3  # environments kept per side: a few requirement changes in a bisected range, not a disk's worth


def _forget_old(envs: Path, side: str) -> None:
    """Remove the side's environments beyond the :data:`KEEP` most recently used (and any unfinished one)."""
    found = [(d / GATE_KEY_FILE, d) for d in envs.glob(f"{side}-*") if d.is_dir()]
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
