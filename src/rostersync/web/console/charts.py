"""Two small charts drawn on the server as SVG (no script, nothing fetched): records per entity
over a district's last runs, and how long each run took. Each has a title and a text summary,
so a screen reader gets what the picture shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

WIDTH = 640
HEIGHT = 220
PAD_LEFT = 56
PAD_BOTTOM = 28
PAD_TOP = 12
PAD_RIGHT = 12
#: Line colours (dark enough on white for the chart's non-text contrast).
COLOURS = ("#1d4ed8", "#b91c1c", "#047857", "#7c3aed", "#b45309", "#0f766e", "#be185d", "#374151")


def _scale(value: float, top: float) -> float:
    inner = HEIGHT - PAD_TOP - PAD_BOTTOM
    return HEIGHT - PAD_BOTTOM - (value / top * inner if top else 0)


def _x(i: int, n: int) -> float:
    inner = WIDTH - PAD_LEFT - PAD_RIGHT
    return PAD_LEFT + inner * (i + 0.5) / max(n, 1)


def _frame(title: str, summary: str, top: float, labels: Sequence[str], body: str) -> Markup:
    ticks = "".join(
        f'<text x="{PAD_LEFT - 6}" y="{_scale(v, top) + 4:.1f}" text-anchor="end">'
        f"{v:,.0f}</text>"
        f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{_scale(v, top):.1f}" '
        f'y2="{_scale(v, top):.1f}" stroke="#d1d5db"/>'
        for v in (0, top / 2, top)
    )
    n = len(labels)
    shown = sorted({0, n - 1, n // 2}) if n else []
    xlabels = "".join(
        f'<text x="{_x(i, n):.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(labels[i])}</text>'
        for i in shown
    )
    # Every text put in the picture is escaped above; numbers are formatted by us.
    return Markup(  # noqa: S704
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}: '
        f'{escape(summary)}" xmlns="http://www.w3.org/2000/svg" font-size="11" '
        f'fill="#1f2937"><title>{escape(title)}</title>{ticks}{xlabels}{body}</svg>'
    )


def records_chart(runs: Sequence[str], series: Mapping[str, Sequence[int | None]]) -> Markup:
    """Records per entity (one line each) over ``runs`` (labels, oldest first)."""
    values = [v for line in series.values() for v in line if v is not None]
    top = float(max(values, default=0)) or 1.0
    body = []
    n = len(runs)
    for k, (entity, line) in enumerate(sorted(series.items())):
        colour = COLOURS[k % len(COLOURS)]
        points = " ".join(
            f"{_x(i, n):.1f},{_scale(v, top):.1f}" for i, v in enumerate(line) if v is not None
        )
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        body.append(
            f'<text x="{PAD_LEFT + 4 + 112 * (k % 5)}" y="{PAD_TOP + 10 + 12 * (k // 5)}" '
            f'fill="{colour}">{escape(entity)}</text>'
        )
    latest = ", ".join(
        f"{entity} {line[-1]:,}" for entity, line in sorted(series.items()) if line and line[-1]
    )
    summary = f"{n} runs; latest: {latest or 'no records'}"
    return _frame("Records per entity", summary, top, runs, "".join(body))


def duration_chart(runs: Sequence[str], seconds: Sequence[float | None]) -> Markup:
    """How long each run took (bars), ``runs`` oldest first."""
    known = [s for s in seconds if s is not None]
    top = max(known, default=0.0) or 1.0
    n = len(runs)
    inner = WIDTH - PAD_LEFT - PAD_RIGHT
    width = max(2.0, inner / max(n, 1) * 0.6)
    bars = "".join(
        f'<rect x="{_x(i, n) - width / 2:.1f}" y="{_scale(s, top):.1f}" width="{width:.1f}" '
        f'height="{HEIGHT - PAD_BOTTOM - _scale(s, top):.1f}" fill="#1d4ed8"/>'
        for i, s in enumerate(seconds)
        if s is not None
    )
    median = sorted(known)[len(known) // 2] if known else None
    summary = f"{n} runs; median {median:.1f} s" if median is not None else "no finished run"
    return _frame("Run duration (seconds)", summary, top, runs, bars)
