"""Where each side of a gate runs: one environment for both where their requirements are the same, each
side's code imported from its own checkout, and the import guard that stops a gate whose side took a
module from the other's checkout (or, under --no-install, from the repository)."""

from __future__ import annotations

import json
import site
import sys
from pathlib import Path
from types import ModuleType

import pytest
from test_gate import PROJECT_CONFTEST, git, run_gate, write_project

from nerperf.gate import checkouts, import_guard, rounds, verdict
from nerperf.gate.checkouts import GateError, Side
from nerperf.processes.children import Children

COMMIT = ("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q")


def module(path: str) -> ModuleType:
    found = ModuleType(Path(path).stem)
    found.__file__ = path
    return found


def test_the_guard_names_modules_from_barred_places_outside_the_sides_own(tmp_path: Path) -> None:
    base, head = tmp_path / "work" / "base", tmp_path / "work" / "head"
    modules = {
        "helper": module(str(base / "lib" / "helper.py")),  # the other side's checkout: foreign
        "mine": module(str(head / "mine.py")),
        "neighbour": module(str(tmp_path / "work" / "base2" / "n.py")),  # a sibling whose name starts alike
        "site_package": module(str(tmp_path / "repo" / ".venv" / "lib" / "torch.py")),  # under the prefix
        "builtin": ModuleType("builtin"),  # no file
        "none": None,
    }
    foreign = [str(base), str(tmp_path / "repo")]
    own = [str(head), str(tmp_path / "repo" / ".venv")]
    assert import_guard.foreign_modules(modules, own, foreign) == {"helper": str(base / "lib" / "helper.py")}
    assert import_guard.foreign_modules(modules, [*own, str(base)], foreign) == {}


def guarded_round(tmp_path: Path, report: dict[str, str] | None) -> tuple[rounds.Round, Side]:
    directory = tmp_path / "rounds" / "01-head"
    directory.mkdir(parents=True)
    if report is not None:
        (directory / import_guard.REPORT).write_text(json.dumps({"foreign": report}))
    head = tmp_path / "work" / "head"
    side = Side(
        "head", "HEAD", "h" * 40, head, Path(sys.executable), import_path=(head, head / "src", tmp_path / "guard"),
        foreign=(tmp_path / "work" / "base", tmp_path / "repo"),
    )  # fmt: skip
    return rounds.Round(1, 0, "head", directory, 0, 1.0), side


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ({"helper": "{tmp}/work/base/lib/helper.py"}, "helper .* the other side's checkout.*--separate-environments"),
        ({"project": "{tmp}/repo/project/__init__.py"}, "project .* the repository's working tree.*--no-install"),
        (None, "wrote no imports.json"),
    ],
    ids=["the-other-checkout", "the-repository", "no-report"],
)
def test_a_round_that_ran_code_from_elsewhere_stops_the_gate(
    tmp_path: Path, report: dict[str, str] | None, message: str
) -> None:
    written = {name: path.format(tmp=tmp_path) for name, path in report.items()} if report is not None else None
    ran, side = guarded_round(tmp_path, written)
    with pytest.raises(GateError, match=message):
        rounds._check_own_code(ran, side)


def test_a_round_that_ran_its_own_code_passes(tmp_path: Path) -> None:
    ran, side = guarded_round(tmp_path, {})
    rounds._check_own_code(ran, side)


def fake_venv(tmp_path: Path) -> str:
    """``python -m venv DIR`` in a millisecond: the environments made here are never run."""
    venv = tmp_path / "venv"
    venv.write_text('#!/bin/sh\nmkdir -p "$3/bin" && touch "$3/bin/python"\n')
    venv.chmod(0o755)
    return str(venv)


