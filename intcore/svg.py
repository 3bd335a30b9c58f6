"""Dependency-free SVG line charts for reports (the benchmark's curves plot).

matplotlib is not a requirement and plotly is not on every machine (the GPU image has neither), so the
benchmark draws its curves as plain SVG: one panel per row, one polyline per run.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def line_panels(
    panels: list[tuple[str, str, dict[str, list[list[tuple[float, float]]]]]],
    path: Path,
    width: int = 420,
    height: int = 280,
) -> Path:
    """Write one chart per panel side by side. A panel is (title, y label, {series name: [curve, ...]})
    where a curve is a list of (x, y) points; x is training seconds. Each series has one colour."""
    names = list(dict.fromkeys(n for _, _, series in panels for n in series))
    colour = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    margin_l, margin_b, margin_t = 52, 38, 26
    total_w = width * max(1, len(panels))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{height + 24}" '
           f'font-family="sans-serif" font-size="11">', '<rect width="100%" height="100%" fill="white"/>']
    for p, (title, ylabel, series) in enumerate(panels):
        x0 = p * width + margin_l
        plot_w, plot_h = width - margin_l - 12, height - margin_t - margin_b
        pts = [(x, y) for curves in series.values() for c in curves for x, y in c if y == y and abs(y) < 1e6]
        if not pts:
            continue
        xmax = max(x for x, _ in pts) or 1.0
        ylo, yhi = min(y for _, y in pts), max(y for _, y in pts)
        if yhi - ylo < 1e-9:
            ylo, yhi = ylo - 1, yhi + 1

        def sx(x: float) -> float:
            return x0 + x / xmax * plot_w

        def sy(y: float) -> float:
            return margin_t + (1 - (y - ylo) / (yhi - ylo)) * plot_h

        out.append(f'<text x="{x0 + plot_w / 2}" y="16" text-anchor="middle" font-weight="bold">{escape(title)}</text>')
        out.append(f'<rect x="{x0}" y="{margin_t}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
        for frac in (0.0, 0.5, 1.0):
            yv, xv = ylo + frac * (yhi - ylo), frac * xmax
            out.append(f'<text x="{x0 - 4}" y="{sy(yv) + 4:.1f}" text-anchor="end">{yv:.3g}</text>')
            out.append(f'<text x="{sx(xv):.1f}" y="{margin_t + plot_h + 14}" text-anchor="middle">{xv:.3g}</text>')
        out.append(f'<text x="{x0 + plot_w / 2}" y="{margin_t + plot_h + 30}" text-anchor="middle">training seconds</text>')
        out.append(f'<text x="{x0 - 40}" y="{margin_t + plot_h / 2}" text-anchor="middle" '
                   f'transform="rotate(-90 {x0 - 40} {margin_t + plot_h / 2})">{escape(ylabel)}</text>')
        for name, curves in series.items():
            for c in curves:
                good = [(x, y) for x, y in c if y == y and abs(y) < 1e6]
                if len(good) > 1:
                    coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in good)
                    out.append(f'<polyline points="{coords}" fill="none" stroke="{colour[name]}" '
                               f'stroke-width="1.2" stroke-opacity="0.8"/>')
    for i, name in enumerate(names):  # legend along the bottom
        x = 10 + i * 140
        out.append(f'<line x1="{x}" y1="{height + 12}" x2="{x + 18}" y2="{height + 12}" stroke="{colour[name]}" stroke-width="2"/>')
        out.append(f'<text x="{x + 22}" y="{height + 16}">{escape(name)}</text>')
    out.append("</svg>")
    Path(path).write_text("\n".join(out) + "\n")
    return Path(path)
