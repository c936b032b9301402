"""The pytest plugin (entry point ``pytest11: nerperf``): options, ini keys, fixtures and thin hooks.

Everything of nerperf that imports pytest or pytest-benchmark is in this package: the hooks (here),
the hook a conftest.py implements (:mod:`.hookspecs`), the run's state (:mod:`.session`), timing with
pytest-benchmark (:mod:`.timing`), what it needs of pytest-benchmark's internals
(:mod:`.benchmark_internals`) and the built-in tests (:mod:`.builtin_tests`). The run's state lives in a
:class:`~nerperf.plugin.session.NerperfSession` in ``config.stash``, created when the first nerperf
test is collected: a pytest run that uses no nerperf fixture resolves nothing and imports neither
torch nor transformers. Tests that use ``nerperf_case`` (directly or through ``nerperf_result``) are
parametrized over :func:`nerperf.cases.select`'s cases, with ids from :func:`nerperf.models.registry.param_id`.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import pytest

from nerperf.plugin import benchmark_internals
from nerperf.processes.lockstep import VARIABLE, Lockstep
from nerperf.processes.setup import bind_torch_first
from nerperf.settings import OPTIONS, Settings, SettingsError, checked, from_environment

if TYPE_CHECKING:
    from nerperf.cases import Case
    from nerperf.plugin.session import NerperfSession
    from nerperf.results import EvalResult

bind_torch_first()  # only in a gate's process with threads bound: nerperf/processes/setup.py

SESSION = pytest.StashKey["NerperfSession | None"]()
LOCKSTEP = pytest.StashKey["Lockstep | None"]()
FLOOR_MARK = "nerperf_floor"
MEASURE_MARK = "nerperf_measure"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from nerperf.plugin import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nerperf", "nerperf: NER accuracy floors and benchmarks over checkpoints × variants")
    for option in OPTIONS:
        help_text = f"{option.help}; also {option.env} or ini {option.ini}"
        common = {"dest": f"nerperf_{option.name}", "metavar": option.metavar, "help": help_text}
        if option.many:  # parsed together with the other sources' values, in Settings.resolve
            group.addoption(option.flag, action="append", **common)
        else:
            group.addoption(option.flag, type=checked(option), **common)
        parser.addini(option.ini, help=option.help, type="linelist" if option.many else "string", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{FLOOR_MARK}: an F1 floor test: also runs under --benchmark-only (nerperf's floors are gates)"
    )
    config.addinivalue_line(
        "markers", f"{MEASURE_MARK}(name): a timing test's measure (latency, throughput), for the measures setting"
    )
    config.stash[SESSION] = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under ``nerperf gate``, take turns with the other side's process (:mod:`nerperf.processes.lockstep`),
    from the first timed call on."""
    if os.environ.get(VARIABLE):
        lockstep = Lockstep.from_environment()
        assert lockstep is not None
        session.config.stash[LOCKSTEP] = lockstep


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    lockstep = session.config.stash.get(LOCKSTEP, None)
    if lockstep is not None:
        lockstep.finish()


def nerperf_session(config: pytest.Config) -> NerperfSession:
    """The run's nerperf session, created on first use."""
    current = config.stash.get(SESSION, None)
    if current is None:
        from nerperf.errors import NerperfInputError
        from nerperf.plugin.session import NerperfSession

        try:
            current = NerperfSession(_settings(config))
        except NerperfInputError as error:
            raise pytest.UsageError(f"nerperf: {error}") from None
        current.lockstep = config.stash.get(LOCKSTEP, None)
        current.runner.spin = current.lockstep is None  # taking turns: runtimes' threads must not spin
        if current.lockstep is not None:
            current.runner.evaluation_threads = current.lockstep.threads_beside_partner
        current.runner.status = terminal_status(config)
        if config.pluginmanager.hasplugin("benchmark"):
            benchmark_internals.make_history_durable()  # an interrupted run must not truncate benchmark history
        config.stash[SESSION] = current
    return current


def terminal_status(config: pytest.Config) -> Any:
    """nerperf's status line (:mod:`nerperf.progress`) on pytest's terminal: off unless the output is a
    terminal and pytest runs without ``-q``; written past pytest's output capture."""
    from nerperf.progress import SILENT, Status

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or config.get_verbosity() < 0:
        return SILENT
    with capture.global_and_fixture_disabled():  # captured, standard output is a file, never a terminal
        on_terminal = sys.__stdout__ is not None and sys.__stdout__.isatty()
    if not on_terminal:
        return SILENT
    writer = config.get_terminal_writer()  # the terminal reporter's: where the dots go

    def write(text: str) -> None:
        with capture.global_and_fixture_disabled():
            writer.write(text, flush=True)

    return Status(write, enabled=True, column=lambda: writer.width_of_current_line)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """Erase the status line before pytest writes the test's outcome after it."""
    current = item.config.stash.get(SESSION, None)
    if current is not None:
        current.runner.status.clear()


def _settings(config: pytest.Config) -> Settings:
    settings = _resolve(config)
    changed = config.hook.pytest_nerperf_settings(config=config, settings=settings)
    return changed if changed is not None else settings


