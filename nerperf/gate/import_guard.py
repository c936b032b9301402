"""A pytest plugin that every round of a gate loads, which records the modules the round imported from
where its side's code must not come from; it stands alone (the standard library only), since a round's
own nerperf may be another version than the gate's.

Both sides of a gate run in one environment when their requirements are the same (docs/gate.md, "What a gate
does", 1), each importing its code from its own checkout, put first on the import
path. A module that the side's checkout lacks (deleted, or in a layout the gate does not put on the path)
would then come from the other side's checkout through the environment's editable install: the wrong
code, timed silently. Under ``--no-install`` a project installed in the gate's own interpreter would
come from the repository's working tree. So the gate names those places (the other checkout, the
repository) in :data:`FOREIGN_VARIABLE`; at the end of the session this plugin writes the modules found
under them (outside the side's own checkout and its interpreter's prefix) to :data:`REPORT` in the
round's directory, and the gate refuses to compare a round that names any.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

MODULE = "nerperf_gate_import_guard"  # the name the gate copies this file under, loaded with -p
FOREIGN_VARIABLE = "NERPERF_GATE_FOREIGN"  # the places a round's modules must not come from (os.pathsep)
OWN_VARIABLE = "NERPERF_GATE_OWN"  # the side's own checkout: always allowed, wherever it lies
REPORT = "imports.json"  # in the round's directory (NERPERF_REPORT)


def foreign_modules(
    modules: Mapping[str, ModuleType | None], own: Iterable[str], foreign: Iterable[str]
) -> dict[str, str]:
    """Module name -> file, for the modules whose file lies under a ``foreign`` directory and under no ``own``."""
    owned = [_directory(p) for p in own if p]
    barred = [_directory(p) for p in foreign if p]
    found = {}
    for name, module in list(modules.items()):
        where = getattr(module, "__file__", None)
        if not isinstance(where, str):
            continue
        path = os.path.realpath(where)
        if any(path.startswith(d) for d in barred) and not any(path.startswith(d) for d in owned):
            found[name] = path
    return found


def _directory(path: str) -> str:
    return os.path.join(os.path.realpath(path), "")


def pytest_unconfigure(config: object) -> None:
    report = os.environ.get("NERPERF_REPORT")
    if not report:
        return
    own = [os.environ.get(OWN_VARIABLE, ""), sys.prefix, sys.base_prefix, os.path.dirname(os.path.abspath(__file__))]
    found = foreign_modules(sys.modules, own, os.environ.get(FOREIGN_VARIABLE, "").split(os.pathsep))
    os.makedirs(report, exist_ok=True)
    with open(os.path.join(report, REPORT), "w", encoding="utf-8") as written:
        json.dump({"foreign": found}, written, indent=1, sort_keys=True)


def install(directory: Path) -> Path:
    """This file copied into ``directory`` as :data:`MODULE`, for the rounds' import path; the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(__file__, directory / f"{MODULE}.py")
    return directory


def read(round_directory: Path) -> dict[str, str] | None:
    """The round's foreign modules; None when the plugin wrote no report (its pytest never finished)."""
    path = round_directory / REPORT
    if not path.is_file():
        return None
    return dict(json.loads(path.read_text())["foreign"])
