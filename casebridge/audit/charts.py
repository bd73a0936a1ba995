"""Small charts as inline SVG, drawn on the server: nothing to load, nothing to run.

Each function returns one ``<svg>`` element marked ``data-chart`` (the report's script counts
those that drew). A suppressed value (None) is drawn as a hatched stub labelled "c".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5f99", "#d9822b", "#3a8f5c", "#b8443a", "#7a5ca8", "#8c6d3f", "#c05a96", "#6b7b8c")
INK, MUTED, GRID = "#222", "#666", "#ddd"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'
HATCH = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3f3f3"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>'
)


@dataclass(frozen=True)
class Interval:
    """One row of an interval chart: bounds, an optional point and baseline."""

    label: str
    lower: float | None
    upper: float | None
    point: float | None = None
    baseline: float | None = None


def _svg(name: str, title: str, width: int, height: int, body: str) -> str:
    return (
        f'<svg data-chart="{escape(name)}" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" {FONT}><title>{escape(title)}</title>{HATCH}{body}</svg>'
    )


def _text(
    x: float, y: float, text: str, anchor: str = "start", fill: str = INK, extra: str = ""
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {extra}>'
        f"{escape(text)}</text>"
    )


def _count(value: int | None) -> str:
    return "c" if value is None else f"{value:,}"


def bars(name: str, title: str, items: Sequence[tuple[str, int | None]], width: int = 640) -> str:
    """Horizontal bars, one per item, labelled with the (published) count."""
    label_width, row = 220, 22
    top = max((v or 0 for _, v in items), default=0) or 1
    scale = (width - label_width - 70) / top
    parts = []
    for i, (label, value) in enumerate(items):
        y = 8 + i * row
        parts.append(_text(label_width - 8, y + 14, label[:34], "end"))
        if value is None:
            parts.append(
                f'<rect x="{label_width}" y="{y + 3}" width="18" height="{row - 6}" '
                'fill="url(#hatch)"/>'
            )
            parts.append(_text(label_width + 24, y + 14, "c", fill=MUTED))
            continue
        length = max(1.0, value * scale) if value else 0.0
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" '
            f'height="{row - 6}" fill="{PALETTE[0]}"/>'
        )
        parts.append(_text(label_width + length + 6, y + 14, _count(value), fill=MUTED))
    return _svg(name, title, width, 16 + row * max(1, len(items)), "".join(parts))


def _colour(share: float) -> str:
    """White (none) to dark blue (all)."""
    low, high = (255, 255, 255), (31, 95, 153)
    mixed = [round(a + (b - a) * share) for a, b in zip(low, high, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def heatmap(
    name: str,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    shares: dict[tuple[str, str], float | None],
) -> str:
    """A grid of shares from 0 to 1 (completeness by source and field × year); a suppressed
    cell hatched, an empty one blank."""
    label_width, cell, head = 250, 24, 40
    width = label_width + cell * len(columns) + 10
    parts = [
        _text(label_width + i * cell + cell / 2, head - 8, col[-2:], "middle", MUTED)
        for i, col in enumerate(columns)
    ]
    for r, row in enumerate(rows):
        y = head + r * cell
        parts.append(_text(label_width - 6, y + 16, row[:40], "end"))
        for c, column in enumerate(columns):
            if (row, column) not in shares:
                continue
            share = shares[(row, column)]
            fill = "url(#hatch)" if share is None else _colour(share)
            tip = "suppressed" if share is None else f"{share:.0%}"
            parts.append(
                f'<rect x="{label_width + c * cell}" y="{y}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="{fill}"><title>{escape(row)}, {escape(column)}: '
                f"{tip}</title></rect>"
            )
    legend = head + len(rows) * cell + 14
    for i in range(6):
        parts.append(
            f'<rect x="{label_width + i * 30}" y="{legend}" width="28" height="10" '
            f'fill="{_colour(i / 5)}" stroke="{GRID}"/>'
        )
    parts.append(_text(label_width - 6, legend + 9, "0% to 100% filled", "end", MUTED))
    return _svg(name, title, width, legend + 24, "".join(parts))


def lines(
    name: str, title: str, columns: Sequence[str], series: dict[str, list[float | None]]
) -> str:
    """Shares over time, one line per series (a gap where a value is suppressed)."""
    width, height, left, bottom = 640, 240, 40, 30
    step = (width - left - 150) / max(1, len(columns) - 1)

    def y(share: float) -> float:
        return 10 + (1 - share) * (height - bottom - 10)

    parts = [
        f'<line x1="{left}" x2="{width - 150}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="{GRID}"/>'
        + _text(left - 4, y(t) + 4, f"{t:.0%}", "end", MUTED)
        for t in (0, 0.25, 0.5, 0.75, 1)
    ]
    for i, column in enumerate(columns):
        if i % max(1, len(columns) // 8) == 0:
            parts.append(_text(left + i * step, height - 8, column, "middle", MUTED))
    for k, (label, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = [(left + i * step, y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        parts += [
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.5" fill="{colour}"/>' for x, yy in points
        ]
        parts.append(
            f'<rect x="{width - 140}" y="{14 + k * 18}" width="10" height="10" '
            f'fill="{colour}"/>' + _text(width - 124, 23 + k * 18, label[:20])
        )
    return _svg(name, title, width, height, "".join(parts))


def intervals(name: str, title: str, rows: Sequence[Interval], width: int = 640) -> str:
    """Bounds of shares as bars from lower to upper, the share of known values as a dot and a
    baseline as a tick."""
    label_width, row, left = 240, 20, 240
    span = width - left - 20

    def x(share: float) -> float:
        return left + share * span

    parts = [
        f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="0" y2="{8 + row * len(rows)}" '
        f'stroke="{GRID}"/>' + _text(x(t), 18 + row * len(rows), f"{t:.0%}", "middle", MUTED)
        for t in (0, 0.25, 0.5, 0.75, 1)
    ]
    for i, item in enumerate(rows):
        y = 4 + i * row
        parts.append(_text(label_width - 8, y + 13, item.label[:34], "end"))
        if item.lower is None or item.upper is None:
            parts.append(_text(left + 4, y + 13, "c", fill=MUTED))
            continue
        parts.append(
            f'<rect x="{x(item.lower):.1f}" y="{y + 5}" height="8" rx="2" fill="{PALETTE[0]}" '
            f'opacity="0.55" width="{max(1.5, x(item.upper) - x(item.lower)):.1f}">'
            f"<title>{escape(item.label)}: {item.lower:.1%} to {item.upper:.1%}</title></rect>"
        )
        if item.point is not None:
            parts.append(
                f'<circle cx="{x(item.point):.1f}" cy="{y + 9}" r="3" fill="{INK}" '
                f'data-share="{item.point:.6f}"/>'
            )
        if item.baseline is not None:
            parts.append(
                f'<line x1="{x(item.baseline):.1f}" x2="{x(item.baseline):.1f}" '
                f'y1="{y + 2}" y2="{y + 16}" stroke="{PALETTE[1]}" stroke-width="2"/>'
            )
    return _svg(name, title, width, 26 + row * len(rows), "".join(parts))


def upset(
    name: str, title: str, combos: Sequence[tuple[list[str], int | None]], sets: Sequence[str]
) -> str:
    """An UpSet plot: a bar per combination of sets, and dots below for the sets in it."""
    left, column, bar_height = 200, 34, 150
    top = max((v or 0 for _, v in combos), default=0) or 1
    width = left + column * len(combos) + 20
    parts = []
    for i, (members, value) in enumerate(combos):
        x = left + i * column + 6
        if value is None:
            parts.append(
                f'<rect x="{x}" y="{bar_height - 14}" width="{column - 12}" '
                'height="14" fill="url(#hatch)"/>'
            )
        else:
            h = max(1.0, value / top * (bar_height - 20)) if value else 0.0
            parts.append(
                f'<rect x="{x}" y="{bar_height - h:.1f}" width="{column - 12}" '
                f'height="{h:.1f}" fill="{PALETTE[0]}"/>'
            )
        parts.append(
            _text(
                x + (column - 12) / 2,
                bar_height
                - 2
                - (0 if value is None else max(1.0, (value or 0) / top * (bar_height - 20))),
                _count(value),
                "middle",
                MUTED,
                'font-size="9"',
            )
        )
        ys = [bar_height + 14 + s * 18 for s, name_ in enumerate(sets) if name_ in members]
        for s, _ in enumerate(sets):
            filled = INK if bar_height + 14 + s * 18 in ys else GRID
            parts.append(
                f'<circle cx="{x + (column - 12) / 2}" cy="{bar_height + 14 + s * 18}" '
                f'r="5" fill="{filled}"/>'
            )
        if len(ys) > 1:
            parts.append(
                f'<line x1="{x + (column - 12) / 2}" x2="{x + (column - 12) / 2}" '
                f'y1="{min(ys)}" y2="{max(ys)}" stroke="{INK}" stroke-width="2"/>'
            )
    for s, set_name in enumerate(sets):
        parts.append(_text(left - 8, bar_height + 18 + s * 18, set_name[:28], "end"))
    return _svg(name, title, width, bar_height + 24 + 18 * len(sets), "".join(parts))


def stacked(
    name: str, title: str, rows: Sequence[tuple[str, list[int | None]]], keys: Sequence[str]
) -> str:
    """Horizontal stacked bars (a suppressed part drawn as a hatched stub)."""
    label_width, row, width = 150, 24, 640
    top = max((sum(v or 0 for v in values) for _, values in rows), default=0) or 1
    scale = (width - label_width - 60) / top
    parts = []
    for i, (label, values) in enumerate(rows):
        y = 8 + i * row
        parts.append(_text(label_width - 8, y + 15, label, "end"))
        x = float(label_width)
        for k, value in enumerate(values):
            length = 10.0 if value is None else value * scale
            fill = "url(#hatch)" if value is None else PALETTE[k % len(PALETTE)]
            if length > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{length:.1f}" '
                    f'height="{row - 6}" fill="{fill}"/>'
                )
            x += length
    legend_y = 16 + row * len(rows)
    for k, key in enumerate(keys):
        parts.append(
            f'<rect x="{label_width + k * 130}" y="{legend_y}" width="10" height="10" '
            f'fill="{PALETTE[k % len(PALETTE)]}"/>'
            + _text(label_width + k * 130 + 14, legend_y + 9, key)
        )
    return _svg(name, title, width, legend_y + 18, "".join(parts))


def weights(name: str, title: str, rows: Sequence[tuple[str, str, float]]) -> str:
    """Match weights (log2 m/u) per comparison level, as bars either side of zero."""
    label_width, row, width = 330, 16, 680
    limit = max((abs(w) for *_, w in rows), default=1.0) or 1.0
    half = (width - label_width - 20) / 2
    centre = label_width + half
    parts = [
        f'<line x1="{centre}" x2="{centre}" y1="0" y2="{row * len(rows) + 6}" stroke="{MUTED}"/>'
    ]
    last = None
    for i, (comparison, level, weight) in enumerate(rows):
        y = 4 + i * row
        label = f"{comparison}: {level}" if comparison != last else level
        last = comparison
        parts.append(
            _text(
                label_width - 8,
                y + 11,
                label[:52],
                "end",
                INK if label.startswith(comparison) else MUTED,
            )
        )
        length = weight / limit * half
        colour = PALETTE[2] if weight >= 0 else PALETTE[3]
        x = centre if length >= 0 else centre + length
        parts.append(
            f'<rect x="{x:.1f}" y="{y + 2}" width="{max(1.0, abs(length)):.1f}" '
            f'height="{row - 4}" fill="{colour}"><title>{escape(level)}: '
            f"{weight:+.2f}</title></rect>"
        )
    axis = row * len(rows) + 20
    parts.append(_text(centre - half, axis, f"{-limit:+.0f}", "start", MUTED))
    parts.append(_text(centre, axis, "0", "middle", MUTED))
    parts.append(_text(centre + half, axis, f"{limit:+.0f}", "end", MUTED))
    return _svg(name, title, width, axis + 6, "".join(parts))
