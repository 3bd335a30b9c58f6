"""One modality's tab: `RaceTab`.

Read it top to bottom: `layout()` places the widgets, `wire()` connects the events, and each handler
below returns its outputs by name ({component: value}).

The page: a side panel (what to fit and how; step mode and the kernel view; the link and the files) next
to the race (its buttons, then the live view: status line, columns, chart and table). Every setting is a
control made from the library's settings (demo.ui.controls); Start, a link and the `compare` endpoint
all turn them into the library's run spec through demo.server.settings.
"""

from __future__ import annotations

import inspect
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import torch
from gradio.context import Context

from intcore.memory import NotEnoughMemoryError, check_memory
from intcore.modalities import load_signal
from intcore.models import ModelConfig
from intcore.signals import Signal, SignalError

from ..lecture.poster import PosterSetup
from ..lecture.text import NO_UPLOAD_IN_LINKS
from ..server import settings as S
from ..server.race import Race
from ..server.sessions import REFRESH_SECONDS, Session, SessionTable
from ..server.writes import as_sentence, attempt
from ..tabs import ModalityTab
from .controls import Controls
from .lecture_panel import POSTER_PRESET, LecturePanel
from .live import LiveView, plain_text, race_view
from .results import write_results

WHOLE_URL_JS = (
    "(query) => (query && !query.includes('://') ? location.origin + location.pathname + '?' + query : query)"
)
"""a link's query string -> the whole address of this page with it (the link box shows that)"""
COPY_JS = """(query) => {
  const url = location.origin + location.pathname + (query ? '?' + query : '');
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
  return url;
}"""
MAX_UPLOAD_MB = 25
"""uploads above this are refused with a message (a hard limit at twice this stops them at the door)"""


