"""The Pareto frontier: the points no other point beats on both axes. The report's F1-against-throughput
figure and ``nerperf tune`` both draw on it."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_frontier(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (higher is better on both), by x.
    Equal points do not beat each other: all are kept.

    >>> pareto_frontier([(1, 0.9), (2, 0.8), (1.5, 0.7), (3, 0.85)])
    [0, 3]
    """
    frontier = [
        i for i, (x, y) in enumerate(points) if not any(ox >= x and oy >= y and (ox, oy) != (x, y) for ox, oy in points)
    ]
    return sorted(frontier, key=lambda i: points[i][0])
