"""F1 floors: the arithmetic, and a failure message with both figures, the tolerance and per-type F1."""

from __future__ import annotations

import pytest
from tiny import made_up_result as result

from nerperf.floors import assert_f1_floor, check


@pytest.mark.parametrize(
    ("f1", "reference", "tolerance", "held"),
    [
        (0.90, 0.91, 1.0, True),
        (0.90, 0.91, 0.5, False),
        (0.86, 0.91, 5.0, True),  # exactly at the floor
        (0.92, 0.91, 0.0, True),
        (0.91, 0.91, 0.0, True),
    ],
)
def test_floor_arithmetic(f1: float, reference: float, tolerance: float, held: bool) -> None:
    assert check(result(f1), result(reference), tolerance).held is held


def test_a_violation_prints_both_figures_the_tolerance_and_per_type_scores() -> None:
    with pytest.raises(AssertionError) as failure:
        assert_f1_floor(result(0.80, variant="int8"), result(0.90), 1.0, ("m-int8", "m-fp32"))
    message = str(failure.value)
    assert "F1 floor VIOLATED: m-int8 F1 80.00 against m-fp32 F1 90.00 - tolerance 1.00 points = floor 89.00" in message
    assert "(-10.00 points)" in message
    assert "F1 of m-fp32" in message and "LOC" in message and "-10.00" in message


def test_random_weights_cannot_be_held_to_a_floor() -> None:
    with pytest.raises(ValueError, match="random weights"):
        check(result(None), result(0.9), 1.0)
