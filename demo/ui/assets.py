"""The page's own front-end files (demo/static/) and plotly.js, and how the page loads them.

- app.css: every style of the page, read into the page by `launch(css_paths=...)`;
- chart.js, race.js, keys.js: served as static files and loaded by <script> tags in the page's <head>;
- plotly.js: the copy the `plotly` Python package ships, served by the app (nothing comes from the
  internet);
- quiet_tracker.js: put first in <head> by demo.ui.page_head (it must run before Gradio's own scripts).
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "static"
SCRIPTS = ("chart.js", "race.js", "keys.js")
"""loaded in this order (race.js uses chart.js)"""
CSS = STATIC / "app.css"


def plotly_js() -> Path:
    """plotly.js as the plotly Python package ships it (its package data)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def static_paths() -> list[Path]:
    """What the app serves as files as they are (gr.set_static_paths)."""
    return [STATIC, plotly_js()]


def head_html() -> str:
    """The <script> tags the page's <head> gets (paths served by the app's file route)."""
    files = [plotly_js(), *(STATIC / name for name in SCRIPTS)]
    return "".join(f'<script src="gradio_api/file={path}"></script>' for path in files)


def read(name: str) -> str:
    return (STATIC / name).read_text()
