"""The live view of a race: ONE `gr.HTML` component (status line, 2–4 columns, chart, table) whose own
script asks the server for news every 0.4 s and updates the page in place.

Why it is built this way (measured with bench/app_overhead.py and Chromium's tracing on a 2-core CPU):
- while a Gradio event is pending, the page's status tracker animates at 60 frames a second (it forces a
  style and layout pass per frame), and every event's outputs are deep-copied and pushed through the
  front end's stores; with a `gr.Timer` ticking 2.5 times a second that machinery, not the pictures,
  was most of the browser's CPU. So the job trains in its own thread (demo.session) and the view polls
  it with the HTML component's *server function* (`server.poll`): a plain POST outside the event queue,
  with no status tracker and no output stores. The poll names the page's race by an unguessable token
  that only the page's own Start event returned, so nobody can read another session's race;
- the poll's answer is a small JSON message with only what changed (the pictures as PNG data URLs, the
  chart, the status line, the table), and the view's script applies it: `<img src>` swaps (no request
  per picture), one persistent plotly chart (`uirevision` keeps the user's zoom), plain HTML for the
  text. A full plotly redraw was half the browser's CPU in a race, so the chart is redrawn in full only
  when more than its points moved; otherwise the script redraws the curves' SVG paths itself (RACE_JS);
- `gr.Plot` would rebuild its whole chart for every value; this chart is created once.
Start, Reset and the view choices are ordinary events whose output is the same kind of message.
plotly.js comes from the `plotly` Python package's own copy, served by the app: nothing is fetched from
the internet. When a race ends, the view's script fires the view's `submit` event once; that event
delivers the downloads and the final status JSON. A click on a column's picture fires its `select` event
(the pixel and the column), as a click on a gr.Image would.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import numpy as np
from PIL import Image

from .media import KEEP, Media
from .session import Job, Session, SessionTable
from .story import status_line
from .tabs import ModalityTab
from .views import COLUMN_COLORS, race_figure, table_rows


def plotly_js() -> Path:
    """plotly.js as the plotly Python package ships it (its package data)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