def test_sides_share_one_environment_exactly_where_their_requirements_are_the_same(tmp_path: Path) -> None:
    repository, work = tmp_path / "repository", tmp_path / "work"
    repository.mkdir()
    (repository / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (repository / "src").mkdir()
    (repository / "src" / "p.py").write_text("")
    git(repository, "init", "-q", "-b", "main")
    git(repository, "add", ".")
    git(repository, *COMMIT, "-m", "base")
    (repository / "p.txt").write_text("code, not requirements\n")
    git(repository, "add", ".")
    git(repository, *COMMIT, "-m", "same requirements")
    (repository / "pyproject.toml").write_text("[project]\nname = 'p'\ndependencies = ['torch']\n")
    git(repository, *COMMIT, "-am", "other requirements")

    def sides(base: str, head: str, **how: bool) -> tuple[dict[str, Side], str]:
        commits = {"base": checkouts.resolve(repository, base), "head": checkouts.resolve(repository, head)}
        options = {"no_install": False, "separate": False, **how}
        with Children() as children:
            return checkouts.prepare_sides(
                repository, work, tmp_path / "out", {"base": base, "head": head}, commits, "true",
                children=children, say=lambda line: None, python=fake_venv(tmp_path), **options,
            )  # fmt: skip

    shared, how = sides("HEAD~2", "HEAD~1")
    assert how == "shared" and shared["base"].python == shared["head"].python
    assert [p.name for p in (work / "envs").iterdir()] == [shared["base"].python.parent.parent.name]
    assert shared["base"].python.parent.parent.name.startswith("shared-")
    head = shared["head"]
    assert head.import_path == (work / "head", work / "head" / "src", work / "guard")
    assert head.foreign == (work / "base", repository)
    assert (work / "guard" / f"{import_guard.MODULE}.py").is_file()
    assert sides("HEAD~2", "HEAD~1", separate=True)[1] == "per-side"
    apart, how = sides("HEAD~1", "HEAD")
    assert how == "per-side" and apart["base"].python != apart["head"].python
    assert sides("HEAD~1", "HEAD", no_install=True)[1] == "interpreter"


# -- end to end: a project whose suite imports a module of its own from a source directory ------------------

INSTALL_SCRIPT = '''"""What an editable install does, without pip or the network: this checkout's {layout}/ on the
environment's path, beside the test run's own packages (torch, pytest, nerperf)."""
import os
import site

with open(os.path.join(site.getsitepackages()[0], "project.pth"), "w") as pth:
    pth.write("import site; site.addsitedir({outer!r})\\n" + os.path.abspath("{layout}") + "\\n")
'''


def layout_project(root: Path, checkpoint: Path, layout: str) -> Path:
    """A git repository whose conftest takes the head's slowdown from ``LAYOUT/tinynap.py``: base, then head."""
    root.mkdir()
    write_project(root, checkpoint, 4)
    (root / "pyproject.toml").write_text("[project]\nname = 'tinynap'\nversion = '0'\n")
    (root / "install.py").write_text(INSTALL_SCRIPT.format(layout=layout, outer=site.getsitepackages()[0]))
    (root / "conftest.py").write_text(PROJECT_CONFTEST.format(nap="__import__('tinynap').NAP_S", swap=False))
    (root / layout).mkdir()
    (root / layout / "tinynap.py").write_text("NAP_S = 0.0\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, *COMMIT, "-m", "base")
    git(root, "branch", "base")
    (root / layout / "tinynap.py").write_text("NAP_S = 0.02  # the head's variant is slower\n")
    git(root, *COMMIT, "-am", "head: slower")
    return root


GATE = ["base", "--install", "python install.py", "--max-pairs", "6", "--min-effect", "10", "--wait", "passive"]


@pytest.mark.slow
def test_a_src_layout_head_runs_its_own_code_in_the_environment_both_share(
    tmp_path: Path, bert_checkpoint: Path
) -> None:
    project = layout_project(tmp_path / "project", bert_checkpoint, "src")
    done, record = run_gate(project, tmp_path, *GATE)
    assert done.returncode == verdict.WORSE, done.stderr  # the head's own src/tinynap.py, not the base's
    assert record["cases"]["tiny-changed"]["latency"]["verdict"] == "slower"
    assert record["rounds"]["environments"] == "shared" and "the same requirements" in done.stderr
    assert checkouts.ENVIRONMENTS["shared"] in (project / "nerperf-gate" / "summary.md").read_text()
    (shared,) = (tmp_path / "cache" / "gate").glob("*/envs/*")
    assert shared.name.startswith("shared-") and (project / "nerperf-gate" / "install-shared.log").is_file()


@pytest.mark.slow
def test_a_layout_the_gate_does_not_look_in_stops_it_until_the_sides_are_separated(
    tmp_path: Path, bert_checkpoint: Path
) -> None:
    project = layout_project(tmp_path / "project", bert_checkpoint, "lib")
    done, record = run_gate(project, tmp_path, *GATE)
    # lib/ is not on the head's path: its tinynap came from the base's checkout, which the guard names
    assert done.returncode == verdict.NOT_COMPARED, done.stderr
    assert "tinynap" in record["reason"] and "--separate-environments" in record["reason"]
    done, record = run_gate(project, tmp_path, *GATE, "--separate-environments")
    assert done.returncode == verdict.WORSE, done.stderr
    assert record["rounds"]["environments"] == "per-side"
    assert record["cases"]["tiny-changed"]["latency"]["verdict"] == "slower"
