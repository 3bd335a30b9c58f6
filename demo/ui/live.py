"""The live view of a race: ONE `gr.HTML` component (status line, 2–4 columns, chart, table, status JSON)
whose own script (demo/static/race.js) asks the server for news every 0.4 s and updates the page in place.

Why it is built this way (measured with bench/app_overhead.py and Chromium's tracing on a 2-core CPU):
- while a Gradio event is pending, the page's status tracker animates at 60 frames a second (it forces a
  style and layout pass per frame), and every event's outputs are deep-copied and pushed through the
  front end's stores; with a `gr.Timer` ticking 2.5 times a second that machinery, not the pictures,
  was most of the browser's CPU. So the race trains in its own thread (demo.server.race) and the view
  polls it with the HTML component's *server function* (`server.poll`): a plain POST outside the event
  queue, with no status tracker and no output stores. The poll names the page's race by an unguessable
  token that only the page's own Start event returned, so nobody can read another session's race;
- the poll's answer is a small JSON message with only what changed (the pictures as PNG data URLs, the
  chart, the status line, the table, the status JSON), and the view's script applies it: `<img src>`
  swaps (no request per picture), one persistent plotly chart (demo/static/chart.js), plain HTML for the
  text;
- `gr.Plot` would rebuild its whole chart for every value; this chart is created once.
Start, Reset and the view choices are ordinary events whose output is the same kind of message. When a
race ends, the view's script fires the view's `submit` event once; that event delivers the downloads. A
click on a column's picture fires its `select` event (the pixel and the column), as a click on a
gr.Image would.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import re
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from ..drawing.chart import X_AXES, race_figure
from ..drawing.colors import COLUMN_COLORS
from ..drawing.story import status_line, turns_sentence
from ..drawing.table import table_html
from ..server.jsonsafe import json_safe
from ..server.media import KEEP, Media
from ..server.race import Race
from ..server.sessions import Session, SessionTable
from ..server.writes import attempt
from ..tabs import OVERLAY_MODES, ModalityTab

POLL_SECONDS = 0.4
"""how often a page with a race asks for news: at most 2.5 redraws of the chart, status and table a
second (a poll that finds nothing new costs one small request)"""
PICTURE_SECONDS = 0.8
"""while a race runs, the columns' pictures are redrawn at most this often (the chart at every poll):
the pictures were about a fifth of the browser's work per update and all of the server's drawing, and
at 1.25 a second they still move smoothly; a paused, stepped or finished race shows its latest at once"""
JS_ON_LOAD = (
    "(function start() { const s = window.intStudio; "
    "if (s && s.raceView && s.chart) s.raceView({element, props, server, trigger, watch}); "
    "else setTimeout(start, 30); })();"
)
"""the view's script is demo/static/race.js (loaded in the page's <head>, which may finish after the
component): this only hands it the component's own API once it has loaded"""


def race_template(tab: ModalityTab, names: list[str], idle: str) -> str:
    """The view's fixed HTML, one column per name ("none": hidden until a race uses it). Gradio never
    re-renders it (it does not use ${value}); the view's script fills it."""
    p = tab.prefix
    cols = []
    for i, name in enumerate(names):
        figures = "".join(
            f'<figure class="panel panel-{panel.kind}{" smooth" if panel.smooth else ""}" id="{p}{panel.slot}-{i + 1}" '
            f'data-slot="{panel.slot}" data-kind="{panel.kind}">'
            f"<figcaption>{html.escape(panel.label)}</figcaption></figure>"
            for panel in tab.panels
        )
        hidden = ' style="display:none"' if name == "none" else ""
        head = markdown_lite(column_head(i, name)) if name != "none" else ""
        cols.append(
            f'<div class="race-column" data-column="{i}" id="{p}column-{i + 1}"{hidden}>'
            f'<div class="column-head" id="{p}head-{i + 1}">{head}</div>'
            f'<div class="panels {tab.panel_layout}">{figures}</div></div>'
        )
    shown = sum(n != "none" for n in names)
    choices = "".join(
        f'<div class="choice" role="radiogroup" aria-label="{html.escape(label)}"><span>{html.escape(label)}:</span>'
        + "".join(
            f'<label><input type="radio" name="{p}{key}" value="{html.escape(value)}"'
            f"{' checked' if value == options[0] else ''}>{html.escape(shown_as)}</label>"
            for value, shown_as in zip(options, words)
        )
        + "</div>"
        for key, label, options, words in VIEW_CHOICES
    )
    return (
        f'<div class="race race-{tab.modality}">'
        f'<div class="race-status" id="{p}status-text">{markdown_lite(idle)}</div>'
        f'<div class="race-columns" data-count="{shown}">{"".join(cols)}</div>'
        f'<div class="race-bottom"><div class="race-chart" id="{p}psnr-plot"></div>'
        f'<div class="race-side"><div class="race-table" id="{p}table"></div>'
        f'<div class="view-choices" id="{p}view-choices">{choices}</div>'
        f'<div class="race-note" id="{p}race-note"></div>'
        f'<details class="race-json" id="{p}status-json"><summary>Status JSON (as the API returns it)</summary>'
        f'<pre id="{p}status"></pre></details></div></div></div>'
    )


