"""The live view of a race: what the page polls twice a second, and the one chart that never remounts.

Why polling: while a Gradio event streams, the page's status tracker animates at 60 frames a second for
the whole event, and `gr.Plot` rebuilds its whole chart for every new value; on a 2-core laptop that
browser work is taken from the training it shows. So the job trains in its own thread (demo.session),
the page asks for news with short `gr.Timer` ticks (`show_progress="hidden"`), each tick returns only
what changed, and the chart is ONE plotly.js chart inside a `gr.HTML` that `Plotly.react` updates in
place (`uirevision` keeps the user's zoom). plotly.js comes from the `plotly` Python package's own copy,
served by the app: nothing is fetched from the internet.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from .media import KEEP, Media
from .results import write_results
from .session import Job, Session, SessionTable
from .story import status_line
from .tabs import ModalityTab
from .views import COLUMN_COLORS, figure_json, race_figure, table_rows


def plotly_js() -> Path:
    """plotly.js as the plotly Python package ships it (its package data)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


CHART_JS = r"""
const box = element.querySelector('.race-chart');
const name = props.chart_name;
// Counters for scripts and benchmarks: how often the chart was redrawn, and when (performance.now()).
const book = (window.intStudio = window.intStudio || {updates: {}, times: {}});
function draw() {
  if (!window.Plotly) { setTimeout(draw, 100); return; }
  if (!props.value) { Plotly.purge(box); return; }
  const fig = JSON.parse(props.value);
  Plotly.react(box, fig.data, fig.layout, {displaylogo: false, responsive: true});
  book.updates[name] = (book.updates[name] || 0) + 1;
  const times = (book.times[name] = book.times[name] || []);
  times.push(performance.now());
  if (times.length > 20000) times.splice(0, 10000);
}
watch('value', draw);
// A chart drawn while its tab was hidden has no width: redraw it at its size once it is shown.
new ResizeObserver(() => { if (window.Plotly && box.data) Plotly.Plots.resize(box); }).observe(box);
draw();
"""


def race_chart(elem_id: str, height: int) -> gr.HTML:
    """The persistent chart: a fixed template (so Gradio never re-renders its DOM) whose value is the
    figure as JSON, drawn by CHART_JS."""
    return gr.HTML(
        "", html_template=f'<div class="race-chart" style="width:100%;height:{height}px"></div>',
        js_on_load=CHART_JS, head=f'<script src="gradio_api/file={plotly_js()}"></script>',
        elem_id=elem_id, chart_name=elem_id, min_height=height,
    )


@dataclass
class LiveView:
    """A tab's outputs that a race updates, by role; `render` returns {component: value} for what changed."""

    tab: ModalityTab
    table: SessionTable
    heads: list[gr.Markdown]
    columns: list[gr.Column]
    panels: list[list[Any]]
    """per column, its widgets in the canvas's `panels` order"""
    chart: gr.HTML
    table_view: gr.Dataframe
    status_text: gr.Markdown
    status_json: gr.JSON
    downloads: gr.File
    pause: gr.Button
    timer: gr.Timer
    chart_height: int = 300

    def outputs(self) -> set[Any]:
        return {*self.heads, *self.columns, *(w for col in self.panels for w in col), self.chart, self.table_view,
                self.status_text, self.status_json, self.downloads, self.pause, self.timer}

    # ------------------------------------------------------------ a race's first and later frames

    def started(self, session: Session, job: Job) -> dict[Any, Any]:
        """The page right after Start: the columns the race uses, blank panels, the timer on."""
        session.view = {"job": job.id, "drawn": {}, "seen": None}
        out: dict[Any, Any] = {}
        for i, col in enumerate(self.columns):
            used = i < len(job.methods)
            out[col] = gr.Column(visible=used)
            out[self.heads[i]] = column_head(i, job.methods[i], job.results[job.methods[i]].description) if used else ""
            for widget in self.panels[i]:
                out[widget] = None
        out.update({self.chart: "", self.table_view: None, self.downloads: None, self.pause: gr.Button(value="Pause"),
                    self.timer: gr.Timer(active=True)})
        out.update(self.render(session, job, force=True))
        return out

    def render(self, session: Session, job: Job, force: bool = False) -> dict[Any, Any]:
        """What changed since the last tick (nothing: an empty dict); at the end, the downloads and the
        timer switched off."""
        view = session.view
        if view.get("job") != job.id:  # a view choice came before the first tick of this job
            view.update(job=job.id, drawn={}, seen=None)
        finished = job.finished
        position = self.table.queue_position(job)
        now = (job.version, job.state, position, session.overlay, session.x_axis)
        if now == view.get("seen") and not force:
            return self.nothing()
        view["seen"] = now
        canvas = view.get("canvas")
        if canvas is None or view.get("canvas_job") != job.id:
            canvas = self.tab.canvas(job.spec.signal)
            view.update(canvas=canvas, canvas_job=job.id)
        latest, _ = job.snapshot_view()
        status = job.status(position)
        out: dict[Any, Any] = {}
        drawn = view["drawn"]
        for i, method in enumerate(job.methods):
            snap = latest.get(method)
            mark = (snap.step if snap else -1, session.overlay)
            if drawn.get(method) == mark and not force:
                continue
            drawn[method] = mark
            for j, (widget, value) in enumerate(zip(self.panels[i], canvas.draw(snap, session.overlay))):
                if value is not KEEP:
                    out[widget] = panel_value(session, f"c{i + 1}p{j}", value)
        colors = {m: COLUMN_COLORS[i] for i, m in enumerate(job.methods)}
        metric = self.tab.spec.metric
        figure = race_figure(job.results_view(), colors, metric, self.tab.spec.metric_unit, job.target(),
                             session.x_axis, uirevision=f"{job.id}-{session.x_axis}",
                             decimals=self.tab.metric_decimals, height=self.chart_height)
        out[self.chart] = figure_json(figure)
        out[self.table_view] = table_rows(status, self.tab.metric_decimals)
        out[self.status_text] = status_line(job, status, self.table.max_jobs, self.tab.metric_decimals)
        out[self.status_json] = status
        label = "Resume" if job.state == "paused" else "Pause"
        if view.get("pause") != label or force:
            view["pause"] = label
            out[self.pause] = gr.Button(value=label)
        if finished:
            out[self.timer] = gr.Timer(active=False)
            try:
                out[self.downloads] = write_results(job, session.folder / "results", self.tab)
            except FileNotFoundError:  # the page closed meanwhile and its folder is gone
                pass
        return out

    def nothing(self) -> dict[Any, Any]:
        """No change (Gradio reads an empty dict as one value, so name one output and skip it)."""
        return {self.timer: gr.skip()}

    def blank(self, message: str) -> dict[Any, Any]:
        """The page with no race (after Reset)."""
        out: dict[Any, Any] = {w: None for col in self.panels for w in col}
        out.update({self.chart: "", self.table_view: None, self.status_text: message, self.status_json: None,
                    self.downloads: None, self.pause: gr.Button(value="Pause"), self.timer: gr.Timer(active=False)})
        return out


def column_head(i: int, method: str, description: str | None = None) -> str:
    swatch = f"<span style='color:{COLUMN_COLORS[i]}'>■</span>"
    return f"{swatch} **{method}**" + (f" · {description}" if description else "")


def panel_value(session: Session, slot: str, value: Any) -> Any:
    """A canvas's panel value -> Gradio's: pictures and media files are written to the session's folder
    (served as static files), None goes as it is."""
    if isinstance(value, (np.ndarray, Media)):
        return session.frames.write(slot, value)
    return value
