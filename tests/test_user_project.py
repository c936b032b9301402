"""nerperf as a user adds it to their project: the built wheel (not an editable install) in a fresh
environment, in a directory outside this repository, with the README's "In your project" files written as
the README shows them, and ``pytest --benchmark-only`` run there as the README writes it.

Twice: at the lowest versions nerperf declares (read from the wheel's own metadata) of every requirement of
its own and of the ``[onnx]`` extra the README installs, and at the newest the registry serves (whatever pip
resolves), torch aside: both ends take torch 2.13.0's CPU build, the one on this machine's disk (newer
releases on PyPI are CUDA builds of several GB; CONTRIBUTING.md, "Supported versions", says how the newest
torch was tested). The README's install lines name a package index and a PyPI release that these machines
cannot reach, so the test installs their equivalents: torch's CPU build first, then the wheel with its
``[onnx]`` extra; at the lowest end ``[history]`` is then added at its lowest (the report's figures, asv).
Another test runs the OpenVINO variants with ``[openvino]`` and every requirement at its lowest.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
ENDS = ("torch", "transformers", "pytest", "pytest-benchmark", "onnx", "onnxruntime")  # the last two: [onnx]
DEV_SENTENCES = 200  # the user's dev file: a small one keeps the test to a couple of minutes
# The torch each end installs first: the CPU build on this machine's disk, or another release to try by hand
# (CONTRIBUTING.md, "Supported versions": NERPERF_USER_TORCH=2.14.1 for the newest pip can install here).
TORCH = f"torch=={os.environ.get('NERPERF_USER_TORCH', '2.13.0')}"


def readme_block(language: str, first_line: str) -> str:
    """The README's fenced ``language`` block that starts with ``first_line``, as written there."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    (found,) = [b for b in blocks if b.startswith(first_line)]
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("nerperf-*.whl")
    return built


def lower_bounds(wheel: Path, extra: str = "onnx") -> dict[str, str]:
    """The lowest version the wheel's metadata allows for each requirement of nerperf and its ``extra`` that
    applies here (the highest ``>=`` where both name one: transformers in ``[onnx]``)."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(name).decode().splitlines()
    found: dict[str, str] = {}
    named = set()
    for line in lines:
        if line.startswith("Requires-Dist:"):
            requirement = Requirement(line.partition(":")[2].strip())
            marker = requirement.marker
            if marker is None or marker.evaluate({"extra": extra}):
                named.add(requirement.name)
                for lowest in [s.version for s in requirement.specifier if s.operator == ">="]:
                    if Version(lowest) > Version(found.get(requirement.name, "0")):
                        found[requirement.name] = lowest
    assert named == set(found), f"no lower bound declared for {sorted(named - set(found))}"
    assert extra != "onnx" or set(ENDS) <= set(found), f"the wheel lacks a lower bound: {found}"
    return found


def test_the_wheels_runtime_requirements_are_ranges(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requirements = [line for line in archive.read(name).decode().splitlines() if line.startswith("Requires-Dist:")]
    runtime = [r for r in requirements if "extra ==" not in r]
    assert runtime and not [r for r in runtime if "==" in r], runtime
    assert not [r for r in requirements if re.search(r"[a-z0-9]==", r.split(";")[0])], "an extra pins a version"


@pytest.fixture
def user_home(end: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A directory outside the repository for the user's venv and project; the venv (gigabytes: torch) is
    removed once the test is done, failed or not, so that the two ends never fill CI's disk together."""
    home = tmp_path_factory.mktemp(f"user-{end}")
    assert ROOT not in home.parents
    yield home
    shutil.rmtree(home / "venv", ignore_errors=True)


def user_environment() -> dict[str, str]:
    """This process's environment as a user's shell would have it: without this run's ``NERPERF_``, ``PYTHON``
    and ``PYTEST`` variables, which would hand the user's nerperf, Python or pytest this repository's settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("NERPERF_", "PYTHON", "PYTEST"))}


def install(venv: Path, wheel: str, pins: dict[str, str]) -> None:
    """A fresh ``venv`` with torch's CPU build first (as the README says), then ``wheel`` (with its extra) at
    ``pins``; torch stays the one :data:`TORCH` names."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip_install(venv, TORCH)
    pip_install(venv, wheel, pins=pins)


def pip_install(venv: Path, *packages: str, pins: dict[str, str] | None = None) -> None:
    """``packages`` into ``venv`` with every other requirement at ``pins`` but torch (the one :data:`TORCH`
    names stays), without pip's byte-compiling of every installed module (``--no-compile``): Python compiles
    what a run imports, and each environment takes half a minute less to make."""
    pinned = [f"{name}=={version}" for name, version in (pins or {}).items() if name != "torch"]
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]
    installed = subprocess.run([*pip, *packages, *pinned], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-3000:]


def versions(venv: Path, bounds: dict[str, str], cwd: Path) -> dict[str, Version]:
    """The public version installed in ``venv`` of each package ``bounds`` names (2.13.0+cpu: 2.13.0), run from
    ``cwd`` after checking that its nerperf is the wheel's, no file of this repository."""
    script = "import sys, nerperf, importlib.metadata as m; print(nerperf.__file__, *map(m.version, sys.argv[1:]))"
    names = list(bounds)
    environment = user_environment()
    where, *found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script, *names], cwd=cwd, env=environment, capture_output=True,
        text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert Path(where).is_relative_to(venv), where
    return {name: Version(Version(v).public) for name, v in zip(names, found, strict=True)}


