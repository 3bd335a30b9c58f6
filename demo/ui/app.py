"""The Gradio app: `build_app()` makes the Blocks without launching them (tests import it);
`launch()` serves them with the page's own CSS, scripts and limits; `python -m demo` does both.

One tab per registered modality tab (demo.tabs), each a `RaceTab` (demo.ui.race_tab). A tab whose
optional packages are missing (the 3D tab without libigl) says what to install instead; the others work.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import gradio as gr

from intcore.device import resolve_device

from ..server.sessions import SessionTable
from ..server.upload_guard import upload_guard_middleware
from ..tabs import TABS
from ..tabs.base import ASSETS
from . import assets
from .page_head import page_head_middleware
from .race_tab import MAX_UPLOAD_MB, RaceTab

TITLE = (
    "<div class='app-title'><b>INT Studio</b> · Implicit Neural Teaching, live: at every step INT trains the "
    "network on the points where it is most wrong (Zhang et al., ICML 2024).</div>"
)


def build_app(device: str = "auto", max_jobs: int = 2, workdir: Path | None = None) -> gr.Blocks:
    """The whole app, not launched. Its session table is `app.session_table` and its tabs
    `app.race_tabs` (modality -> RaceTab; a tab that cannot work here is absent): tests look inside."""
    dev = resolve_device(device)
    table = SessionTable(max_jobs=max_jobs, root=workdir)
    # Presets, the page's scripts, plotly.js and the sessions' folders (uploads, media, downloads) are
    # served as they are, never copied into Gradio's cache; the session table deletes its files itself.
    gr.set_static_paths([ASSETS, table.root, *assets.static_paths()])
    race_tabs: dict[str, RaceTab] = {}
    with gr.Blocks(title="INT Studio", delete_cache=(120, 1800), fill_width=True) as app:
        gr.HTML(TITLE, padding=False, elem_id="app-title")
        with gr.Tabs(elem_id="modality-tabs") as tab_row:
            for name in TABS:
                tab = TABS[name]()
                with gr.Tab(tab.title, id=tab.modality, elem_id=f"{tab.modality}-tab"):
                    missing = tab.missing()
                    if missing:
                        gr.Markdown(
                            f"**The {tab.title} tab needs {', '.join(missing)}**, which this Python cannot "
                            f"import. Install it with `pip install {' '.join(missing)}` and restart the "
                            "app; the other tabs work without it.",
                            elem_id=f"{tab.prefix}missing",
                        )
                        continue
                    race_tabs[name] = RaceTab(tab, table, dev, tab_row)
                    race_tabs[name].build()

        def close_session(request: gr.Request) -> None:
            table.close_browser(request.session_hash)

        app.unload(close_session)
    table.on_browser_gone.append(lambda session_hash: forget_gradio_session(app, session_hash))
    app.session_table = table  # type: ignore[attr-defined]
    app.race_tabs = race_tabs  # type: ignore[attr-defined]
    return app


def forget_gradio_session(app: gr.Blocks, session_hash: str) -> None:
    """Drop Gradio's own state of a browser session that has gone.

    Gradio keeps a copy of every component's config per session (about 0.8 MB for this app's 422
    components) for an hour after its page closed, and for API clients until 10,000 sessions exist: the
    server grew by 87 MB over 60 visits that left mid-race (bench/faults.py vanish; 12 MB with this).
    The app has already closed everything of that session, so nothing would use the copy.
    `state_holder` is an internal of Gradio (tested with gradio==6.31.0, pinned in requirements.txt);
    this is the one place that touches it, and a Gradio without it only keeps its copies, as before."""
    holder = getattr(app, "state_holder", None)
    lock = getattr(holder, "lock", None)
    data = getattr(holder, "session_data", None)
    if lock is None or not isinstance(data, dict):
        return
    with lock:
        data.pop(session_hash, None)
        getattr(holder, "time_last_used", {}).pop(session_hash, None)


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False, **kwargs: Any) -> Any:
    """Launch with the app's CSS, scripts, limits and page-head script (Gradio 6 takes them in launch())."""
    table = getattr(app, "session_table", None)
    if table is not None and not getattr(app, "pages_tracked", False):
        # A page's sessions live until the page goes (unload); sessions no page opened (API scripts)
        # are closed by the table's sweep once unused (demo.server.sessions).
        def page_opened(request: gr.Request) -> None:
            table.attach_page(request.session_hash)

        with app:
            app.load(page_opened, None, None, api_visibility="private")
        app.pages_tracked = True  # type: ignore[attr-defined]
    # Uploads without room on the disk or under --max-temp-mb are refused before Gradio writes them.
    middleware = [page_head_middleware()] + ([upload_guard_middleware(table)] if table is not None else [])
    return app.queue(default_concurrency_limit=None).launch(
        server_name=host,
        server_port=port,
        share=share,
        css_paths=[assets.CSS],
        head=assets.head_html(),
        show_error=True,
        max_file_size=f"{2 * MAX_UPLOAD_MB}mb",
        app_kwargs={"middleware": middleware},
        **kwargs,
    )


def launch_in_background(app: gr.Blocks, host: str = "127.0.0.1") -> str:
    """Launch on a free port of `host` without blocking (tests, benchmarks); returns the app's URL."""
    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    launch(app, host=host, port=port, prevent_thread_lock=True, quiet=True)
    return f"http://{host}:{port}/"
