"""Plain-text tables for a terminal: what a floor's failure message and ``nerperf eval`` print.

In the core, not in ``report/``, so that the core (``floors.py``'s failure message) never imports the
report layer; :mod:`nerperf.report.tables` uses it for every terminal table.
"""

from __future__ import annotations

from collections.abc import Sequence


def render(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """Align ``rows`` under ``header``: first column left, the rest right.

    >>> print(render([["tiny-fp32", "0.91"]], ["Case", "F1"]))
    Case         F1
    ---------  ----
    tiny-fp32  0.91
    """
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])
