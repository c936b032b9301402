"""Repository-level defaults for tests/ and benches/: where the offline data and checkpoints are.

``../shared`` beside the repository holds the real CoNLL-2003 splits and two fine-tuned checkpoints;
``NERPERF_SHARED`` points elsewhere. They are read by path and never copied into the repository.

What runs: ``pytest`` runs the unit tests (``tests/``), in pytest-xdist workers (:func:`pytest_cmdline_main`);
``pytest --benchmark-only`` runs the benchmark suite (``benches/``), floors included; ``pytest benches`` runs
all of benches/, checks without timings included.

The nerperf plugin's settings here are pyproject.toml's ``nerperf_*`` keys: the shared CoNLL-2003
directory as the data, the shared models registered beside the study's checkpoints. One default
depends on what is reachable, so it is set here (:func:`pytest_nerperf_settings`): where the study's
baseline cannot be had (no hub, not in the Hugging Face cache) the floors are relative to
``minilm-l6-conll03`` instead. The study's checkpoints then skip with their reason; with the hub they run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nerperf.machine import usable_cpus
from nerperf.settings import Settings

ROOT = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("NERPERF_SHARED", ROOT.parent / "shared"))
OFFLINE_BASELINE = "minilm-l6-conll03"
pytest_plugins = ["pytester"]  # the plugin's tests run pytest in subprocesses


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared directory; tests that need it skip, saying how to provide it, where it is missing."""
    if not (SHARED / "data" / "conll2003" / "test.txt").is_file():
        pytest.skip(f"the shared data is not at {SHARED}; set NERPERF_SHARED to its directory")
    return SHARED


FAST_TEST_WORKERS = 4  # at most: each worker imports torch and transformers (about 0.5 GB)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which turns the worker count into a session
def pytest_cmdline_main(config: pytest.Config) -> None:
    """The fast tests, run whole as the README runs them (``pytest``, no paths), in pytest-xdist workers, one per
    usable CPU up to :data:`FAST_TEST_WORKERS`: they are single-threaded and time nothing, and on 2 cores they
    take two thirds of the time. Every other run stays in one process: ``--benchmark-only`` and ``benches/``
    time (pytest-benchmark refuses xdist), ``-m slow`` drives child processes that pin cores and take turns,
    and a run naming paths is usually a few tests. ``-n N`` decides instead (``-n 0``: one process)."""
    whole_fast_suite = (
        config.args_source == pytest.Config.ArgsSource.TESTPATHS
        and config.getoption("markexpr", "") == "not slow"
        and not config.getoption("benchmark_only", False)
    )
    is_worker = hasattr(config, "workerinput")  # a worker runs this hook too, its count reset
    if not whole_fast_suite or is_worker or not config.pluginmanager.hasplugin("xdist"):
        return
    workers = min(len(usable_cpus()), FAST_TEST_WORKERS)
    if config.getoption("numprocesses", None) is None and workers > 1:
        config.option.numprocesses = workers


def pytest_configure(config: pytest.Config) -> None:
    """Under --benchmark-only with no paths named, collect benches/ instead of the testpaths (tests/)."""
    if config.getoption("benchmark_only", False) and config.args_source == pytest.Config.ArgsSource.TESTPATHS:
        config.args[:] = [str(ROOT / "benches")]


def pytest_nerperf_settings(config: pytest.Config, settings: Settings) -> Settings | None:
    """The offline baseline described above, unless someone set the baseline (option, environment, ini)."""
    if settings.where("baseline") != "default" or _can_load(settings.baseline):
        return None
    return settings.with_defaults("conftest.py (offline default)", baseline=OFFLINE_BASELINE)


def _can_load(name: str) -> bool:
    """Whether a study checkpoint's weights can be had: the hub answers, or its cache has them."""
    from huggingface_hub import try_to_load_from_cache

    from nerperf.data.hub import unreachable_reason
    from nerperf.models.registry import STUDY

    source = STUDY[name].source if name in STUDY else name
    return unreachable_reason() is None or isinstance(try_to_load_from_cache(source, "config.json"), str)


@dataclass(frozen=True)
class Look:
    """What headless Chromium saw of a page: its console errors and uncaught exceptions, and counts."""

    errors: list[str]
    counts: dict[str, int]  # CSS selector -> elements matching it once the page settled
    screenshot: Path