class RaceTab:
    """One live race: the signal and settings in the side panel; the race beside it (buttons, status,
    2–4 columns, the chart and the table)."""

    def __init__(self, tab: ModalityTab, table: SessionTable, device: torch.device, tabs: gr.Tabs) -> None:
        self.tab, self.table, self.device = tab, table, device
        self.tabs = tabs
        """the app's row of tabs (a link selects its tab)"""
        self.defaults = S.defaults(tab.modality, device)
        size_name = S.size_setting(tab.modality)
        assert size_name is not None, f"{tab.modality} has no working-size setting"
        self.size_name: str = size_name
        self.presets = tab.presets()
        first = tab.first()
        # The page opens with the first preset chosen, loaded once here and reused by every session's Start.
        self.first = first
        self.first_key = self.signal_key(first, self.defaults) if first else None
        self.first_signal = load_signal(first, tab.modality, **self.load_options(self.defaults)) if first else None
        self.lecture = LecturePanel(self) if tab.lecture_drawing is not None else None

    def build(self) -> None:
        self.layout()
        self.wire()

    # ------------------------------------------------------------------------------------ layout

    def layout(self) -> None:
        tab, p = self.tab, self.tab.prefix
        with gr.Row(equal_height=False, elem_id=f"{p}layout", elem_classes=["race-layout"]):
            with gr.Column(scale=1, min_width=320, elem_id=f"{p}side", elem_classes=["side-panel"]):
                with gr.Tabs(elem_id=f"{p}side-tabs") as self.side_tabs:
                    with gr.Tab("Signal & settings", id="signal", elem_id=f"{p}signal-tab"):
                        self.signal_layout()
                    if self.lecture:
                        with gr.Tab("Step & kernel", id="step", elem_id=f"{p}step-tab"):
                            self.lecture.step_layout()
                    with gr.Tab("Link & files", id="files", elem_id=f"{p}files-tab"):
                        self.share_layout()
                        if self.lecture:
                            self.lecture.exports_layout(poster=any(x.stem == POSTER_PRESET for x in self.presets))
                        fmt = tab.spec.file_extension.lstrip(".").upper()
                        self.downloads = gr.File(
                            label=f"Results: reconstructions ({fmt}), curves (CSV), summary (JSON), "
                            "INT selections (GIF)",
                            file_count="multiple",
                            interactive=False,
                            elem_id=f"{p}downloads",
                            elem_classes=["downloads"],
                            height=140,
                        )
                        self.prepare = gr.Button("Prepare downloads now", size="sm", elem_id=f"{p}prepare")
            with gr.Column(scale=2, min_width=480, elem_id=f"{p}race-col", elem_classes=["race-col"]):
                with gr.Row(elem_classes=["race-buttons"]):
                    self.start = gr.Button("Start", variant="primary", elem_id=f"{p}start", min_width=70, scale=0)
                    self.pause = gr.Button("Pause", elem_id=f"{p}pause", min_width=70, scale=0)
                    self.stop = gr.Button("Stop", variant="stop", elem_id=f"{p}stop", min_width=70, scale=0)
                    self.reset = gr.Button("Reset", elem_id=f"{p}reset", min_width=70, scale=0)
                    if self.lecture:
                        self.lecture.step_button()

                def poll(request: dict) -> str:  # the view's script asks for news (LiveView.poll)
                    return self.live.poll(request)

                columns = self.defaults["samplers"] + [S.NONE] * (S.MAX_COLUMNS - len(self.defaults["samplers"]))
                view = race_view(tab, columns, self.idle_message(), poll)
                self.api_layout()
        self.live = LiveView(
            tab=tab, table=self.table, view=view, downloads=self.downloads, pause=self.pause, columns=S.MAX_COLUMNS
        )

    def signal_layout(self) -> None:
        tab, p = self.tab, self.tab.prefix
        shown = tab.picture_value(self.first, self.first_signal, self.table.root / "previews") if self.first else None
        self.picture = tab.picture(shown)
        self.chosen = gr.State(str(self.first) if self.first else None)
        self.notice = gr.Markdown(
            self.describe(self.first_signal) if self.first_signal else "No presets found: upload a file.",
            elem_id=f"{p}notice",
        )
        self.link_notice = gr.Markdown("", elem_id=f"{p}link-notice")
        """what a link the page was opened with restored (and what it could not)"""
        self.gallery = gr.Gallery(
            value=[(tab.thumbnail(x, self.table.root / "thumbs"), tab.caption(x)) for x in self.presets],
            label="Presets (click one)",
            columns=3,
            height=150,
            allow_preview=False,
            object_fit="contain",
            elem_id=f"{p}presets",
            elem_classes=["presets"],
            interactive=False,
            buttons=[],
        )
        self.upload = gr.UploadButton(
            f"Upload your own ({MAX_UPLOAD_MB} MB max)",
            file_types=list(tab.spec.extensions) if tab.modality != "image" else ["image"],
            size="sm",
            elem_id=f"{p}upload",
        )
        self.controls = Controls(tab.modality, p, self.defaults)
        with gr.Accordion("Settings", open=False, elem_id=f"{p}settings"):
            gr.Markdown(
                "Each setting has the name it has in links, in the `compare` API and on the command line "
                "(`python -m intcore compare --hidden-layers 3`).",
                elem_classes=["settings-note"],
            )
            self.controls.layout_columns()
            self.controls.layout_budget()
            self.controls.layout_rest()
            d = self.defaults
            gr.Markdown(
                f"Defaults for **{self.device.type.upper()}**: {d['hidden_layers']}×{d['width']} SIREN, "
                f"lr {d['lr']:g}, {d['seconds']:g} s of training per sampler (or {d['steps']} steps)."
            )

    def share_layout(self) -> None:
        """The link that restores this setup, and the presentation view."""
        p = self.tab.prefix
        self.link_values = gr.JSON(None, visible=False)
        """the settings of the link the page was opened with (set once, at page load, only from a link)"""
        with gr.Row(elem_id=f"{p}lecture-tools"):
            self.link = gr.Textbox(
                label="Link to this setup (opening it restores the settings)",
                elem_id=f"{p}link",
                interactive=False,
                scale=4,
                buttons=["copy"],
            )
            self.copy_link = gr.Button("Copy link", elem_id=f"{p}copy-link", size="sm", scale=1, min_width=90)
        self.present = gr.Button("Presentation view (P)", elem_id=f"{p}present", size="sm")

    def api_layout(self) -> None:
        """The `compare` endpoint's inputs: one hidden field per setting, named by the setting (empty: the
        tab's default), so a script calls compare(picture=..., samplers="int,full", hidden_layers=3, ...)."""
        self.api_compare = gr.Button(visible=False)  # the streaming API's trigger; the page polls instead
        self.api_inputs: dict[str, Any] = {"samplers": gr.Textbox(None, visible=False)}
        for name in S.tab_settings(self.tab.modality):
            numeric = name not in S.SAMPLER_SETTINGS and not S.SETTINGS[name].choices and name not in S.SUGGESTIONS
            self.api_inputs[name] = gr.Number(None, visible=False) if numeric else gr.Textbox(None, visible=False)
        self.api_inputs["target"] = gr.Number(None, visible=False)
        self.api_status = gr.JSON(visible=False)

    # ------------------------------------------------------------------------------------ wiring

    def wire(self) -> None:
        p, live, c = self.tab.prefix, self.live, self.controls
        private: dict[str, Any] = dict(api_visibility="private", concurrency_limit=None)
        size = c.single[self.size_name]
        self.gallery.select(self.choose_preset, {size}, {self.picture, self.chosen, self.notice}, **private)
        # the upload endpoint names the working size by its setting: /upload(file, max_side=...)
        self.upload.upload(
            self.take_upload,
            [self.upload],
            [self.picture, self.chosen, self.notice],
            inputs_kwargs={self.size_name: size, "chosen": self.chosen},
            api_name=f"{p}upload",
        )
        size.change(self.resize, {self.chosen, size}, {self.notice}, trigger_mode="always_last", **private)
        for i, row in enumerate(c.columns):
            # `input`, not `change`: only a person's choice resets a column's options (a link sets them itself)
            row["sampler"].input(
                self.column_changed(i), [row["sampler"]], [row[n] for n in S.SAMPLER_SETTINGS], **private
            )

        # Start returns at once; the view's script then polls the race (outside the event queue).
        started = {live.view, live.pause, live.downloads}
        self.start.click(
            self.start_race,
            {self.chosen, *c.all()},
            started,
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )
        # The view's script fires `submit` once when it shows the end of a race.
        live.view.submit(self.finished, None, {live.view, live.downloads, live.pause}, **private)
        # The streaming API for scripts: the status JSON at every change, the result files at the end.
        self.api_compare.click(
            self.compare_endpoint(),
            [self.picture],
            [self.api_status, live.downloads],
            inputs_kwargs=self.api_inputs,
            api_name=f"{p}compare",
            concurrency_limit=None,
        )

        self.pause.click(self.toggle_pause, None, {self.pause}, api_name=f"{p}pause", concurrency_limit=None)
        self.stop.click(self.stop_race, None, None, api_name=f"{p}stop", concurrency_limit=None)
        self.reset.click(self.reset_view, None, started, api_name=f"{p}reset", concurrency_limit=None)
        self.prepare.click(
            self.prepare_downloads, None, {live.downloads}, api_name=f"{p}downloads", concurrency_limit=None
        )
        self.copy_link.click(self.make_link, {self.chosen, *c.all()}, [self.link], **private).then(
            None, [self.link], [self.link], js=COPY_JS
        )
        self.present.click(None, js="() => { document.body.classList.toggle('int-presenting'); }")
        # A link is applied in two steps, so that a page opened WITHOUT one never has an event pending on
        # its settings at load (a value typed while one was pending could be lost): the load event reads
        # the link into a hidden value; only a change of that value (a link was given) sets the controls.
        Context.root_block.load(self.read_link, None, [self.link_values], **private)
        self.link_values.change(
            self.apply_link,
            [self.link_values],
            [self.picture, self.chosen, self.notice, self.link_notice, self.link, self.tabs, *c.all()],
            **private,
        ).then(None, [self.link], [self.link], js=WHOLE_URL_JS)
        if self.lecture:
            self.lecture.wire()

    # ------------------------------------------------------------------------------------ what lecture mode needs

    @property
    def view(self) -> gr.HTML:
        return self.live.view

    @property
    def size_control(self) -> Any:
        return self.controls.single[self.size_name]

    def preset_signal(self, stem: str, size: Any, session: Session) -> Signal | None:
        preset = next((p for p in self.presets if p.stem == stem), None)
        if preset is None:
            gr.Warning(f"The {stem} preset is missing.")
            return None
        return self.checked(session, preset, self.size_values(size))

    def poster_setup(self) -> PosterSetup:
        d = self.defaults
        model = ModelConfig(width=d["width"], hidden_layers=d["hidden_layers"], first_w0=d["first_w0"], w0=d["w0"])
        return PosterSetup(model=model, lr=d["lr"], device=str(self.device))

    # ------------------------------------------------------------------------------------ choosing the signal

    def load_options(self, values: dict[str, Any]) -> dict[str, Any]:
        """The loader's options for the working size in `values` (empty: the tab's default)."""
        value = values.get(self.size_name)
        value = self.defaults[self.size_name] if value in (None, "") else S.read(self.size_name, value)
        return {self.size_name: value}

    def signal_key(self, path: str | Path | None, values: dict[str, Any]) -> tuple:
        return (str(path), tuple(sorted(self.load_options(values).items())))

    def load(self, session: Session | None, path: str | Path, values: dict[str, Any]) -> Signal:
        """The signal for (file, working size), loaded once per session (the first preset once per app)."""
        key = self.signal_key(path, values)
        if key == self.first_key and self.first_signal is not None:
            return self.first_signal
        if session is not None and key in session.loaded:
            return session.loaded[key]
        signal = load_signal(path, self.tab.modality, **self.load_options(values))
        if session is not None:
            session.loaded.clear()  # keep only the latest choice
            session.loaded[key] = signal
        return signal

    def describe(self, signal: Signal) -> str:
        return self.tab.describe(signal) + "".join(f"  \n⚠️ {n}" for n in self.tab.notices(signal))

    def checked(self, session: Session | None, path: str | Path, values: dict[str, Any]) -> Signal | None:
        """The signal, or None after a visible warning when the file cannot be used."""
        try:
            return self.load(session, path, values)
        except (SignalError, ValueError) as exc:
            gr.Warning(plain_text(f"Cannot use this file: {getattr(exc, 'problem', exc)}"))
            return None

    def size_values(self, size: Any) -> dict[str, Any]:
        return {self.size_name: size}

    def session_for(self, request: gr.Request) -> Session:
        return self.table.session(self.table.key(request.session_hash, self.tab.modality))

    def current(self, request: gr.Request) -> Session | None:
        return self.table.get(self.table.key(request.session_hash, self.tab.modality))

    def choose_preset(self, values: dict, evt: gr.SelectData, request: gr.Request) -> dict:
        path = self.presets[evt.index]
        session = self.session_for(request)
        signal = self.checked(session, path, self.size_values(values[self.controls.single[self.size_name]]))
        if signal is None:
            return {self.notice: gr.skip()}
        shown = self.preview(path, signal, session)
        self.notify_changes(signal)
        return {self.picture: shown, self.chosen: str(path), self.notice: self.describe(signal)}

    def take_upload(self, file: str | None, request: gr.Request, chosen: str | None = None, **size: Any) -> dict:
        """Validate an upload; keep a copy in the session's folder (static, so it outlives Gradio's cache).
        A refused file keeps the previous choice and its notice, with a warning line under it. `size`: the
        working size by its setting's name (e.g. max_side=128)."""
        if not file:
            return {self.notice: gr.skip()}
        session = self.session_for(request)
        values = {k: v for k, v in size.items() if k == self.size_name}
        name = Path(file).name
        previous = self.previous_notice(session, chosen, values)
        size_mb = Path(file).stat().st_size / 2**20
        if size_mb > MAX_UPLOAD_MB:
            gr.Warning(f"{name} is {size_mb:.0f} MB; the limit is {MAX_UPLOAD_MB} MB. Please pick a smaller file.")
            return {
                self.notice: f"{previous}  \n⚠️ {name} was refused: {size_mb:.0f} MB is over the "
                f"{MAX_UPLOAD_MB} MB limit."
            }
        folder = session.folder / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / name
        _, problem = attempt(f"the upload {name}", lambda: shutil.copyfile(file, kept))
        if problem is not None:
            kept.unlink(missing_ok=True)
            gr.Warning(as_sentence(problem))
            return {self.notice: f"{previous}  \n⚠️ {as_sentence(problem)[:-1]}; the previous choice is kept."}
        signal = self.checked(session, kept, values)
        if signal is None:
            kept.unlink(missing_ok=True)
            return {
                self.notice: f"{previous}  \n⚠️ {name} could not be read as {self.tab.modality}; "
                "the previous choice is kept."
            }
        self.notify_changes(signal)
        return {
            self.picture: self.preview(kept, signal, session),
            self.chosen: str(kept),
            self.notice: self.describe(signal),
        }

    def notify_changes(self, signal: Signal) -> None:
        """A toast (plain text) for each way the loader changed the file (downscaled, trimmed, mixed down)."""
        for notice in self.tab.notices(signal):
            gr.Info(plain_text(notice))

    def previous_notice(self, session: Session, chosen: str | None, values: dict[str, Any]) -> str:
        if not chosen:
            return ""
        try:
            return self.describe(self.load(session, chosen, values))
        except (SignalError, ValueError):
            return ""

    def resize(self, values: dict, request: gr.Request) -> dict:
        path, size = values[self.chosen], values[self.controls.single[self.size_name]]
        try:
            options = self.size_values(size)
            self.load_options(options)
        except S.SettingError as exc:
            gr.Warning(str(exc))
            return {self.notice: gr.skip()}
        signal = self.checked(self.session_for(request), path, options) if path else None
        return {self.notice: self.describe(signal) if signal is not None else gr.skip()}

    def column_changed(self, i: int) -> Any:
        def changed(sampler: str) -> dict:
            """A person picked column i's sampler: its options become that sampler's own."""
            return self.controls.column_options(i, sampler, S.own_options(sampler))

        return changed

    # ------------------------------------------------------------------------------------ the race

    def make_race(self, session: Session, path: str | None, raw: dict[str, Any]) -> Race:
        """Settings (by name) -> the library's RunSpec -> a Race; bad settings, and a race whose estimated
        memory is more than is free now (intcore.memory.check_memory), raise gr.Error (shown on the page,
        or returned to an API client) naming the setting."""
        if not path:
            raise gr.Error("Choose a preset or upload a file first.")
        try:
            values = S.given(raw, self.defaults)
            run = S.run_spec(path, self.tab.modality, self.device, values)
            signal = self.load(session, path, values)
            check_memory(run, signal.n, signal.in_features, signal.out_features)
        except NotEnoughMemoryError as exc:
            raise gr.Error(as_sentence(str(exc))) from None  # "This race needs about 15.1 GB of CPU memory …."
        except (SignalError, ValueError) as exc:
            raise gr.Error(plain_text(str(getattr(exc, "problem", exc)))) from None
        return Race(run, signal)

    def start_race(self, values: dict, request: gr.Request) -> dict:
        """Start (or queue) a race for this page; the view's script shows it from here on."""
        session = self.session_for(request)
        race = self.make_race(session, values[self.chosen], self.controls.values(values))
        if self.lecture:
            self.lecture.prepare(session, race)
        self.table.submit(session.key, race)
        return self.live.started(session, race)

    def finished(self, request: gr.Request) -> dict:
        """The end of a race as the page saw it: the downloads and the Pause label."""
        session = self.current(request)
        if session is None or session.race is None or not session.race.finished:
            return {self.live.downloads: gr.skip()}
        try:
            files = self.write_downloads(session.race, session, toast=True)
        except FileNotFoundError:  # the page closed meanwhile and its folder is gone
            return {self.live.downloads: gr.skip()}
        # A failed write changed the status line (it says why instead of pointing at the files).
        shown = self.live.render(session, session.race) if files is None else {}
        return {**shown, self.live.downloads: files, self.pause: gr.Button(value="Pause")}

    def write_downloads(self, race: Race, session: Session, toast: bool = False) -> list[str] | None:
        """The race's files for download, written now; None if the write failed (a full disk): the race's
        status then says so in one sentence (and a toast, with `toast`), and the next try writes again."""
        files, problem = attempt("the downloads", lambda: write_results(race, session.folder / "results", self.tab))
        race.note_write_failure(problem)
        if problem is not None and toast:
            gr.Warning(as_sentence(problem))
        return files

    def preview(self, path: Path | str, signal: Signal, session: Session) -> Any:
        """What the input widget shows for a chosen file; the file itself if its preview cannot be written."""
        shown, problem = attempt(
            "the preview", lambda: self.tab.picture_value(Path(path), signal, session.folder / "previews")
        )
        if problem is None:
            return shown
        gr.Warning(as_sentence(problem))
        return str(path)

    def compare_endpoint(self) -> Callable[..., Iterator[tuple]]:
        """`compare` with a signature that names every setting as a keyword defaulting to None, so that the
        API's description (and gradio_client) lists each one by name as optional."""

        def compare(picture: str | None, request: gr.Request, **settings: Any) -> Iterator[tuple]:
            yield from self.compare(picture, request, **settings)

        params = [
            inspect.Parameter("picture", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request),
        ]
        params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None) for name in self.api_inputs]
        compare.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        compare.__doc__ = self.compare.__doc__
        return compare

    def compare(self, picture: str | None, request: gr.Request, **settings: Any) -> Iterator[tuple]:
        """Race 2–4 samplers on a signal. Every setting is a keyword named as in the library (and in
        links and on the command line): `samplers` ("int,full,random"), `seconds` or `steps`, `lr`,
        `hidden_layers`, `width`, `first_w0`, `max_side` (images), ..., a column's sampler settings one
        value per column ("0.2,,0.1") or one for all, and `target` (0: none); left out or empty: the tab's
        default.
        Streams (status, files): the status is JSON with, per sampler, its step, training seconds,
        quality, time to the target and savings, and the verdict; the files (reconstructions, curves,
        summary, GIF) come with the last update."""
        session = self.session_for(request)
        race = self.make_race(session, picture, settings)
        self.table.submit(session.key, race)
        seen = None
        with self.table.in_use(session):  # while it streams, nothing closes the session or deletes its files
            while session.race is race:  # a new Start or Reset in this session ends this stream silently
                finished, position = race.finished, self.table.queue_position(race)
                now = (race.version, race.state, position)
                if finished:
                    files = self.write_downloads(race, session)
                    yield race.status(position), files
                    return
                if now != seen:
                    seen = now
                    yield race.status(position), None
                time.sleep(REFRESH_SECONDS)

    # ------------------------------------------------------------------------------------ links (demo.server.settings)

    def link_values_of(self, got: dict[Any, Any]) -> S.Values:
        """The tab's control values -> the link's values (the settings model's names)."""
        values = S.given(self.controls.values(got), self.defaults)
        values["tab"] = self.tab.modality
        stems = {str(p): p.stem for p in self.presets}
        chosen = got[self.chosen]
        if chosen in stems:
            values[S.PRESET] = stems[chosen]
        return values

    def make_link(self, got: dict[Any, Any]) -> Any:
        try:
            values = self.link_values_of(got)
        except ValueError as exc:
            gr.Warning(plain_text(f"The link cannot carry this setup: {exc}"))
            return gr.skip()
        if S.PRESET not in values and got[self.chosen]:
            gr.Warning(NO_UPLOAD_IN_LINKS)
        return S.encode(values)

    def read_link(self, request: gr.Request) -> Any:
        """Page load: the URL's query string read onto this tab's defaults, if the link is for this tab
        (a link without a valid tab is read by the first tab); else nothing changes."""
        params = dict(request.query_params) if request is not None else {}
        params.pop("__theme", None)
        if not params:
            return gr.skip()
        tab = params.get("tab")
        mine = tab == self.tab.modality or (tab not in S.TABS and self.tab.modality == S.TABS[0])
        if not mine:
            return gr.skip()
        base = {**self.defaults, "tab": self.tab.modality, S.PRESET: self.first.stem if self.first else None}
        got = S.decode(params, base, [p.stem for p in self.presets])
        return {"settings": got.settings, "notices": got.notices}

    def apply_link(self, link: dict[str, Any] | None, request: gr.Request) -> Any:
        """The link's values -> this tab's controls, its preset, the link box and a notice."""
        if not link:
            return {self.notice: gr.skip()}
        values, notices = link["settings"], link["notices"]
        for notice in notices:
            gr.Warning(notice)
        out: dict[Any, Any] = {self.tabs: gr.Tabs(selected=self.tab.modality), **self.controls.updates(values)}
        preset = next((p for p in self.presets if p.stem == values.get(S.PRESET)), None)
        if preset is not None:
            session = self.session_for(request)
            signal = self.checked(session, preset, values)
            if signal is not None:
                out[self.picture] = self.preview(preset, signal, session)
                out[self.chosen] = str(preset)
                out[self.notice] = self.describe(signal)
        out[self.link] = S.encode(values)
        out[self.link_notice] = "Settings restored from the link." + "".join(f"  \n⚠️ {n}" for n in notices)
        return out

    # ------------------------------------------------------------------------------------ controls

    def toggle_pause(self, request: gr.Request) -> dict:
        session = self.current(request)
        if session is None or session.race is None or session.race.finished:
            return {self.pause: gr.Button(value="Pause")}
        return {self.pause: gr.Button(value="Resume" if session.race.toggle_pause() else "Pause")}

    def stop_race(self, request: gr.Request) -> None:
        # No output of its own: the next poll shows "Stopped" once the race has ended.
        session = self.current(request)
        if session is not None and session.race is not None:
            session.race.stop()

    def reset_view(self, request: gr.Request) -> dict:
        key = self.table.key(request.session_hash, self.tab.modality)
        self.table.reset(key)
        if self.lecture:
            self.lecture.forget(self.table.get(key))
        return self.live.blank(self.idle_message())

    def prepare_downloads(self, request: gr.Request) -> dict:
        session = self.current(request)
        if session is None or session.race is None:
            gr.Warning("Nothing to download yet: press Start first.")
            return {self.live.downloads: gr.skip()}
        files = self.write_downloads(session.race, session, toast=True)
        return {self.live.downloads: files if files is not None else gr.skip()}

    def idle_message(self) -> str:
        return "Press **Start** to race the samplers (equal training time each, by default)."
