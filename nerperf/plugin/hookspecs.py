"""Hooks a conftest.py may implement to adapt nerperf to its repository."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from nerperf.settings import Settings


@pytest.hookspec(firstresult=True)
def pytest_nerperf_settings(config: pytest.Config, settings: Settings) -> Settings | None:
    """Return changed settings (``dataclasses.replace``), e.g. defaults that depend on what is reachable.

    Called once, when the first nerperf test is collected. ``settings.where(name)`` says where a value
    came from ("default" when nobody set it): change only defaults, so that users' choices still win.
    """