RACE_JS = r"""
const chart = element.querySelector('.race-chart');
const name = props.chart_name;
// Counters for scripts and benchmarks: how often the chart was redrawn (updates: all, full: by plotly, quick:
// the curves' paths only, see below), and when (performance.now()).
const book = (window.intStudio = window.intStudio || {updates: {}, times: {}});
let ended = null;
let last = -1;  // messages may arrive out of order: apply only those newer than the last one
let polling = null;  // the token of the race being polled (null: not polling)
const PERIOD = props.poll_ms;
async function poll(token) {
  while (polling === token) {
    const asked = performance.now();
    let text = null;
    try { text = await server.poll({token: token, after: last}); } catch (e) { text = null; }
    if (polling !== token) return;
    if (text === 'stop') { polling = null; return; }  // this race is no longer the page's (Reset, closed)
    if (text) show(text);
    book.polls = (book.polls || 0) + 1;
    await new Promise((done) => setTimeout(done, Math.max(50, PERIOD - (performance.now() - asked))));
  }
}
function media(figure, url) {
  const tag = figure.dataset.kind === 'audio' ? 'audio' : 'img';
  let node = figure.querySelector(tag);
  if (!url) { if (node) node.remove(); return; }
  if (!node) {
    node = document.createElement(tag);
    if (tag === 'audio') node.controls = true;
    figure.appendChild(node);
  }
  if (node.getAttribute('src') !== url) node.setAttribute('src', url);
}
// The chart. A full plotly redraw (Plotly.react) costs ~25 ms of CPU, more than everything else the page
// does in a race. Between full redraws, when a message moves nothing but points (same layout, same traces
// but for their x and y) and every point lies inside the axes' current ranges, the script redraws only the
// lines' SVG paths and the markers' positions, in plotly's own axis scales (c2p). A full redraw still
// comes whenever anything else changed, a point leaves an autoranged axis, or the pointer is over the
// chart (plotly's hover reads the data of its last full redraw), and after the user zooms or pans.
let latest = null;  // the newest figure
let drawn = null;  // what plotly drew in full last: the layout's and each trace's JSON without x and y
let pointer = false;
const COUNT = (key) => { book[key] = book[key] || {}; book[key][name] = (book[key][name] || 0) + 1; };
function withoutPoints(trace) { const {x, y, ...rest} = trace; return JSON.stringify(rest); }
function quick(figure) {
  const fl = chart._fullLayout;
  if (pointer || !drawn || !fl || !fl.xaxis || !fl.yaxis || figure.data.length !== drawn.traces.length
      || JSON.stringify(figure.layout) !== drawn.layout) return false;
  const xa = fl.xaxis, ya = fl.yaxis;
  if (xa.type !== 'linear' || ya.type !== 'linear') return false;
  // each trace's SVG group, by the trace's index (plotly draws no group for a trace without points)
  const groups = {};
  chart.querySelectorAll('.scatterlayer .trace').forEach((g) => {
    const cd = g.__data__;
    if (cd && cd[0] && cd[0].trace) groups[cd[0].trace.index] = g;
  });
  // a point must lie inside an autoranged axis (else the axis would grow); a fixed or zoomed one clips it
  const bounds = (axis) => (axis.autorange ? [Math.min(...axis.range), Math.max(...axis.range)]
                                            : [-Infinity, Infinity]);
  const [x0, x1] = bounds(xa), [y0, y1] = bounds(ya);
  const edits = [];
  for (let i = 0; i < figure.data.length; i++) {
    const t = figure.data[i];
    if (withoutPoints(t) !== drawn.traces[i] || t.x.length !== t.y.length) return false;
    const px = [], py = [];
    for (let k = 0; k < t.x.length; k++) {
      const x = t.x[k], y = t.y[k];
      if (x === null || y === null || x < x0 || x > x1 || y < y0 || y > y1) return false;
      px.push(xa.c2p(x).toFixed(2)); py.push(ya.c2p(y).toFixed(2));
    }
    if (!groups[i]) { if (t.x.length === 0) continue; return false; }
    if (t.mode === 'lines') {
      const path = groups[i].querySelector('path.js-line');
      if (t.x.length < 2 || !path) return false;
      edits.push([path, 'd', 'M' + px.map((x, k) => x + ',' + py[k]).join('L')]);
    } else if (t.mode === 'markers') {
      const points = groups[i].querySelectorAll('path.point');
      if (points.length !== t.x.length) return false;
      points.forEach((node, k) => edits.push([node, 'transform', `translate(${px[k]},${py[k]})`]));
    } else return false;
  }
  edits.forEach(([node, attribute, value]) => node.setAttribute(attribute, value));
  return true;
}
function full(figure) {
  drawn = null;
  const record = {layout: JSON.stringify(figure.layout), traces: figure.data.map(withoutPoints)};
  // plotly keeps and edits the objects it is given (a zoom writes into the layout), and a later react with
  // such an edited layout makes it forget the user's zoom: it gets a copy, `latest` stays as it came
  const copy = structuredClone(figure);
  const done = Plotly.react(chart, copy.data, copy.layout, {displaylogo: false, responsive: true});
  Promise.resolve(done).then(() => { if (latest === figure) drawn = record; });
  if (!chart.intStudioHooked && chart.on) {
    chart.intStudioHooked = true;
    // a zoom, pan or autoscale redraws from plotly's own (older) data: redraw the newest in full
    chart.on('plotly_relayout', () => { if (latest) full(latest); });
  }
  COUNT('full');
}
chart.addEventListener('pointerenter', () => { pointer = true; if (latest && drawn) full(latest); });
chart.addEventListener('pointerleave', () => { pointer = false; });
function draw(figure) {
  if (!window.Plotly) { setTimeout(() => draw(figure), 100); return; }
  latest = figure;
  if (!figure) { drawn = null; Plotly.purge(chart); return; }
  if (quick(figure)) COUNT('quick'); else full(figure);
  COUNT('updates');
  const times = (book.times[name] = book.times[name] || []);
  times.push(performance.now());
  if (times.length > 20000) times.splice(0, 10000);
}
function show(text) {
  const v = JSON.parse(text);
  if (v.seq <= last) return;
  last = v.seq;
  if ('token' in v && v.token !== polling) { polling = v.token; if (v.token) poll(v.token); }
  (v.columns || []).forEach((c, i) => {
    const col = element.querySelector(`[data-column="${i}"]`);
    if ('visible' in c) col.style.display = c.visible ? '' : 'none';
    if ('head' in c) col.querySelector('.column-head').innerHTML = c.head;
    Object.entries(c.panels || {}).forEach(([slot, url]) => media(col.querySelector(`[data-slot="${slot}"]`), url));
  });
  if ('status' in v) element.querySelector('.race-status').innerHTML = v.status;
  if ('table' in v) element.querySelector('.race-table').innerHTML = v.table;
  if ('chart' in v) draw(v.chart);
  if (v.finished) polling = null;
  if (v.finished && ended !== v.job) { ended = v.job; trigger('submit'); }
}
// Scripts and tests may draw a figure the way a message would: intStudio.draw[chart name](figure).
(book.draw = book.draw || {})[name] = draw;
function apply() { if (props.value) show(props.value); }
watch('value', apply);
// A click on a column's picture fires the view's `select` event: index = the pixel (x, y) in the picture's
// own resolution (as gr.Image's select gives it), value = the column (0-based).
element.addEventListener('click', (e) => {
  const img = e.target.closest && e.target.closest('.panel img');
  if (!img || !img.naturalWidth) return;
  const r = img.getBoundingClientRect();
  const scale = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);  // object-fit: contain
  const x = Math.floor((e.clientX - r.left - (r.width - img.naturalWidth * scale) / 2) / scale);
  const y = Math.floor((e.clientY - r.top - (r.height - img.naturalHeight * scale) / 2) / scale);
  if (x < 0 || y < 0 || x >= img.naturalWidth || y >= img.naturalHeight) return;
  const column = Number(img.closest('.race-column').dataset.column);
  trigger('select', {index: [x, y], value: column});
});
// A chart drawn while its tab was hidden has no width: redraw it at its size once it is shown.
new ResizeObserver(() => { if (window.Plotly && chart.data) Plotly.Plots.resize(chart); }).observe(chart);
apply();
"""