@pytest.fixture(scope="session")
def chromium() -> Callable[..., Look]:
    """Open a page in Debian's headless Chromium through Playwright; skipped, saying how, without them.

    Screenshots go to ``$NERPERF_SCREENSHOTS`` when set (kept), else to the test's temporary directory.
    """
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Chromium is not installed: `apt-get install chromium` (Debian) to check pages in a browser")
    sync_playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is in nerperf[test]"
    ).sync_playwright

    def look(
        url: str, screenshot: Path, selectors: Sequence[str] = (), wait_for: str | None = None, cdn: Path | None = None
    ) -> Look:
        keep = os.environ.get("NERPERF_SCREENSHOTS")
        path = Path(keep) / screenshot.name if keep else screenshot
        errors: list[str] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                if cdn is not None:
                    page.route("https://**/*", lambda route: _from_mirror(route, cdn))
                    page.route("http://127.0.0.1:*/", _without_integrity)
                page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
                page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
                page.goto(url, wait_until="networkidle")
                if wait_for:
                    page.wait_for_selector(wait_for, timeout=30_000)
                counts = {s: page.locator(s).count() for s in selectors}
                path.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(path), full_page=True)
            finally:
                browser.close()
        return Look(errors, counts, path)

    return look


# As the machine's own check starts it: no sandbox as root, and no background connections, which this
# machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The scripts and styles asv's pages (asv 0.6) load from CDNs, as npm packages and paths in them. No CDN
# is reachable here; the same libraries come from the npm registry instead (stupidtable, which only sorts
# tables, in npm's one release, 1.1.3, for the CDN's 1.0.1).
ASV_CDN = {
    "https://code.jquery.com/jquery-3.3.1.min.js": ("jquery@3.3.1", "dist/jquery.min.js"),
    **{
        f"https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot{part}.min.js": (
            "flot@0.8.3",
            f"jquery.flot{part}.js",
        )
        for part in ("", ".time", ".selection", ".categories")
    },
    "https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js": (
        "stupid-table-plugin@1.1.3",
        "stupidtable.min.js",
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js": ("blueimp-md5@2.19.0", "js/md5.min.js"),
}
JSDELIVR = "https://cdn.jsdelivr.net/npm/"  # /npm/PACKAGE@VERSION/PATH is the npm package's own file
ASV_JSDELIVR_PACKAGES = ("flot-orderbars@1.0.0", "bootstrap@3.1.1")


@pytest.fixture(scope="session")
def asv_cdn_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """asv's CDN libraries unpacked from the npm registry, for its pages without a CDN; skips without npm."""
    import subprocess
    import tarfile

    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: asv's pages load their scripts from CDNs, mirrored here from npm")
    root = tmp_path_factory.mktemp("cdn")
    packages = sorted({package for package, _ in ASV_CDN.values()} | set(ASV_JSDELIVR_PACKAGES))
    done = subprocess.run([npm, "pack", "--silent", *packages], cwd=root, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"npm could not fetch asv's page libraries: {done.stderr.strip()[-300:]}")
    for package, tarball in zip(packages, done.stdout.split(), strict=True):
        with tarfile.open(root / tarball) as archive:
            archive.extractall(root / package, filter="data")
    return root


def _without_integrity(route: Any) -> None:
    """The page without its subresource-integrity hashes, which name the CDN's minified files: the npm
    packages carry the same releases unminified (flot) or in another release (stupidtable)."""
    import re

    response = route.fetch()
    route.fulfill(response=response, body=re.sub(r'\sintegrity="[^"]*"', "", response.text()))


def _from_mirror(route: Any, root: Path) -> None:
    url = route.request.url
    package, path = ASV_CDN.get(url, (None, None))
    if package is None and url.startswith(JSDELIVR):
        package, _, path = url.removeprefix(JSDELIVR).partition("/")
        path = path.split("?")[0]
    local = root / package / "package" / path if package else None
    if local is None or not local.is_file():
        route.abort()  # shows in the console: nothing is fetched from outside
        return
    kind = "text/css" if local.suffix == ".css" else "application/javascript" if local.suffix == ".js" else None
    route.fulfill(path=str(local), content_type=kind)