VIEW_CHOICES = (
    ("overlay", "first picture", OVERLAY_MODES, ("selection", "error", "target")),
    ("x_axis", "chart x axis", X_AXES, ("seconds", "steps")),
)
"""the view's own choices (radio buttons in its HTML; every poll carries them): (key, label, values, words)"""


def race_view(tab: ModalityTab, names: list[str], idle: str, poll: Callable[[dict], str]) -> gr.HTML:
    """The view; `poll` answers the page's script (must be a plain function named `poll`, see LiveView.poll)."""
    return gr.HTML(
        "",
        html_template=race_template(tab, names, idle),
        js_on_load=JS_ON_LOAD,
        elem_id=f"{tab.prefix}race",
        chart_name=f"{tab.prefix}psnr-plot",
        poll_ms=int(POLL_SECONDS * 1000),
        server_functions=[poll],
        padding=False,
    )


@dataclass
class LiveView:
    """The race view and what a race's events update; each method returns {component: value}."""

    tab: ModalityTab
    table: SessionTable
    view: gr.HTML
    downloads: gr.File
    pause: gr.Button
    columns: int
    _tokens: weakref.WeakValueDictionary[str, Session] = field(default_factory=weakref.WeakValueDictionary)
    _tokens_lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------ a race's first and later frames

    def started(self, session: Session, race: Race) -> dict[Any, Any]:
        """The page right after Start: the race's columns, blank panels, and the token its script polls with."""
        token = secrets.token_urlsafe(16)
        with self._tokens_lock:
            self._tokens[token] = session
        session.view = {"race": race.id, "drawn": {}, "seen": None, "token": token}
        message = self.message(session, race, force=True)
        message["token"] = token
        message["columns"] = [
            {
                "visible": i < len(race.methods),
                "head": markdown_lite(column_head(i, race.methods[i], race.results[race.methods[i]].description))
                if i < len(race.methods)
                else "",
                "panels": {**{panel.slot: None for panel in self.tab.panels}, **message["columns"][i].get("panels", {})}
                if i < len(race.methods)
                else {},
                "captions": message["columns"][i].get("captions", {}),
            }
            for i in range(self.columns)
        ]
        return {self.view: encode(message), self.pause: gr.Button(value="Pause"), self.downloads: None}

    def render(self, session: Session, race: Race, force: bool = False) -> dict[Any, Any]:
        """An event's update of the view: the message if anything changed, else nothing."""
        message = self.message(session, race, force)
        return {self.view: encode(message) if message else gr.skip()}

    def poll(self, request: Any) -> str:
        """The page script's question {"token": …, "after": seq, "overlay": …, "x_axis": …}: the message
        of what changed since its last one ("" if nothing did), or "stop" once the token no longer names
        this session's current race (Reset, a new Start, the session closed). The view's choices travel
        with every question; a changed one is drawn at once."""
        token = request.get("token") if isinstance(request, dict) else None
        with self._tokens_lock:
            session = self._tokens.get(token) if isinstance(token, str) else None
        if (
            session is None
            or self.table.get(session.key) is not session
            or session.view.get("token") != token
            or session.race is None
        ):
            return "stop"
        assert isinstance(request, dict)
        if request.get("overlay") in OVERLAY_MODES:
            session.overlay = request["overlay"]
        if request.get("x_axis") in X_AXES:
            session.x_axis = request["x_axis"]
        message = self.message(session, session.race)
        return encode(message) if message else ""

    def message(self, session: Session, race: Race, force: bool = False) -> dict[str, Any]:
        """What changed since the last message to this page ({} if nothing did)."""
        view = session.view
        if view.get("race") != race.id:  # a view choice came before the first poll of this race
            view.update(race=race.id, drawn={}, seen=None)
        # The state is read once, first: a message that says "finished" must also show the final status.
        state = race.state
        finished = state in ("done", "stopped", "error")
        position = self.table.queue_position(race)
        now = (race.version, state, position, session.overlay, session.x_axis)
        if now == view.get("seen") and not force:
            return {}
        view["seen"] = now
        canvas = view.get("canvas")
        if canvas is None or view.get("canvas_race") != race.id:
            canvas = self.tab.canvas(race.signal)
            view.update(canvas=canvas, canvas_race=race.id)
        latest, _ = race.snapshot_view()
        status = race.status(position)
        columns: list[dict[str, Any]] = [{} for _ in range(self.columns)]
        if view.get("captions") != session.overlay:  # the first picture's caption says what it shows now
            view["captions"] = session.overlay
            for column in columns:
                column["captions"] = {p.slot: p.label_for(session.overlay) for p in self.tab.panels}
        drawn = view["drawn"]
        clock = time.monotonic()
        if force or state != "running" or clock - view.get("pictures_at", -math.inf) >= PICTURE_SECONDS:
            view["pictures_at"] = clock
            methods = race.methods
        else:
            methods = []
        for i, method in enumerate(methods):
            snap = latest.get(method)
            mark = (snap.step if snap else -1, session.overlay)
            if drawn.get(method) == mark and not force:
                continue
            drawn[method] = mark
            panels = {}
            for panel, value in zip(self.tab.panels, canvas.draw(snap, session.overlay)):
                if value is not KEEP:
                    panels[panel.slot] = panel_url(session, f"c{i + 1}{panel.slot}", value)
            columns[i]["panels"] = panels
        colors = {m: COLUMN_COLORS[i] for i, m in enumerate(race.methods)}
        metric, unit = self.tab.spec.metric, self.tab.spec.metric_unit
        figure = race_figure(
            race.results_view(),
            colors,
            metric,
            unit,
            race.target(),
            session.x_axis,
            uirevision=f"{race.id}-{session.x_axis}",
            decimals=self.tab.metric_decimals,
            x_end=budget_end(race, session.x_axis),
        )
        verdict = race.verdict()
        headline = verdict.headline() if verdict is not None else None
        running = state in ("running", "paused", "queued")
        return {
            "race": race.id,
            "columns": columns,
            "chart": figure,
            "status": markdown_lite(status_line(status, headline, self.table.max_jobs)),
            "table": table_html(metric, unit, status, self.tab.metric_decimals),
            "json": json.dumps(json_safe(status), indent=1),
            "note": turns_sentence(len(race.methods), status["budget"]) if running else "",
            "finished": finished,
        }

    def blank(self, message: str) -> dict[Any, Any]:
        """The page with no race (after Reset)."""
        columns = [{"panels": {panel.slot: None for panel in self.tab.panels}} for _ in range(self.columns)]
        text = {
            "race": None,
            "token": None,
            "columns": columns,
            "chart": None,
            "status": markdown_lite(message),
            "table": "",
            "json": "",
            "note": "",
        }
        return {self.view: encode(text), self.downloads: None, self.pause: gr.Button(value="Pause")}

    def nothing(self) -> dict[Any, Any]:
        """No change (Gradio reads an empty dict as one value, so name one output and skip it)."""
        return {self.view: gr.skip()}


