"""Server-rendered SVG charts: geometry computed here, drawn by templates (no script, no style
attribute; colours come from classes in static/css/supervision.css)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float
    css: str = ""


@dataclass(frozen=True)
class Point:
    label: str
    value: float
    x: float
    y: float


def bar_chart(
    items: list[tuple[str, float, str]], *, width=640, row=22, label_w=200, max_value=100.0
):
    """Horizontal bars: (label, value, css class) -> bars placed in a width x n*row box."""
    bars = []
    span = width - label_w - 60
    top = max(max_value, max((v for _l, v, _c in items), default=0) or 1)
    for i, (label, value, css) in enumerate(items):
        w = span * (value / top) if top else 0
        y = i * row + 4
        bars.append(
            Bar(
                label=label,
                value=value,
                x=label_w,
                y=y,
                width=round(w, 1),
                height=row - 8,
                text_x=round(label_w + w + 6, 1),
                text_y=y + row - 12,
                css=css,
            )
        )
    return {
        "bars": bars,
        "width": width,
        "height": max(len(items) * row + 8, row),
        "label_w": label_w,
    }


def line_chart(points: list[tuple[str, float]], *, width=640, height=220, pad=36, max_value=100.0):
    """A line over time: (label, value) in order -> points and the polyline in a box."""
    n = len(points)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    out = []
    for i, (label, value) in enumerate(points):
        x = pad + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)
        y = pad + inner_h * (1 - min(value, max_value) / max_value)
        out.append(Point(label=label, value=value, x=round(x, 1), y=round(y, 1)))
    grid = [
        {"y": round(pad + inner_h * (1 - v / max_value), 1), "label": int(v)}
        for v in (0, 25, 50, 75, 100)
    ]
    return {
        "points": out,
        "polyline": " ".join(f"{p.x},{p.y}" for p in out),
        "width": width,
        "height": height,
        "pad": pad,
        "right": width - pad,
        "grid": grid,
    }
