"""Algorithm 1 of the INT paper as an HTML panel: its lines, the one the run stands at, and live values.

The lines follow Algorithm 1 (Zhang et al., ICML 2024) in the notation the app uses: N coordinates,
k = ⌈r(t)·N⌉ selected per step, learning rate η, tolerance ε. The values come from
`intcore.teach.AlgorithmState`; nothing here computes anything but text. Its styles are in
demo/static/app.css (class `algorithm-panel`), the same on every tab.
"""

from __future__ import annotations

import html
import math

from intcore.teach import AlgorithmState

LINES: tuple[tuple[str, str], ...] = (
    ("input", "<b>Input:</b> target f*, initial network f<sub>θ</sub>, budget T, ratio schedule r(t), tolerance ε"),
    ("init", "t ← 0"),
    (
        "while",
        "<b>while</b> t ≤ T <b>and</b> ‖[f<sub>θ</sub>(x<sub>i</sub>) − f*(x<sub>i</sub>)]<sub>N</sub>‖<sub>2</sub>"
        " ≥ ε <b>do</b>",
    ),
    (
        "teacher",
        "&nbsp;&nbsp;<b>Teacher:</b> pick the k = ⌈r(t)·N⌉ points x<sub>i</sub> with the largest "
        "|f<sub>θ</sub>(x<sub>i</sub>) − f*(x<sub>i</sub>)|",
    ),
    (
        "learner",
        "&nbsp;&nbsp;<b>Learner:</b> θ ← θ − η·∇<sub>θ</sub> (1/k) Σ<sub>selected</sub> "
        "ℓ(f<sub>θ</sub>(x<sub>i</sub>), f*(x<sub>i</sub>))",
    ),
    ("advance", "&nbsp;&nbsp;t ← t + 1"),
    ("end", "<b>end while</b>"),
)
LINE_NAMES = tuple(name for name, _ in LINES)


def algorithm_html(state: AlgorithmState | None, line: str = "while", *, note: str = "") -> str:
    """The panel: Algorithm 1 with `line` highlighted (one of LINE_NAMES, or "" for none) and, given a
    state, the live values t, k = ⌈r(t)·N⌉, the mean error of the k selected against the rest,
    ‖error‖₂ against ε, the loss and the learning rate. `note`: one plain-text sentence under them."""
    if line and line not in LINE_NAMES:
        raise ValueError(f"line must be one of {', '.join(LINE_NAMES)} or empty, got {line!r}")
    items = "".join(
        f'<li class="alg-line{" current" if name == line else ""}" data-line="{name}">{text}</li>'
        for name, text in LINES
    )
    parts = ['<div class="algorithm-panel">', f'<ol class="alg">{items}</ol>']
    if state is not None:
        parts.append(_values_table(state))
    if note:
        parts.append(f"<p>{html.escape(note)}</p>")
    parts.append("</div>")
    return "".join(parts)


def _values_table(s: AlgorithmState) -> str:
    budget = "time budget" if s.T is None else f"T = {s.T}"
    if s.epsilon is None:
        eps = "(no ε set: the run stops at its budget)"
    else:
        eps = f"{'≥' if s.error_norm >= s.epsilon else '<'} ε = {_num(s.epsilon)}"
    rest = "—" if math.isnan(s.mean_error_rest) else _num(s.mean_error_rest)
    rows = [
        ("t", f"{s.t} ({budget})"),
        ("k = ⌈r(t)·N⌉", f"{s.k:,} of N = {s.n:,} (r(t) = {s.ratio:.0%})"),
        ("mean error of the k selected", _num(s.mean_error_selected)),
        ("mean error of the other N − k", rest),
        ("‖error‖₂ over all N", f"{_num(s.error_norm)} {eps}"),
        ("loss on the k selected", "—" if s.loss is None else _num(s.loss)),
        ("learning rate η", f"{s.lr:g}"),
    ]
    body = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>" for k, v in rows)
    return f'<table class="alg-values">{body}</table>'


def _num(x: float) -> str:
    return f"{x:.4g}"
