"""The Gradio app: layout and wiring only.

Learning lives in intcore; jobs, threads and the queue in demo.session; what a modality's tab shows in
demo.tabs (one module per modality); the polled live view and its chart in demo.live. `build_app()`
makes the Blocks without launching them (tests import it); `python -m demo` launches them.

Read `ComparisonTab` top to bottom: `layout()` places the widgets, `wire()` connects the events, and
each handler below it returns its outputs by name ({component: value}).
"""
from __future__ import annotations

import dataclasses
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import gradio as gr
import torch

from intcore.defaults import defaults_for
from intcore.device import resolve_device
from intcore.modalities import load_signal
from intcore.samplers import RATIO_SCHEDULES, SAMPLERS
from intcore.signals import Signal, SignalError
from intcore.spec import make_spec as make_run_spec

from .lecture import LectureView
from .live import LiveView, plotly_js, race_view
from .page_head import page_head_middleware
from .results import write_results
from .session import REFRESH_SECONDS, JobSpec, Session, SessionTable
from .tabs import OVERLAY_MODES, TABS, ModalityTab
from .tabs.base import ASSETS
from .views import X_AXES

MAX_UPLOAD_MB = 25
"""uploads above this are refused with a message (a hard limit at twice this stops them at the door)"""
MAX_COLUMNS = 4
DEFAULT_COLUMNS = ("int", "full", "random", "none")
"""the samplers raced by default, one per column ("none": the column is not used)"""
NONE = "none"
INTERVALS = ["default", "dense", "incremental", "every-5", "every-10", "every-20"]
CHART_HEIGHT = 290
CSS = """
.downloads .empty { min-height: 4em !important; height: 4em !important; }
"""
SETTINGS = ("sampler_1", "sampler_2", "sampler_3", "sampler_4", "ratio", "schedule", "interval", "budget",
            "amount", "lr", "width", "depth", "w0", "seed", "eval_every", "size", "target")
"""the race settings, by the names the `compare` API takes them"""


def build_app(device: str = "auto", max_jobs: int = 2, workdir: Path | None = None) -> gr.Blocks:
    """The whole app, not launched. Its session table is `app.session_table` and its tabs
    `app.comparison_tabs` (modality -> ComparisonTab): tests look inside."""
    dev = resolve_device(device)
    table = SessionTable(max_jobs=max_jobs, root=workdir)
    # Presets, plotly.js and the sessions' folders (uploads, live frames, downloads) are served as they
    # are, never copied into Gradio's cache; the session table deletes its files itself.
    gr.set_static_paths([ASSETS, table.root, plotly_js()])
    with gr.Blocks(title="INT Studio", delete_cache=(120, 1800)) as app:
        gr.Markdown(
            "## INT Studio · Implicit Neural Teaching, live\n"
            "At every step INT trains the network only on the points where it is most wrong (Zhang et al., "
            "ICML 2024). The samplers race from the same initial weights; each clock counts only its own "
            "training steps."
        )
        tabs: dict[str, ComparisonTab] = {}
        with gr.Tabs() as tab_row:
            for name in TABS:
                tab = TABS[name]()
                with gr.Tab(tab.title, id=tab.modality):
                    tabs[name] = ComparisonTab(tab, table, dev, tab_row)
                    tabs[name].build()

        def close_session(request: gr.Request) -> None:
            table.close_browser(request.session_hash)

        app.unload(close_session)
    app.session_table = table  # type: ignore[attr-defined]
    app.comparison_tabs = tabs  # type: ignore[attr-defined]
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False,
           **kwargs: Any) -> Any:
    """Launch with the app's CSS, limits and page-head script (Gradio 6 takes css/theme in launch())."""
    table = getattr(app, "session_table", None)
    if table is not None and not getattr(app, "pages_tracked", False):
        # A page's sessions live until the page goes (unload); sessions no page opened (API scripts)
        # are closed by the table's sweep once unused (demo.session).
        def page_opened(request: gr.Request) -> None:
            table.attach_page(request.session_hash)

        with app:
            app.load(page_opened, None, None, api_visibility="private")
        app.pages_tracked = True  # type: ignore[attr-defined]
    return app.queue(default_concurrency_limit=None).launch(
        server_name=host, server_port=port, share=share, css=CSS, show_error=True,
        max_file_size=f"{2 * MAX_UPLOAD_MB}mb", app_kwargs={"middleware": [page_head_middleware()]}, **kwargs,
    )


