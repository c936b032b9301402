"""The Pareto frontier of F1 against speed, and the winner per objective within an F1 floor.

Speed is "higher is better" throughout: sentences per second for throughput, and for latency the
reciprocal of the batch-1 p50 latency, so one rule serves both objectives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    """One measured configuration: its F1 (None when not scored) and its speed (higher is better)."""

    key: str
    f1: float
    speed: float


def frontier(points: Sequence[Point]) -> list[Point]:
    """The points no other point beats on both F1 and speed (at least as good on both, better on one),
    fastest first. Equal points are all kept.

    >>> [p.key for p in frontier([Point("a", 0.9, 10), Point("b", 0.8, 20), Point("c", 0.8, 5)])]
    ['b', 'a']
    """
    from nerperf.report.pareto import pareto_frontier

    return [points[i] for i in reversed(pareto_frontier([(p.speed, p.f1) for p in points]))]


def winner(points: Sequence[Point], reference_f1: float, floor_points: float) -> Point | None:
    """The fastest point whose F1 is within ``floor_points`` (F1 points, 1.0 = 0.01) of ``reference_f1``.

    >>> winner([Point("a", 0.90, 10), Point("b", 0.88, 20)], 0.90, 1.0).key
    'a'
    >>> winner([Point("b", 0.88, 20)], 0.90, 1.0) is None
    True
    """
    return next(iter(ranked(points, reference_f1, floor_points)), None)


def ranked(points: Sequence[Point], reference_f1: float, floor_points: float) -> list[Point]:
    """The points within the floor, fastest first (the better F1 first among equally fast ones): the
    winner and its runner-up, timed in turns, are the first two, so both come from this one rule.

    >>> [p.key for p in ranked([Point("a", 0.90, 10), Point("b", 0.88, 20), Point("c", 0.91, 10)], 0.90, 1.0)]
    ['c', 'a']
    """
    allowed = [p for p in points if p.f1 >= reference_f1 - floor_points / 100 - 1e-12]
    return sorted(allowed, key=lambda p: (p.speed, p.f1), reverse=True)


def closest(points: Sequence[Point]) -> Point | None:
    """When no point meets the floor: the one with the best F1 (the fastest of those)."""
    return max(points, key=lambda p: (p.f1, p.speed), default=None)
