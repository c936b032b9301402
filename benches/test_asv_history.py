"""asv end to end on the working tree: record results, publish the pages, and look at them in Chromium.

A small slice of the asv suite (one checkpoint, two variants, 100 sentences, one process per benchmark
rather than asv's two) keeps this to about a minute; ``asv run`` over commits in virtualenvs is the
README's "History with asv". Results and pages go to a temporary directory, never ``.asv/``.
Screenshots are kept where ``$NERPERF_SCREENSHOTS`` says.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import json5
import pytest

ROOT = Path(__file__).resolve().parents[1]
CASES = ("minilm-l3-conll03-fp32", "minilm-l3-conll03-onnx-int8")


def asv(*args: str, config: Path, env: dict[str, str], timeout: int = 900) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "asv", *args, "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"asv {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def flot_layout_race(error: str) -> bool:
    """asv's graph page plots into a container that, on a loaded machine, may not be laid out yet: flot
    then throws "Invalid dimensions for plot, width = 0" for that plot and draws the others (asv#596 gave
    the graphs a min-height for the height=0 case; seen here once, in CI, while another asv run shared the
    2 cores). Tolerated only beside a drawn graph, which the test checks first."""
    return "Invalid dimensions for plot, width = 0" in error


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> tuple[Path, dict[str, str], Path]:
    """asv results for this commit, recorded with ``-E existing``, and their pages published."""
    from nerperf.variants.cache import default_root

    tmp = tmp_path_factory.mktemp("asv")
    conf = json5.loads((ROOT / "asv.conf.json").read_text())
    conf.update(  # a config file's relative paths are taken from its own directory
        repo=str(ROOT),
        benchmark_dir=str(ROOT / conf["benchmark_dir"]),
        results_dir=str(tmp / "results"),
        html_dir=str(tmp / "html"),
        env_dir=str(tmp / "env"),
    )
    config = tmp / "asv.conf.json"
    config.write_text(json.dumps(conf))
    env = {
        **os.environ,
        "HOME": str(tmp),  # asv's machine file (~/.asv-machine.json) is the test's own
        "NERPERF_CACHE_DIR": str(default_root()),
        "NERPERF_CHECKPOINTS": "minilm-l3-conll03",
        "NERPERF_VARIANTS": "fp32,onnx-int8",
        "NERPERF_SENTENCES": "100",
    }
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    asv("machine", "--yes", "--machine", "nerperf-test", config=config, env=env)
    asv(
        "run", "-E", f"existing:{sys.executable}", "--set-commit-hash", commit.stdout.strip(),
        "--machine", "nerperf-test", "--show-stderr", "-a", "processes=1", config=config, env=env,
    )  # fmt: skip
    asv("publish", config=config, env=env)
    return config, env, tmp


def test_results_hold_every_case_and_benchmark(published: tuple[Path, dict[str, str], Path]) -> None:
    _, _, tmp = published
    [result_file] = [p for p in (tmp / "results" / "nerperf-test").glob("*.json") if p.name != "machine.json"]
    results = json.loads(result_file.read_text())["results"]
    assert set(results) == {
        "ner.Speed.time_latency",
        "ner.Speed.time_throughput",
        "ner.Accuracy.peakmem_evaluate",
        "ner.Accuracy.track_f1_error",
    }
    for name, values in results.items():
        figures = dict(zip(values[1][0], values[0], strict=True))
        assert set(figures) == {f"'{case}'" for case in CASES}, name
        assert all(v is not None and v > 0 for v in figures.values()), (name, figures)
    track = results["ner.Accuracy.track_f1_error"]
    errors = dict(zip(track[1][0], track[0], strict=True))
    assert 5 < errors[f"'{CASES[0]}'"] < 20  # 100 × (1 − F1) in points: minilm-l3 has F1 about 0.89


def test_the_pages_draw_their_graphs_in_chromium(
    published: tuple[Path, dict[str, str], Path], chromium, asv_cdn_mirror: Path
) -> None:
    config, env, tmp = published
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "asv", "preview", "--port", str(port), "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not listening(port):
            assert time.monotonic() < deadline and server.poll() is None, "asv preview did not start"
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}/"
        grid = chromium(base, tmp / "asv_summary.png", selectors=["a[href*='track_f1_error']"], cdn=asv_cdn_mirror)
        assert grid.errors == [] and grid.counts["a[href*='track_f1_error']"] >= 1
        graph = chromium(
            base + "#ner.Speed.time_latency",
            tmp / "asv_graph.png",
            selectors=["canvas.flot-base"],
            wait_for="canvas.flot-base",
            cdn=asv_cdn_mirror,
        )
        assert graph.counts["canvas.flot-base"] >= 1, graph.errors
        assert [e for e in graph.errors if not flot_layout_race(e)] == []
    finally:
        server.terminate()
        server.wait(timeout=10)