def installed_at(bounds: dict[str, str]) -> dict[str, Version]:
    """What :func:`versions` must find at the lowest end: every bound, torch as :data:`TORCH` names it."""
    return {name: Version(v) for name, v in bounds.items()} | {"torch": Version(TORCH.split("==")[1])}


@pytest.mark.slow
@pytest.mark.parametrize("end", ["lowest", "newest"])
def test_the_readmes_project_passes_from_the_wheel(end: str, wheel: Path, shared: Path, user_home: Path) -> None:
    home = user_home
    venv, project = home / "venv", home / "project"
    bounds = lower_bounds(wheel)
    install(venv, f"{wheel}[onnx]", bounds if end == "lowest" else {})

    (project / "tests").mkdir(parents=True)
    module = readme_block("python", "# tests/test_ner_models.py\n")
    (project / "tests" / "test_ner_models.py").write_text(module)
    (project / "pyproject.toml").write_text(readme_block("toml", "[tool.pytest.ini_options]\n"))
    (project / "checkpoints").mkdir()
    (project / "checkpoints" / "ner-v7").symlink_to(shared / "models" / "minilm-l6-conll03")
    (project / "checkpoints" / "ner-v8").symlink_to(shared / "models" / "minilm-l3-conll03")
    (project / "data").mkdir()
    sentences = (shared / "data" / "conll2003" / "valid.txt").read_text().split("\n\n")
    (project / "data" / "dev.txt").write_text("\n\n".join(sentences[: DEV_SENTENCES + 1]) + "\n")  # -DOCSTART- too

    command = readme_block("bash", "pytest --benchmark-only\n").strip()  # the block holds that one line
    environment = user_environment()
    environment.update(PATH=f"{venv / 'bin'}:{environment['PATH']}", NERPERF_CACHE_DIR=str(home / "cache"))
    done = subprocess.run(command.split(), cwd=project, env=environment, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]

    ran = versions(venv, bounds, project)
    if end == "lowest":
        assert ran == installed_at(bounds)
        report_and_asv_at_historys_lowest(wheel, venv, project, environment)
    assert "nerperf: the study's Table 5 for this run" in output
    assert re.search(r"\b17 passed\b", output), output[
        -3000:
    ]  # 5 floors (not the baseline's), 6 latencies, 6 throughputs
    for case in ("ours-int8", "ours-onnx-int8", "candidate-fp32", "candidate-int8", "candidate-onnx-int8"):
        assert re.search(rf"^F1 floor holds: {case} F1 ", output, flags=re.M), f"{case}: no floor line"


@pytest.mark.slow
@pytest.mark.parametrize("end", ["lowest"])
def test_the_openvino_variants_run_at_their_extras_lowest_versions(
    end: str, wheel: Path, shared: Path, user_home: Path
) -> None:
    """``[openvino]`` at its lowest (openvino, nncf, onnx and transformers, with every core requirement at its
    own): both OpenVINO variants build, calibrate and score; the README's project covers ``[onnx]``."""
    venv = user_home / "venv"
    bounds = lower_bounds(wheel, "openvino")
    install(venv, f"{wheel}[openvino]", bounds)
    environment = user_environment()
    environment.update(NERPERF_CACHE_DIR=str(user_home / "cache"))
    model, data = shared / "models" / "minilm-l3-conll03", shared / "data" / "conll2003" / "valid.txt"
    for variant in ("openvino", "openvino-int8"):
        done = subprocess.run(
            [str(venv / "bin" / "nerperf"), "eval", "--model", str(model), "--data", str(data), "--sentences", "100",
             "--variant", variant, "--threads", "2"],
            cwd=user_home, env=environment, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        assert re.search(rf"^\S+minilm-l3-conll03\s+{variant}\s+0\.9\d+\s", done.stdout, flags=re.M), done.stdout
    assert versions(venv, bounds, user_home) == installed_at(bounds)


def report_and_asv_at_historys_lowest(wheel: Path, venv: Path, project: Path, environment: dict[str, str]) -> None:
    """``[history]`` added at its lowest versions beside every other requirement at its own: a ``nerperf eval
    --json`` result becomes a report with its figures (matplotlib), and asv reads this repository's
    ``asv.conf.json``, loads its plugin from the wheel and finds the suite (``asv check``, no environments).
    Run from the project: the repository's own ``nerperf/`` would shadow the wheel's."""
    bounds = lower_bounds(wheel, "history") | lower_bounds(wheel)  # [onnx]'s bounds stay where both name one
    pip_install(venv, f"{wheel}[history]", pins=bounds)
    nerperf, python = str(venv / "bin" / "nerperf"), str(venv / "bin" / "python")
    for command in (
        [nerperf, "eval", *"--model checkpoints/ner-v8 --data data/dev.txt --sentences 100 --json eval.json".split()],
        [nerperf, "report", "eval.json", "--out", "report"],
        [python, "-m", "asv", "check", "-E", "existing", "--config", str(ROOT / "asv.conf.json")],
    ):
        done = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True)
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "No problems found" in done.stdout, done.stdout
    assert list((project / "report" / "figures").glob("*.png")), "the report drew no figure"
    assert versions(venv, bounds, project) == installed_at(bounds)