def launch_in_background(app: gr.Blocks, host: str = "127.0.0.1") -> str:
    """Launch on a free port of `host` without blocking (tests, benchmarks); returns the app's URL."""
    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    launch(app, host=host, port=port, prevent_thread_lock=True, quiet=True)
    return f"http://{host}:{port}/"


class ComparisonTab:
    """One live comparison: the signal and settings on the left; the race on the right (buttons, status,
    2–4 columns, the chart and the table)."""

    def __init__(self, tab: ModalityTab, table: SessionTable, device: torch.device, tabs: gr.Tabs | None = None) -> None:
        self.tab, self.table, self.device = tab, table, device
        self.tabs = tabs
        """the app's row of tabs (a lecture link selects its tab)"""
        self.defaults = defaults_for(tab.modality, device)
        self.presets = tab.presets()
        first = tab.first()
        self.size_default = self.defaults.load_options.get(tab.size_option) or tab.size_fallback
        # The page opens with the first preset chosen, loaded once here and reused by every session's Start.
        self.first_key = self.signal_key(first, self.size_default) if first else None
        self.first_signal = load_signal(first, tab.modality, **tab.load_options(self.size_default)) if first else None
        self.first = first
        # step mode, kernel view, links: on every tab that says how to draw them
        self.lecture = LectureView(self) if tab.lecture_drawing is not None and tabs is not None else None

    def build(self) -> None:
        self.layout()
        self.wire()

    # ------------------------------------------------------------------------------------ layout

    def layout(self) -> None:
        tab, p, d = self.tab, self.tab.prefix, self.defaults
        metric = tab.spec.metric.upper()
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300, elem_id=f"{p}inputs-col"):  # what to fit, and how
                shown = tab.picture_value(self.first, self.first_signal, self.table.root / "previews") if self.first else None
                self.picture = tab.picture(shown)
                self.chosen = gr.State(str(self.first) if self.first else None)
                self.notice = gr.Markdown(self.describe(self.first_signal) if self.first_signal else
                                          "No presets found: upload a file.", elem_id=f"{p}notice")
                self.gallery = gr.Gallery(
                    value=[(tab.thumbnail(x, self.table.root / "thumbs"), tab.caption(x)) for x in self.presets],
                    label="Presets (click one)", columns=3, height=120, allow_preview=False, object_fit="contain",
                    elem_id=f"{p}presets", interactive=False, buttons=[])
                self.upload = gr.UploadButton(f"Upload your own ({MAX_UPLOAD_MB} MB max)",
                                              file_types=list(tab.spec.extensions) if tab.modality != "image" else ["image"],
                                              size="sm", elem_id=f"{p}upload")
                with gr.Accordion("Settings", open=False, elem_id=f"{p}settings"):
                    self.settings_layout(metric)
            with gr.Column(scale=5):  # the race
                with gr.Row():
                    self.start = gr.Button("Start", variant="primary", elem_id=f"{p}start", scale=2, min_width=90)
                    self.pause = gr.Button("Pause", elem_id=f"{p}pause", scale=1, min_width=80)
                    self.stop = gr.Button("Stop", variant="stop", elem_id=f"{p}stop", scale=1, min_width=80)
                    self.reset = gr.Button("Reset", elem_id=f"{p}reset", scale=1, min_width=80)
                    if self.lecture:
                        self.lecture.step_button()
                    self.overlay = gr.Radio(list(OVERLAY_MODES), value=OVERLAY_MODES[0], label="first panel shows",
                                            elem_id=f"{p}overlay-mode", scale=3, min_width=240)
                    self.x_axis = gr.Radio(list(X_AXES), value=X_AXES[0], label="chart x axis", elem_id=f"{p}x-axis",
                                           scale=3, min_width=240)
                # Status line, columns, chart and table: one component, updated in place (demo.live).
                def poll(request: dict) -> str:  # the view's script asks for news (LiveView.poll)
                    return self.live.poll(request)

                view = race_view(tab, list(DEFAULT_COLUMNS), CHART_HEIGHT, self.idle_message(), poll)
                if self.lecture:  # step mode, kernel view, Algorithm 1, links: under the race
                    self.lecture.layout()
                with gr.Row():
                    fmt = tab.spec.file_extension.lstrip(".").upper()
                    downloads = gr.File(label=f"Results: reconstructions ({fmt}), curves (CSV), summary (JSON), "
                                              "INT selections (GIF)", file_count="multiple", interactive=False,
                                        elem_id=f"{p}downloads", elem_classes=["downloads"], scale=3, height=140)
                    self.prepare = gr.Button("Prepare downloads now", size="sm", elem_id=f"{p}prepare", scale=1)
                with gr.Accordion("Status (JSON, as the API returns it)", open=False):
                    status_json = gr.JSON(elem_id=f"{p}status")
                self.api_compare = gr.Button(visible=False)  # the streaming API's trigger; the page polls instead
        self.live = LiveView(tab=tab, table=self.table, view=view, status_json=status_json, downloads=downloads,
                             pause=self.pause, columns=MAX_COLUMNS,
                             chart_height=CHART_HEIGHT)

    def settings_layout(self, metric: str) -> None:
        p, d = self.tab.prefix, self.defaults
        # whatever the registry holds that applies to this modality (edge, say, is for images only)
        names = [NONE, *(n for n in SAMPLERS.names() if SAMPLERS[n].applies_to(self.tab.modality))]
        s: dict[str, Any] = {}
        with gr.Row():
            for i in range(MAX_COLUMNS):
                s[f"sampler_{i + 1}"] = gr.Dropdown(names, value=DEFAULT_COLUMNS[i], label=f"column {i + 1}",
                                                    elem_id=f"{p}sampler-{i + 1}", min_width=90)
        s["ratio"] = gr.Slider(0.05, 1.0, value=0.2, step=0.05, label="selection ratio (start ratio for schedules)",
                               elem_id=f"{p}ratio")
        with gr.Row():
            s["schedule"] = gr.Dropdown(["default", *RATIO_SCHEDULES], value="default",
                                        label="INT ratio schedule (default: the sampler's own)")
            s["interval"] = gr.Dropdown(INTERVALS, value="default", allow_custom_value=True,
                                        label="INT re-selection interval")
        with gr.Row():
            s["budget"] = gr.Radio(["seconds", "steps"], value="seconds", label="budget per sampler",
                                   elem_id=f"{p}budget")
            s["amount"] = gr.Number(self.tab.default_budget(self.device.type), label="training seconds (or steps) each",
                                    minimum=1, elem_id=f"{p}amount")
        with gr.Row():
            s["lr"] = gr.Number(d.lr, label="learning rate", minimum=0, elem_id=f"{p}lr")
            s["seed"] = gr.Number(0, label="seed", precision=0, elem_id=f"{p}seed")
        with gr.Row():
            s["width"] = gr.Number(d.model.width, label="network width", precision=0, minimum=1, elem_id=f"{p}width")
            s["depth"] = gr.Number(d.model.hidden_layers, label="sine layers", precision=0, minimum=1,
                                   elem_id=f"{p}depth")
            s["w0"] = gr.Number(d.model.first_w0, label="first-layer w0", minimum=0, elem_id=f"{p}w0")
        with gr.Row():
            s["eval_every"] = gr.Number(d.eval_every, label="evaluate every N steps", precision=0, minimum=1,
                                        elem_id=f"{p}eval-every")
            s["size"] = gr.Number(self.size_default, label=self.tab.size_label, minimum=0, elem_id=f"{p}size",
                                  visible=bool(self.tab.size_option))
        s["target"] = gr.Number(0, label=f"target {metric} (0: the best both INT and full reached)",
                                elem_id=f"{p}target")
        gr.Markdown(f"Defaults for **{self.device.type.upper()}**: {d.model.hidden_layers}×{d.model.width} SIREN, "
                    f"lr {d.lr:g}, {self.tab.default_budget(self.device.type):g} s of training per sampler "
                    f"(or {d.steps} steps).")
        self.settings = s

    # ------------------------------------------------------------------------------------ wiring

    def wire(self) -> None:
        p, s, live = self.tab.prefix, self.settings, self.live
        settings = [s[name] for name in SETTINGS]
        private = dict(api_visibility="private", concurrency_limit=None)
        self.gallery.select(self.choose_preset, {s["size"]}, {self.picture, self.chosen, self.notice}, **private)
        self.upload.upload(self.take_upload, [self.upload, s["size"], self.chosen],
                           [self.picture, self.chosen, self.notice], api_name=f"{p}upload")
        s["size"].change(self.resize, {self.chosen, s["size"]}, {self.notice}, trigger_mode="always_last", **private)
        s["budget"].change(self.switch_budget, {s["budget"]}, {s["amount"]}, **private)

        # Start returns at once; the view's script then polls the job (outside the event queue).
        started = {live.view, live.pause, live.downloads, live.status_json}
        self.start.click(self.start_race, {self.chosen, *settings, self.overlay, self.x_axis}, started,
                         api_visibility="private", concurrency_limit=None, show_progress="hidden")
        # The view's script fires `submit` once when it shows the end of a race.
        live.view.submit(self.finished, None, {live.downloads, live.status_json, live.pause}, **private)
        # The streaming API for scripts: the status JSON at every change, the result files at the end.
        self.api_compare.click(self.compare, [self.picture, *settings], [live.status_json, live.downloads],
                               api_name=f"{p}compare", concurrency_limit=None)

        self.pause.click(self.toggle_pause, None, {self.pause}, api_name=f"{p}pause", concurrency_limit=None)
        self.stop.click(self.stop_job, None, None, api_name=f"{p}stop", concurrency_limit=None)
        self.reset.click(self.reset_view, None, started, api_name=f"{p}reset", concurrency_limit=None)
        for radio in (self.overlay, self.x_axis):
            radio.change(self.change_view, {self.overlay, self.x_axis}, {live.view}, **private)
        self.prepare.click(self.prepare_downloads, None, {live.downloads}, api_name=f"{p}downloads",
                           concurrency_limit=None)
        if self.lecture:
            self.lecture.wire()

    # ------------------------------------------------------------------------------------ choosing the signal

    def signal_key(self, path: str | Path | None, size: float | None) -> tuple:
        return (str(path), tuple(sorted(self.tab.load_options(size).items())))

    def load(self, session: Session | None, path: str | Path, size: float | None) -> Signal:
        """The signal for (file, working size), loaded once per session (the first preset once per app)."""
        key = self.signal_key(path, size)
        if key == self.first_key and self.first_signal is not None:
            return self.first_signal
        if session is not None and key in session.loaded:
            return session.loaded[key]
        signal = load_signal(path, self.tab.modality, **self.tab.load_options(size))
        if session is not None:
            session.loaded.clear()  # keep only the latest choice
            session.loaded[key] = signal
        return signal

    def describe(self, signal: Signal) -> str:
        return self.tab.describe(signal) + "".join(f"  \n⚠️ {n}" for n in self.tab.notices(signal))

    def checked(self, session: Session | None, path: str | Path, size: float | None) -> Signal | None:
        """The signal, or None after a visible warning when the file cannot be used."""
        try:
            return self.load(session, path, size)
        except (SignalError, ValueError) as exc:
            gr.Warning(f"Cannot use this file: {getattr(exc, 'problem', exc)}")
            return None

    def session_for(self, request: gr.Request) -> Session:
        return self.table.session(self.table.key(request.session_hash, self.tab.modality))

    def choose_preset(self, values: dict, evt: gr.SelectData, request: gr.Request) -> dict:
        path = self.presets[evt.index]
        session = self.session_for(request)
        signal = self.checked(session, path, values[self.settings["size"]])
        if signal is None:
            return {self.notice: gr.skip()}
        shown = self.tab.picture_value(path, signal, session.folder / "previews")
        return {self.picture: shown, self.chosen: str(path), self.notice: self.describe(signal)}

    def take_upload(self, file: str | None, size: float | None, chosen: str | None, request: gr.Request) -> dict:
        """Validate an upload; keep a copy in the session's folder (static, so it outlives Gradio's cache).
        A refused file keeps the previous choice and its notice, with a warning line under it."""
        if not file:
            return {self.notice: gr.skip()}
        session = self.session_for(request)
        name = Path(file).name
        previous = self.previous_notice(session, chosen, size)
        size_mb = Path(file).stat().st_size / 2**20
        if size_mb > MAX_UPLOAD_MB:
            gr.Warning(f"{name} is {size_mb:.0f} MB; the limit is {MAX_UPLOAD_MB} MB. Please pick a smaller file.")
            return {self.notice: f"{previous}  \n⚠️ {name} was refused: {size_mb:.0f} MB is over the "
                                 f"{MAX_UPLOAD_MB} MB limit."}
        folder = session.folder / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / name
        shutil.copyfile(file, kept)
        signal = self.checked(session, kept, size)
        if signal is None:
            kept.unlink(missing_ok=True)
            return {self.notice: f"{previous}  \n⚠️ {name} could not be read as {self.tab.modality}; "
                                 "the previous choice is kept."}
        described = self.describe(signal)
        if signal.metadata.get("downscaled"):
            gr.Info(self.tab.describe(signal).replace("**", ""))
        return {self.picture: self.tab.picture_value(kept, signal, session.folder / "previews"),
                self.chosen: str(kept), self.notice: described}

    def previous_notice(self, session: Session, chosen: str | None, size: float | None) -> str:
        if not chosen:
            return ""
        try:
            return self.describe(self.load(session, chosen, size))
        except (SignalError, ValueError):
            return ""

    def resize(self, values: dict, request: gr.Request) -> dict:
        path, size = values[self.chosen], values[self.settings["size"]]
        signal = self.checked(self.session_for(request), path, size) if path else None
        return {self.notice: self.describe(signal) if signal is not None else gr.skip()}

    def switch_budget(self, values: dict) -> dict:
        """Switching the budget's unit puts in that unit's default (300 steps are not 300 seconds)."""
        seconds = values[self.settings["budget"]] == "seconds"
        value = self.tab.default_budget(self.device.type) if seconds else self.defaults.steps
        return {self.settings["amount"]: gr.Number(value=value, label="training seconds each" if seconds else "steps each")}

    # ------------------------------------------------------------------------------------ the race

    def make_spec(self, session: Session, path: str | None, v: dict[str, Any]) -> JobSpec:
        """The settings (by name) -> a RunSpec (the names the CLI and the bench use) -> a validated JobSpec;
        bad settings raise gr.Error (shown on the page)."""
        if not path:
            raise gr.Error("Choose a preset or upload a file first.")
        names = [v[f"sampler_{i + 1}"] for i in range(MAX_COLUMNS) if v.get(f"sampler_{i + 1}", NONE) not in (NONE, None)]
        if not 2 <= len(names) <= MAX_COLUMNS:
            raise gr.Error(f"Pick 2 to {MAX_COLUMNS} samplers to race (got {len(names)}).")
        if len(set(names)) != len(names):
            raise gr.Error(f"Pick different samplers for the columns (got {', '.join(names)}).")
        budget = "seconds" if v["budget"] == "seconds" else "steps"
        try:
            run = make_run_spec(
                path, modality=self.tab.modality, device=self.device, samplers=names,
                ratio=v["ratio"], schedule=None if v["schedule"] == "default" else v["schedule"],
                interval=None if v["interval"] == "default" else v["interval"], **{budget: v["amount"]},
                lr=v["lr"], width=v["width"], hidden_layers=v["depth"], first_w0=v["w0"], seed=v["seed"],
                eval_every=v["eval_every"])
            # The working size: 0 or empty means no limit (the loader's None), not the device's default.
            run.signal = dataclasses.replace(run.signal, options={**run.signal.options,
                                                                  **self.tab.load_options(v["size"])})
            signal = self.load(session, path, v["size"])
            samplers = run.build_samplers()
        except (SignalError, ValueError, KeyError, TypeError) as exc:
            raise gr.Error(str(exc.args[0] if isinstance(exc, KeyError) else exc)) from None
        return JobSpec(signal=signal, samplers=samplers, model=run.model, config=run.train,
                       target=float(v["target"]) if v["target"] else None, run=run)

    def start_race(self, values: dict, request: gr.Request) -> dict:
        """Start (or queue) a race for this page; the view's script shows it from here on."""
        session = self.session_for(request)
        named = {name: values[self.settings[name]] for name in SETTINGS}
        spec = self.make_spec(session, values[self.chosen], named)
        if self.lecture:
            self.lecture.prepare(session, spec)
        session.overlay, session.x_axis = values[self.overlay], values[self.x_axis]
        job = self.table.submit(session.key, spec)
        return self.live.started(session, job)

    def finished(self, request: gr.Request) -> dict:
        """The end of a race as the page saw it: the downloads, the final status, the Pause label."""
        session = self.table.get(self.table.key(request.session_hash, self.tab.modality))
        if session is None or session.job is None or not session.job.finished:
            return {self.live.downloads: gr.skip()}
        try:
            files = write_results(session.job, session.folder / "results", self.tab)
        except FileNotFoundError:  # the page closed meanwhile and its folder is gone
            return {self.live.downloads: gr.skip()}
        return {self.live.downloads: files, self.live.status_json: session.job.status(),
                self.pause: gr.Button(value="Pause")}

    def compare(self, picture, sampler_1, sampler_2, sampler_3, sampler_4, ratio, schedule, interval, budget, amount,
                lr, width, depth, w0, seed, eval_every, size, target, request: gr.Request):
        """Race 2–4 samplers on a signal (sampler_4 "none": three). Streams (status, files): the status is
        JSON with, per sampler, step, train_seconds, psnr (or iou) and best_psnr; the files (reconstructions,
        curves, summary, GIF) come with the last update. `budget` is "seconds" (training seconds per
        sampler) or "steps"; `size` is the working size (images: the longer side in px, 0 = full size);
        `target` 0 means the best both INT and full reached."""
        values = dict(zip(SETTINGS, (sampler_1, sampler_2, sampler_3, sampler_4, ratio, schedule, interval, budget,
                                     amount, lr, width, depth, w0, seed, eval_every, size, target)))
        session = self.session_for(request)
        job = self.table.submit(session.key, self.make_spec(session, picture, values))
        seen = None
        with self.table.in_use(session):  # while it streams, nothing closes the session or deletes its files
            while session.job is job:  # a new Start or Reset in this session ends this stream silently
                finished, position = job.finished, self.table.queue_position(job)
                now = (job.version, job.state, position)
                if finished:
                    yield job.status(position), write_results(job, session.folder / "results", self.tab)
                    return
                if now != seen:
                    seen = now
                    yield job.status(position), None
                time.sleep(REFRESH_SECONDS)

    # ------------------------------------------------------------------------------------ controls

    def toggle_pause(self, request: gr.Request) -> dict:
        session = self.table.get(self.table.key(request.session_hash, self.tab.modality))
        if session is None or session.job is None or session.job.finished:
            return {self.pause: gr.Button(value="Pause")}
        return {self.pause: gr.Button(value="Resume" if session.job.toggle_pause() else "Pause")}

    def stop_job(self, request: gr.Request) -> None:
        # No output of its own: the next poll shows "Stopped" once the job has ended.
        session = self.table.get(self.table.key(request.session_hash, self.tab.modality))
        if session is not None and session.job is not None:
            session.job.stop()

    def reset_view(self, request: gr.Request) -> dict:
        key = self.table.key(request.session_hash, self.tab.modality)
        self.table.reset(key)
        if self.lecture:
            self.lecture.forget(self.table.get(key))
        return self.live.blank(self.idle_message())

    def change_view(self, values: dict, request: gr.Request) -> dict:
        """Remember the view choices; a running race shows them at the next poll, a finished one now."""
        session = self.table.get(self.table.key(request.session_hash, self.tab.modality))
        if session is None:
            return self.live.nothing()
        session.overlay, session.x_axis = values[self.overlay], values[self.x_axis]
        job = session.job
        if job is None or not job.finished:
            return self.live.nothing()
        return self.live.render(session, job, force=True)

    def prepare_downloads(self, request: gr.Request) -> dict:
        session = self.table.get(self.table.key(request.session_hash, self.tab.modality))
        if session is None or session.job is None:
            gr.Warning("Nothing to download yet: press Start first.")
            return {self.live.downloads: gr.skip()}
        return {self.live.downloads: write_results(session.job, session.folder / "results", self.tab)}

    def idle_message(self) -> str:
        return "Press **Start** to race the samplers (equal training time each, by default)."