RACE_CSS = """
.race-status { min-height: 3.4em; font-size: var(--text-md); line-height: 1.45; margin: 2px 0 6px; }
.race-columns { display: flex; gap: 10px; }
.race-column { flex: 1 1 0; min-width: 0; }
.column-head { font-size: var(--text-md); margin-bottom: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.panels { display: flex; gap: 6px; }
.panels.stack { flex-direction: column; }
.panel { flex: 1 1 0; min-width: 0; margin: 0; border: 1px solid var(--border-color-primary); border-radius: 6px;
         background: var(--background-fill-secondary); display: flex; flex-direction: column; }
.panel figcaption { font-size: var(--text-sm); color: var(--body-text-color-subdued); padding: 2px 6px; }
.panel img { width: 100%; height: auto; max-height: var(--panel-height); object-fit: contain; image-rendering: pixelated; }
.panel.smooth img { image-rendering: auto; }
.panel audio { width: 100%; height: 36px; }
.race-chart { width: 100%; contain: strict; will-change: transform; }
.race-status, .race-table, .column-head { contain: content; }
.panel { contain: layout paint; }
.race-table table { width: 100%; border-collapse: collapse; font-size: var(--text-sm); }
.race-table th, .race-table td { padding: 3px 8px; border-bottom: 1px solid var(--border-color-primary); text-align: right; }
.race-table th:first-child, .race-table td:first-child { text-align: left; }
"""