def budget_end(race: Race, x_axis: str) -> float | None:
    """The race's end on the chart's x axis when the budget is in that axis's unit (seconds of training
    on the seconds axis, steps on the steps axis), else None (the end is not known in advance)."""
    config = race.config
    if config.seconds:
        return None if x_axis == "steps" else float(config.seconds)
    return float(config.steps) if x_axis == "steps" and config.steps else None


_SEQUENCE = itertools.count(1)


def encode(message: dict[str, Any]) -> str:
    """The view's value: JSON without NaN or infinity (JSON and plotly.js reject them), numbered so the
    page can drop a message that arrives after a newer one."""
    return json.dumps({**message, "seq": next(_SEQUENCE)}, allow_nan=False, separators=(",", ":"))


def column_head(i: int, method: str, description: str | None = None) -> str:
    swatch = f"<span style='color:{COLUMN_COLORS[i]}'>■</span>"
    shown = description if description and description != method else None
    return f"{swatch} **{method}**" + (f" · {html.escape(shown)}" if shown else "")


def markdown_lite(text: str) -> str:
    """The little markdown the status line uses (**bold**, a line break "  \\n", *italic*) as HTML.
    The text is the app's own; `<span>`s already in it are kept."""
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    out = re.sub(r"(?<![\w*])\*(?!\s)(.+?)\*", r"<i>\1</i>", out)
    return out.replace("  \n", "<br>").replace("\n", " ")


def plain_text(text: str) -> str:
    """The app's little markdown as plain text (for toasts, which show text as it is)."""
    return re.sub(r"<[^>]+>", "", markdown_lite(text).replace("<br>", " "))


def panel_url(session: Session, slot: str, value: Any) -> str | None:
    """A canvas's panel value -> what the page's <img>/<audio> loads: a picture travels inside the message
    as a PNG data URL (no file, no extra request per picture); a media file (a WAV for a player) is
    written to the session's folder, which the app serves; None clears the panel."""
    if isinstance(value, np.ndarray):
        buffer = io.BytesIO()
        Image.fromarray(value).save(buffer, format="PNG", compress_level=1)
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    if isinstance(value, Media):
        path, problem = attempt("the players' audio", lambda: session.frames.write(slot, value))
        if problem is None:
            return f"gradio_api/file={path}"
        if session.race is not None:  # a full disk: the player stays empty and the status line says why
            session.race.note_write_failure(problem)
    return None
