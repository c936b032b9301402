"""nerperf's import graph: no cycles (lazy imports included), a core free of pytest and matplotlib,
and a package that imports neither torch nor transformers until a model is loaded or run."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nerperf

PACKAGE = Path(nerperf.__file__).parent
TEST_ONLY_LIBRARIES = ("pytest", "pytest_benchmark", "_pytest")
# Not in what `from nerperf import evaluate` loads, whatever depth the import is at.
NOT_IN_THE_CORE = (*TEST_ONLY_LIBRARIES, "matplotlib")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """Every module ``name`` imports, at any depth (functions included), but not under TYPE_CHECKING."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _walk_outside_type_checking(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from pkg import module`` imports the module; ``from pkg import name``, the package itself.
            # (The parent packages of any module are imported first anyway: not counted as edges.)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return found


def _walk_outside_type_checking(tree: ast.AST) -> list[ast.AST]:
    nodes, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        nodes.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return nodes


GRAPH = {name: {m for m in imports(name) if m in MODULES and m != name} for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each a cycle or several."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(GRAPH[node])
    return seen


def test_no_import_cycles_counting_lazy_imports() -> None:
    assert cycles(GRAPH) == []


def test_the_cycle_check_can_fail() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    assert "nerperf.variants.torch_variants" in GRAPH["nerperf.variants"]  # imported inside a function
    assert "nerperf.plugin.session" in GRAPH["nerperf.plugin"]
    assert "nerperf.plugin.hookspecs" in GRAPH["nerperf.plugin"]


def test_the_core_imports_no_test_or_plotting_library() -> None:
    """What ``from nerperf import evaluate`` can load, at any depth, imports neither pytest nor matplotlib."""
    core = reachable("nerperf.evaluation") | {"nerperf"}
    assert not any(m.startswith(("nerperf.plugin", "nerperf.report.figures")) for m in core)
    offending = {
        module: sorted(i for i in imports(module) if i.split(".")[0] in NOT_IN_THE_CORE)
        for module in sorted(core)
        if any(i.split(".")[0] in NOT_IN_THE_CORE for i in imports(module))
    }
    assert offending == {}


def test_only_the_plugin_imports_pytest_and_only_the_figures_matplotlib() -> None:
    users = {
        library: sorted(m for m in MODULES if any(i.split(".")[0] == library for i in imports(m)))
        for library in ("pytest", "pytest_benchmark", "matplotlib")
    }
    assert all(m.startswith("nerperf.plugin") for m in users["pytest"])
    assert all(m.startswith("nerperf.plugin") for m in users["pytest_benchmark"])
    assert users["matplotlib"] == ["nerperf.report.figures"]


def test_the_suite_shim_stays_out_of_the_core() -> None:
    assert "nerperf.suite" not in reachable("nerperf.evaluation")


def test_no_heavy_imports() -> None:
    """Importing any of nerperf's modules imports neither torch, transformers nor matplotlib."""
    code = (
        f"import importlib, sys\n"
        f"for name in {sorted(MODULES)!r}: importlib.import_module(name)\n"
        f"heavy = ('torch', 'transformers', 'datasets', 'seqeval', 'matplotlib')\n"
        f"print(','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_plugin_loads_none_of_the_models_variants_or_data() -> None:
    """pytest loads the plugin in every run of a project that installs nerperf: what it imports as it loads
    is every such run's cost, so nothing of the models, the variants or the data comes with it (0.13's
    bound-threads check once brought 19 modules)."""
    code = "import sys, nerperf.plugin\nprint(','.join(m for m in sorted(sys.modules) if m.startswith('nerperf.')))"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NERPERF_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
    loaded = done.stdout.strip().split(",")
    assert "nerperf.plugin" in loaded
    assert not [m for m in loaded if m.split(".")[1] in ("models", "variants", "data", "evaluation", "gate")]


def test_lazy_exports() -> None:
    assert callable(nerperf.evaluate)
    assert nerperf.EvalResult.__name__ == "EvalResult"


def test_what_users_import_still_works() -> None:
    from nerperf.floors import assert_f1_floor
    from nerperf.plugin.builtin_tests import test_f1_floor as moved
    from nerperf.suite import test_f1_floor, test_latency, test_throughput

    assert test_f1_floor is moved and callable(test_latency) and callable(test_throughput)
    assert callable(assert_f1_floor)
    from importlib import metadata

    entry = [e for e in metadata.entry_points(group="pytest11") if e.name == "nerperf"]
    assert [e.value for e in entry] == ["nerperf.plugin"]