def race_template(tab: ModalityTab, names: list[str], chart_height: int, idle: str) -> str:
    """The view's fixed HTML, one column per name ("none": hidden until a race uses it). Gradio never
    re-renders it (it does not use ${value}); the view's script fills it."""
    p = tab.prefix
    cols = []
    for i, name in enumerate(names):
        figures = "".join(
            f'<figure class="panel{" smooth" if panel.smooth else ""}" id="{p}{panel.slot}-{i + 1}" '
            f'data-slot="{panel.slot}" data-kind="{panel.kind}" style="--panel-height:{panel.height}px">'
            f"<figcaption>{html.escape(panel.label)}</figcaption></figure>"
            for panel in tab.panels)
        hidden = ' style="display:none"' if name == "none" else ""
        head = markdown_lite(column_head(i, name)) if name != "none" else ""
        cols.append(f'<div class="race-column" data-column="{i}" id="{p}column-{i + 1}"{hidden}>'
                    f'<div class="column-head" id="{p}head-{i + 1}">{head}</div>'
                    f'<div class="panels {tab.panel_layout}">{figures}</div></div>')
    return (f'<div class="race"><div class="race-status" id="{p}status-text">{markdown_lite(idle)}</div>'
            f'<div class="race-columns">{"".join(cols)}</div>'
            f'<div class="race-chart" id="{p}psnr-plot" style="height:{chart_height}px"></div>'
            f'<div class="race-table" id="{p}table"></div></div>')


POLL_SECONDS = 0.4
"""how often a page with a race asks for news: at most 2.5 redraws of the chart, status and table a
second (a poll that finds nothing new costs one small request)"""
PICTURE_SECONDS = 0.8
"""while a race runs, the columns' pictures are redrawn at most this often (the chart at every poll):
the pictures were about a fifth of the browser's work per update and all of the server's drawing, and
at 1.25 a second they still move smoothly; a paused, stepped or finished race shows its latest at once"""


def race_view(tab: ModalityTab, names: list[str], chart_height: int, idle: str,
              poll: Callable[[dict], str]) -> gr.HTML:
    """The view; `poll` answers the page's script (must be a plain function named `poll`, see LiveView.poll)."""
    return gr.HTML(
        "", html_template=race_template(tab, names, chart_height, idle), css_template=RACE_CSS,
        js_on_load=RACE_JS, head=f'<script src="gradio_api/file={plotly_js()}"></script>',
        elem_id=f"{tab.prefix}race", chart_name=f"{tab.prefix}psnr-plot", poll_ms=int(POLL_SECONDS * 1000),
        server_functions=[poll],
    )


