"""A project's nerperf settings read as ``pytest`` would read them, for the tools that run without pytest.

The asv suite, ``nerperf cases`` and ``nerperf gate`` resolve the same settings as a pytest run started
in the same directory would, before any conftest.py hook: the ``NERPERF_*`` variables, then the
``nerperf_*`` keys of the first pytest configuration file found upwards, as pytest looks for it
(pytest.ini, .pytest.ini, pyproject.toml's ``[tool.pytest.ini_options]``, tox.ini's ``[pytest]``,
setup.cfg's ``[tool:pytest]``). The settings themselves are :mod:`nerperf.settings`'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nerperf.settings import Settings, SettingsError, from_environment


def project_settings(start: Path) -> Settings:
    """The settings a ``pytest`` run started in ``start`` would resolve, before any conftest.py hook."""
    found = find_ini(start)
    if found is None:
        return Settings.resolve({}, from_environment(), {})
    path, values = found
    return Settings.resolve({}, from_environment(), values, path.name, path.parent)


def find_ini(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The first pytest configuration file from ``start`` upwards, and its nerperf keys."""
    for directory in [start.resolve(), *start.resolve().parents]:
        for name, section in _INI_FILES:
            path = directory / name
            if not path.is_file():
                continue
            values = _read_toml(path) if name == "pyproject.toml" else _read_ini(path, section)
            if values is not None:
                return path, {k: v for k, v in values.items() if k.startswith("nerperf_")}
    return None


_INI_FILES = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("pyproject.toml", "tool.pytest.ini_options"),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)


def _read_toml(path: Path) -> dict[str, Any] | None:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        options = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("pytest", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"{path}: cannot be read as TOML ({error})") from None
    return options.get("ini_options") if "ini_options" in options else None


def _read_ini(path: Path, section: str) -> dict[str, Any] | None:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: cannot be read as an ini file ({error})") from None
    if not parser.has_section(section):
        return None if path.name != "pytest.ini" else {}  # pytest.ini counts even without a [pytest] section
    return dict(parser.items(section))
