"""The examples in nerperf's docstrings run and give what they show, in every subpackage too."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nerperf

# Every module, subpackages' included; the plugin's modules import pytest, which is here anyway.
MODULES = sorted(m.name for m in pkgutil.walk_packages(nerperf.__path__, "nerperf."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    found = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert found.failed == 0


def test_the_subpackages_examples_are_collected() -> None:
    assert {"nerperf.gate.rounds", "nerperf.gate.sequential", "nerperf.report.figures"} <= set(MODULES)