@dataclass
class LiveView:
    """The race view and what a race's events update; each method returns {component: value}."""

    tab: ModalityTab
    table: SessionTable
    view: gr.HTML
    status_json: gr.JSON
    downloads: gr.File
    pause: gr.Button
    columns: int
    chart_height: int = 290
    _tokens: "weakref.WeakValueDictionary[str, Session]" = field(default_factory=weakref.WeakValueDictionary)
    _tokens_lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------ a race's first and later frames

    def started(self, session: Session, job: Job) -> dict[Any, Any]:
        """The page right after Start: the race's columns, blank panels, and the token its script polls with."""
        token = secrets.token_urlsafe(16)
        with self._tokens_lock:
            self._tokens[token] = session
        session.view = {"job": job.id, "drawn": {}, "seen": None, "token": token}
        message = self.message(session, job, force=True)
        message["token"] = token
        message["columns"] = [
            {"visible": i < len(job.methods),
             "head": markdown_lite(column_head(i, job.methods[i], job.results[job.methods[i]].description))
             if i < len(job.methods) else "",
             "panels": {**{panel.slot: None for panel in self.tab.panels}, **message["columns"][i].get("panels", {})}
             if i < len(job.methods) else {}}
            for i in range(self.columns)]
        return {self.view: encode(message), self.pause: gr.Button(value="Pause"),
                self.downloads: None, self.status_json: job.status(self.table.queue_position(job))}

    def render(self, session: Session, job: Job, force: bool = False) -> dict[Any, Any]:
        """An event's update of the view: the message if anything changed, else nothing."""
        message = self.message(session, job, force)
        return {self.view: encode(message) if message else gr.skip()}

    def poll(self, request: Any) -> str:
        """The page script's question {"token": …, "after": seq}: the message of what changed since its
        last one ("" if nothing did), or "stop" once the token no longer
        names this session's current race (Reset, a new Start, the session closed): "stop"."""
        token = request.get("token") if isinstance(request, dict) else None
        with self._tokens_lock:
            session = self._tokens.get(token) if isinstance(token, str) else None
        if session is None or self.table.get(session.key) is not session or session.view.get("token") != token \
                or session.job is None:
            return "stop"
        message = self.message(session, session.job)
        return encode(message) if message else ""

    def message(self, session: Session, job: Job, force: bool = False) -> dict[str, Any]:
        """What changed since the last message to this page ({} if nothing did)."""
        view = session.view
        if view.get("job") != job.id:  # a view choice came before the first poll of this job
            view.update(job=job.id, drawn={}, seen=None)
        # The state is read once, first: a message that says "finished" must also show the final status.
        state = job.state
        finished = state in ("done", "stopped", "error")
        position = self.table.queue_position(job)
        now = (job.version, state, position, session.overlay, session.x_axis)
        if now == view.get("seen") and not force:
            return {}
        view["seen"] = now
        canvas = view.get("canvas")
        if canvas is None or view.get("canvas_job") != job.id:
            canvas = self.tab.canvas(job.spec.signal)
            view.update(canvas=canvas, canvas_job=job.id)
        latest, _ = job.snapshot_view()
        status = job.status(position)
        columns: list[dict[str, Any]] = [{} for _ in range(self.columns)]
        drawn = view["drawn"]
        clock = time.monotonic()
        if force or state != "running" or clock - view.get("pictures_at", -math.inf) >= PICTURE_SECONDS:
            view["pictures_at"] = clock
            methods = job.methods
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
        colors = {m: COLUMN_COLORS[i] for i, m in enumerate(job.methods)}
        figure = race_figure(job.results_view(), colors, self.tab.spec.metric, self.tab.spec.metric_unit,
                             job.target(), session.x_axis, uirevision=f"{job.id}-{session.x_axis}",
                             decimals=self.tab.metric_decimals, height=self.chart_height,
                             x_end=budget_end(job, session.x_axis))
        return {
            "job": job.id,
            "columns": columns,
            "chart": figure,
            "status": markdown_lite(status_line(job, status, self.table.max_jobs, self.tab.metric_decimals)),
            "table": table_html(self.tab, status),
            "finished": finished,
        }

    def blank(self, message: str) -> dict[Any, Any]:
        """The page with no race (after Reset)."""
        columns = [{"panels": {panel.slot: None for panel in self.tab.panels}} for _ in range(self.columns)]
        text = {"job": None, "token": None, "columns": columns, "chart": None, "status": markdown_lite(message),
                "table": ""}
        return {self.view: encode(text), self.status_json: None, self.downloads: None,
                self.pause: gr.Button(value="Pause")}

    def nothing(self) -> dict[Any, Any]:
        """No change (Gradio reads an empty dict as one value, so name one output and skip it)."""
        return {self.view: gr.skip()}


def budget_end(job: Job, x_axis: str) -> float | None:
    """The race's end on the chart's x axis when the budget is in that axis's unit (seconds of training
    on the seconds axis, steps on the steps axis), else None (the end is not known in advance)."""
    config = job.spec.config
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


def table_html(tab: ModalityTab, status: dict[str, Any]) -> str:
    from .views import table_headers

    head = "".join(f"<th>{html.escape(h)}</th>" for h in table_headers(tab.spec.metric, tab.spec.metric_unit))
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in table_rows(status, tab.metric_decimals))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def panel_url(session: Session, slot: str, value: Any) -> str | None:
    """A canvas's panel value -> what the page's <img>/<audio> loads: a picture travels inside the message
    as a PNG data URL (no file, no extra request per picture); a media file (a WAV for a player) is
    written to the session's folder, which the app serves; None clears the panel."""
    if isinstance(value, np.ndarray):
        buffer = io.BytesIO()
        Image.fromarray(value).save(buffer, format="PNG", compress_level=1)
        return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    if isinstance(value, Media):
        return f"gradio_api/file={session.frames.write(slot, value)}"
    return None