def _resolve(config: pytest.Config) -> Settings:
    """Command line, environment, ini and defaults, before any conftest adapts them."""
    command_line = {o.name: config.getoption(f"nerperf_{o.name}") for o in OPTIONS}
    ini = {o.ini: config.getini(o.ini) for o in OPTIONS}
    ini_file = config.inipath.name if config.inipath else "the ini file"
    ini_dir = config.inipath.parent if config.inipath else config.rootpath
    return Settings.resolve(command_line, from_environment(), ini, ini_file, ini_dir)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "nerperf_case" not in metafunc.fixturenames:
        return
    nerperf = nerperf_session(metafunc.config)
    floor = metafunc.definition.get_closest_marker(FLOOR_MARK) is not None
    params = []
    for case in nerperf.floor_cases() if floor else nerperf.cases:
        reason = nerperf.unavailable_variant(case)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    metafunc.parametrize("nerperf_case", params)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Any:
    """Order nerperf tests by case (baseline first, one checkpoint at a time); keep floors under --benchmark-only;
    deselect the suite's tests of measures the measures setting leaves out, and of cases the cases setting does.

    A wrapper, so that it runs after every plugin's implementation, pytest-benchmark's included: under
    --benchmark-only that one marks every test without its ``benchmark`` fixture skipped, and floors are
    accuracy gates that belong in every run, so that mark (only that one) is taken off them
    (:func:`~nerperf.plugin.benchmark_internals.keep_under_benchmark_only`).
    """
    outcome = yield
    nerperf = config.stash.get(SESSION, None)
    if nerperf is None:
        return outcome
    left_out = []
    if nerperf.settings.measures:
        wanted = (None, *nerperf.settings.measures)  # None: a test of the user's own, always kept
        left_out += [item for item in items if _case(item) is not None and _measure(item) not in wanted]
    if nerperf.settings.cases:
        known = {case.id for case in nerperf.selection.cases}
        unknown = sorted(set(nerperf.settings.cases) - known)
        if unknown:
            raise pytest.UsageError(
                f"nerperf: the cases setting names {', '.join(unknown)}, which the selection does not hold; "
                f"choose among {', '.join(sorted(known))}"
            )
        left_out += [
            item for item in items if (case := _case(item)) is not None and case.id not in nerperf.settings.cases
        ]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        gone = set(left_out)
        items[:] = [item for item in items if item not in gone]
    positions = [i for i, item in enumerate(items) if _case(item) is not None]
    ordered = sorted((items[i] for i in positions), key=lambda item: nerperf.order(_case(item)))  # type: ignore[arg-type]
    for position, item in zip(positions, ordered, strict=True):
        items[position] = item
        if item.get_closest_marker(FLOOR_MARK) is not None:
            benchmark_internals.keep_under_benchmark_only(config, item)
    return outcome


def _measure(item: pytest.Item) -> str | None:
    """A suite test's measure: floor, latency or throughput; None for a test of the user's own."""
    if item.get_closest_marker(FLOOR_MARK) is not None:
        return "floor"
    mark = item.get_closest_marker(MEASURE_MARK)
    return str(mark.args[0]) if mark is not None and mark.args else None


def _case(item: pytest.Item) -> Case | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("nerperf_case") if callspec is not None else None


@pytest.fixture(scope="session")
def nerperf(request: pytest.FixtureRequest) -> NerperfSession:
    """The run's nerperf session: settings, evaluations, floors."""
    return nerperf_session(request.config)


@pytest.fixture
def nerperf_case(request: pytest.FixtureRequest) -> Case:
    """The checkpoint × variant of this test (parametrized by the plugin)."""
    return request.param


@pytest.fixture
def nerperf_result(nerperf: NerperfSession, nerperf_case: Case) -> EvalResult:
    """The case's evaluation on the sample, run once per session; skips with the reason where it cannot run."""
    return nerperf.result(nerperf_case)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    nerperf = config.stash.get(SESSION, None)
    if nerperf is None or not (nerperf.runner.results or nerperf.not_run()):
        return
    terminalreporter.write_sep("-", "nerperf: the study's Table 5 for this run")
    terminalreporter.write_line(nerperf.summary())
    from pathlib import Path

    if nerperf.settings.report:
        for path in nerperf.write_report(Path(nerperf.settings.report)):
            terminalreporter.write_line(f"nerperf: wrote {path}")
    if nerperf.settings.samples:
        written = nerperf.write_samples(Path(nerperf.settings.samples))
        terminalreporter.write_line(
            f"nerperf: wrote the raw samples of {len(written)} cases to {nerperf.settings.samples}"
        )


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    """CPU model and flags, threads and library versions: what moves the timings, in every saved run.

    pytest-benchmark asks before the tests (to compare) and after them (to save), so every value here is
    known without running anything: the threads setting, or the CPUs torch's default takes them from.
    """
    from nerperf.machine import cpu_flags, cpu_model, installed_version, machine_label, usable_cpus

    try:
        threads: int | str | None = _resolve(config).threads
    except SettingsError:
        threads = None  # reported when the nerperf tests run
    if threads is None:
        threads = f"torch default ({len(usable_cpus())} CPUs available)"
    relevant = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    machine_info["nerperf"] = {
        "machine": machine_label(),
        "cpu_model": cpu_model(),
        "cpu_flags": sorted(f for f in cpu_flags() if f in relevant),
        "threads": threads,
        **{package: installed_version(package) for package in ("torch", "transformers", "onnxruntime", "nerperf")},
    }
