"""Bar charts as inline SVG, drawn on the server: no script, no style attribute (the CSP allows
neither), colours from the stylesheet's classes so light and dark themes both apply."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from markupsafe import Markup

from services.panel import Series

WIDTH = 720
HEIGHT = 160
TOP = 26
BOTTOM = 30


def bars(series: Series, *, label_every: int, label: Callable[[str], str]) -> Markup:
    values = series.values
    n = max(1, len(values))
    peak = max(values, default=0) or 1
    step = WIDTH / n
    gap = 1 if step > 3 else 0
    plot = HEIGHT - TOP - BOTTOM
    span = f"{series.labels[0]} … {series.labels[-1]}" if series.labels else ""
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(span)}">']
    parts.append(f'<line class="axis" x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}"/>')
    parts.append(f'<text class="peak" x="2" y="18">{peak}</text>')
    for i, value in enumerate(values):
        h = plot * value / peak
        x = i * step
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{max(step - gap, 0.5):.1f}" '
            f'height="{h:.1f}"><title>{escape(series.labels[i])}: {value}</title></rect>'
        )
        if i % label_every == 0 and x + 60 <= WIDTH:  # a label that would run off the edge is left out
            parts.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 5}">{escape(label(series.labels[i]))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
