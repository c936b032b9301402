"""The architecture as checks that fail: import-linter's contracts (pyproject.toml), and the shape the
tree keeps (a top level of at most 16 modules, no run records in docs/)."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"


def lint_imports(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", *extra], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_layers_in_pyproject_are_kept() -> None:
    run = lint_imports()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_a_lazy_import_across_a_forbidden_line_breaks_a_contract(tmp_path: Path) -> None:
    """The checker sees imports inside functions: the case runner imports evaluate() lazily, and a contract
    forbidding it is reported broken."""
    config = tmp_path / "contracts.ini"
    config.write_text(
        "[importlinter]\nroot_package = nerperf\n\n[importlinter:contract:lazy]\nname = lazy\ntype = forbidden\n"
        "source_modules = nerperf.case_runner\nforbidden_modules = nerperf.evaluation\n"
    )
    run = lint_imports("--config", str(config))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "nerperf.case_runner -> nerperf.evaluation" in run.stdout


def test_the_top_level_shows_the_architecture() -> None:
    modules = sorted(p.name for p in (ROOT / "nerperf").glob("*.py"))
    assert len(modules) <= 16, modules


def test_docs_hold_no_run_records() -> None:
    """Run records (calibration, bisect, tune runs) live in benches/records, where the scripts read them."""
    assert not sorted((ROOT / "docs").rglob("*.json"))


@pytest.mark.parametrize("page, most", [("docs/gate.md", 300)])
def test_a_method_page_stays_readable(page: str, most: int) -> None:
    assert len((ROOT / page).read_text().splitlines()) <= most


def test_evaluate_takes_at_most_ten_parameters() -> None:
    from nerperf.evaluation import evaluate

    assert len(inspect.signature(evaluate).parameters) <= 10
