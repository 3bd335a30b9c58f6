"""Lecture mode on every tab: step mode, the kernel view, Algorithm 1 live, links, exports, keys.

The mathematics is in intcore.teach; the pictures and what a click points at come from the tab's lecture
drawing (demo.lecture_hook: demo.lecture_views for images, lecture_audio, lecture_shape); this module adds
the widgets under the race and wires them, the same on every tab. Per page, `LectureState` (kept on the Session) listens to the race's
snapshots in the job's thread: it copies each column's weights at every snapshot (a few hundred kB, off
the training clock) so that a step can be explained and a kernel row computed at the weights the page
shows, and it records the race for the GIF export.
"""
from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np
import torch

from intcore.lr_schedules import lr_factor
from intcore.models import build_model
from intcore.modalities import get_modality
from intcore.teach import Params, StepExplanation, epsilon_for_psnr, explain_step, kernel_row, parameters_of
from intcore.trainer import Snapshot

from .lecture_algorithm import algorithm_html
from .lecture_gif import RaceRecorder
from .lecture_links import decode, encode
from .lecture_poster import PosterSetup, make_poster
from .lecture_hook import LectureDrawing
from .lecture_links import TABS as LINK_TABS
from .lecture_text import HOW_INT_WORKS, KERNEL_CAPTION, NO_UPLOAD_IN_LINKS, kernel_caption, step_caption
from .session import Job, JobSpec, Session
from .tabs import TABS
from .views import COLUMN_COLORS

if TYPE_CHECKING:
    from .app import ComparisonTab

STEP_WAIT_SECONDS = 120.0
"""how long a Step click waits for every column's step (a loaded 2-core machine can be slow)"""
POSTER_PRESET = "camera"
IDLE_NOTE = "Pause the race (Space), then Step (→): every column takes exactly one training step."

KEYS_JS = r"""
if (!window.intStudioKeys) {
  // Keys act on the tab that is shown: every tab's race buttons share ids but for the tab's prefix
  // ("" for the image tab, "audio-", "shape-").
  window.intStudioKeys = {racing: {}};
  const state = window.intStudioKeys;
  const PREFIXES = ['', 'audio-', 'shape-'];
  const press = (id) => { const b = document.getElementById(id); if (b) b.click(); return !!b; };
  const shown = () => PREFIXES.find((p) => { const b = document.getElementById(p + 'start'); return b && b.offsetParent !== null; });
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('button');
    if (!b || !b.id) return;
    const m = b.id.match(/^((?:audio-|shape-)?)(start|reset|stop)$/);
    if (m) state.racing[m[1]] = m[2] === 'start';
  }, true);
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    const p = shown();
    if (p === undefined) return;  // no race tab is shown
    if (e.code === 'Space') {
      e.preventDefault();
      const status = document.getElementById(p + 'status-text');
      const ended = status && /^(Done|Stopped|Error)/.test(status.innerText.trim());  // a finished race: start anew
      press(state.racing[p] && !ended ? p + 'pause' : p + 'start');
    }
    else if (e.key === 'ArrowRight') { e.preventDefault(); press(p + 'step'); }
    else if (e.key === 'r' || e.key === 'R') { press(p + 'reset'); }
    else if (e.key === 'p' || e.key === 'P') { document.body.classList.toggle('int-presenting'); }
    else if (e.key === 'Escape') { document.body.classList.remove('int-presenting'); }
  });
}
"""

# Every tab's widgets carry the tab's prefix ("", "audio-", "shape-"): match the ids' endings.
_HIDDEN_WHEN_PRESENTING = ("inputs-col", "table", "downloads", "prepare", "lecture-tools", "link-notice")
PRESENTING_CSS = """
<style>
""" + ", ".join(f'body.int-presenting [id$="{i}"]' for i in _HIDDEN_WHEN_PRESENTING) + """,
body.int-presenting .gradio-container > .main > .wrap > .contain > .column > .block.prose:first-child { display: none !important; }
body.int-presenting .gradio-container { font-size: 125%; max-width: 100% !important; }
body.int-presenting [id$="status-text"] * { font-size: 1.25rem !important; line-height: 1.5 !important; }
body.int-presenting .column-head * { font-size: 1.2rem !important; }
[id$="kernel-view"] img, [id$="step-view"] img { image-rendering: pixelated; }
/* the lecture pictures' labels sit above them, not over their top-left corner (where x₀ may be) */
[id$="kernel-view"] label[data-testid="block-label"], [id$="step-view"] label[data-testid="block-label"] {
  position: static !important; }
</style>
"""

COPY_JS = """(query) => {
  const url = location.origin + location.pathname + (query ? '?' + query : '');
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
  return url;
}"""


class LectureState:
    """One page's lecture memory for its latest race: each column's weights at its last two snapshots,
    how many step-mode snapshots arrived, and the race recording. Written by the job's thread.

    When every column has ended, the weights move off the accelerator (the initial ones and each column's
    last; the step pairs are dropped, as no step can follow): a finished race holds no device memory,
    and its kernel view still works, on the CPU."""

    def __init__(self, spec: JobSpec, drawing: type[LectureDrawing] | None = None) -> None:
        self.drawing = drawing or TABS[spec.signal.modality].lecture_drawing
        self.weights: dict[str, list[tuple[int, Params]]] = {}
        self.stepped = 0
        self.latest_stepped: dict[str, Snapshot] = {}
        self.explained: StepExplanation | None = None
        """the latest step explained (redrawn when the cut moves)"""
        self.last_click: tuple[int, tuple[int, int], tuple[int, int], str] | None = None
        """(column, click (x, y), picture (h, w), source) of the kernel view now shown"""
        self.shown: dict[str, tuple[int, int]] = {}
        """(height, width) of the lecture pictures last sent to the page: "step" and "kernel" """
        modality = get_modality(spec.signal.modality)
        self.recorder = RaceRecorder(list(spec.samplers), COLUMN_COLORS, metric=modality.metric,
                                     unit="dB" if modality.metric == "psnr" else "",
                                     picture=self.drawing(spec.signal).race_frame,
                                     side=self.drawing.race_frame_side)
        self.changed = threading.Condition()
        self.stepping = threading.Lock()
        """one Step at a time per page: a second press waits for the first step and its explanation"""
        self.ended: set[str] = set()
        signal = spec.signal
        self.methods = set(spec.samplers)
        self.model = build_model(spec.model, signal.in_features, signal.out_features, spec.config.seed)
        self.device = torch.device(spec.config.device)
        self.initial = {k: v.to(self.device) for k, v in parameters_of(self.model).items()}

    def __call__(self, job: Job, snap: Snapshot) -> None:
        trainer = job.trainers.get(snap.method)
        if trainer is not None and trainer.model is not None:
            kept = self.weights.setdefault(snap.method, [])
            kept.append((snap.step, parameters_of(trainer.model)))
            del kept[:-2]
        self.recorder.add(snap)
        if snap.extra.get("stepped"):
            with self.changed:
                self.stepped += 1
                self.latest_stepped[snap.method] = snap
                self.changed.notify_all()
        if snap.done:
            self.ended.add(snap.method)
            if self.ended >= self.methods:
                self.release()

    def release(self) -> None:
        """The race is over: keep each column's last weights and the initial ones in host memory only."""
        cpu = torch.device("cpu")
        self.weights = {m: [(step, {k: v.to(cpu) for k, v in w.items()})] for m, kept in self.weights.items()
                        for step, w in kept[-1:]}
        self.initial = {k: v.to(cpu) for k, v in self.initial.items()}
        self.device = cpu

    def held_on(self, device_type: str) -> int:
        """How many weight tensors this state holds on devices of `device_type` ("cpu", "cuda", ...)."""
        tensors = [*self.initial.values(), *(v for kept in self.weights.values() for _, w in kept for v in w.values())]
        return sum(t.device.type == device_type for t in tensors)

    def wait_for_steps(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.stepped >= count, timeout)

    def weights_at(self, method: str) -> tuple[int, Params] | None:
        kept = self.weights.get(method)
        return kept[-1] if kept else None

    def step_pair(self, method: str) -> tuple[Params, Params, int] | None:
        """(weights before, weights after, t) of the method's latest single step, when both are known."""
        kept = list(self.weights.get(method, []))
        if not kept:
            return None
        after_step, after = kept[-1]
        if len(kept) == 2 and kept[0][0] == after_step - 1:
            return kept[0][1], after, after_step - 1
        if after_step == 1:  # the first step starts from the initial weights
            return self.initial, after, 0
        return None


class LectureView:
    """The lecture widgets of one tab and their handlers. What differs per modality (the pictures, what a
    click points at) comes from the tab's `lecture_drawing` class (demo.lecture_hook)."""

    def __init__(self, ct: "ComparisonTab") -> None:
        self.ct = ct
        self.drawing: type[LectureDrawing] = ct.tab.lecture_drawing
        self.p = ct.tab.prefix

    # ------------------------------------------------------------------------------------ layout

    def step_button(self) -> gr.Button:
        """The Step button (placed by the app in its row of race buttons)."""
        self.step = gr.Button("Step →", elem_id=f"{self.p}step", scale=1, min_width=80)
        return self.step

    def _picture(self, name: str, elem: str) -> gr.Image:
        return gr.Image(label=self.drawing.labels[name], type="numpy", interactive=False, format="png", buttons=[],
                        elem_id=f"{self.p}{elem}")

    def layout(self) -> None:
        """Everything else, under the race."""
        p, d = self.p, self.drawing
        gr.HTML("", html_template=PRESENTING_CSS, js_on_load=KEYS_JS, elem_id=f"{p}lecture-keys", padding=False)
        with gr.Row(elem_id=f"{p}lecture-tools"):
            self.copy_link = gr.Button("Copy link", elem_id=f"{p}copy-link", size="sm", scale=1)
            self.link = gr.Textbox(label="Link to this setup (opening it restores the settings)", elem_id=f"{p}link",
                                   interactive=False, scale=4, buttons=["copy"])
            self.present = gr.Button("Presentation view (P)", elem_id=f"{p}present", size="sm", scale=1)
            self.poster = gr.Button("Poster figure (PNG)", elem_id=f"{p}poster", size="sm", scale=1,
                                    visible=any(x.stem == POSTER_PRESET for x in self.ct.presets))
            self.race_gif = gr.Button("Race GIF", elem_id=f"{p}race-gif", size="sm", scale=1)
        self.link_notice = gr.Markdown("", elem_id=f"{p}link-notice")
        self.export = gr.File(label="Lecture exports", elem_id=f"{p}lecture-exports", interactive=False, visible=False)
        self.where = gr.Slider(0, 1, value=0.5, step=0.01, label=d.where_label or "cut", elem_id=f"{p}cut",
                               visible=bool(d.where_label))
        stacked = not d.where_label and self.ct.tab.panel_layout == "stack"  # wide pictures: one under the other
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                self.algorithm = gr.HTML(algorithm_html(None, "", note=IDLE_NOTE), elem_id=f"{p}algorithm",
                                         label="Algorithm 1 (INT)")
            with gr.Column(scale=3, min_width=420, elem_id=f"{p}step-view"):
                with (gr.Column() if stacked else gr.Row()):
                    self.step_error = self._picture("error", "step-error")
                    self.step_change = self._picture("change", "step-change")
                    self.step_predicted = self._picture("predicted", "step-predicted")
                self.step_text = gr.Markdown("", elem_id=f"{p}step-caption")
        with gr.Column(elem_id=f"{p}kernel-view"):
            gr.Markdown(f"**The kernel view:** {d.kernel_hint} to see K(x₀, ·): {KERNEL_CAPTION}.")
            with gr.Row():
                self.kernel_init = self._picture("kernel_init", "kernel-init")
                self.kernel_now = self._picture("kernel_now", "kernel-now")
            self.kernel_text = gr.Markdown("", elem_id=f"{p}kernel-caption")
        with gr.Accordion("How INT works / how to read this", open=False, elem_id=f"{p}how-int-works"):
            gr.Markdown(HOW_INT_WORKS)

    # ------------------------------------------------------------------------------------ wiring

    def wire(self) -> None:
        """Connect the widgets (called inside the app's Blocks, after the tab's own wiring)."""
        from gradio.context import Context

        ct = self.ct
        private = dict(api_visibility="private", concurrency_limit=None)
        step_outputs = [self.algorithm, self.step_error, self.step_change, self.step_predicted, self.step_text]
        self.step.click(self.take_step, [self.where], step_outputs, api_name=f"{self.p}step", concurrency_limit=None,
                        show_progress="hidden")
        kernel_outputs = [self.kernel_init, self.kernel_now, self.kernel_text]
        ct.live.view.select(self.kernel_clicked, [self.where], kernel_outputs, **private)  # a column's picture
        for name, picture in (("kernel", self.kernel_init), ("kernel", self.kernel_now), ("step", self.step_error),
                              ("step", self.step_change), ("step", self.step_predicted)):
            picture.select(self._on_picture(name), [self.where], kernel_outputs, **private)
        self.where.release(self.move_cut, [self.where], [*step_outputs[1:4], *kernel_outputs], **private)
        settings = {ct.chosen, *ct.settings.values()}
        self.copy_link.click(self.make_link, settings, [self.link], **private).then(
            None, [self.link], [self.link], js=COPY_JS)
        self.present.click(None, js="() => { document.body.classList.toggle('int-presenting'); }")
        self.poster.click(self.make_poster_figure, [ct.settings["size"]], [self.export], concurrency_limit=1,
                          api_name=f"{self.p}poster")
        self.race_gif.click(self.make_race_gif, None, [self.export], **private)
        Context.root_block.load(self.open_link, None, [ct.picture, ct.chosen, ct.notice, self.link_notice,
                                                       ct.tabs, *ct.settings.values()], **private)

    # ------------------------------------------------------------------------------------ the race's hook

    def prepare(self, session: Session, spec: JobSpec) -> None:
        """Before a race starts: a fresh lecture state for this page, listening to its snapshots."""
        state = LectureState(spec, self.drawing)
        session.lecture = state
        spec.listeners.append(state)

    def forget(self, session: Session | None) -> None:
        """The page reset its race: drop the lecture state (its weights, its recording) with it."""
        if session is not None:
            session.lecture = None

    def _current(self, request: gr.Request) -> tuple[Session | None, Job | None, LectureState | None]:
        ct = self.ct
        session = ct.table.get(ct.table.key(request.session_hash, ct.tab.modality))
        if session is None or session.job is None:
            return session, None, None
        return session, session.job, session.lecture

    # ------------------------------------------------------------------------------------ step mode

    def take_step(self, where: float, request: gr.Request) -> Any:
        session, job, state = self._current(request)
        if job is None or state is None:
            gr.Warning("Start a race first, then pause it (Space) and Step (→).")
            return [gr.skip()] * 5
        if job.state != "paused":
            gr.Warning("Step works while the race is paused: press Pause (Space) first."
                       if not job.finished else "This race has ended: start a new one to step through it.")
            return [gr.skip()] * 5
        with state.stepping:  # quick repeated presses: each waits for the one before, then takes its own step
            return self._step_and_explain(job, state, where)

    def _step_and_explain(self, job: Job, state: LectureState, where: float) -> Any:
        if job.state != "paused":
            gr.Warning("The race is no longer paused: press Pause (Space) to step again.")
            return [gr.skip()] * 5
        if not _wait(job.settled, STEP_WAIT_SECONDS):
            gr.Warning("The pause has not reached the training yet (a busy machine): try Step again.")
            return [gr.skip()] * 5
        before = {m: s.step for m, s in job.snapshot_view()[0].items()}
        with state.changed:
            target = state.stepped + len(job.methods)
        if not job.step() or not state.wait_for_steps(target, STEP_WAIT_SECONDS):
            gr.Warning("The step did not complete (the race ended or the machine is very busy).")
            return [gr.skip()] * 5
        after = {m: s.step for m, s in job.snapshot_view()[0].items()}
        out = self.explain(job, state, where)
        moved = ", ".join(f"{m} {before.get(m, 0)} → {after.get(m, 0)}" for m in job.methods)
        out[-1] = f"{out[-1]}  \nSteps: {moved}."
        return out

    def explain(self, job: Job, state: LectureState, where: float = 0.5) -> list[Any]:
        method = job.tracked
        snap = state.latest_stepped.get(method)
        pair = state.step_pair(method)
        if snap is None or pair is None:
            note = f"Stepped every column by one; {method}'s weights before the step were not kept."
            return [algorithm_html(None, "", note=note), None, None, None, ""]
        before, after, t = pair
        signal, config = job.spec.signal, job.config
        selected = None if snap.selected is None else torch.from_numpy(snap.selected)
        modality = get_modality(signal.modality)
        epsilon = None
        target = job.spec.target
        if target is not None and modality.metric == "psnr":
            epsilon = epsilon_for_psnr(target, signal.n, signal.out_features, modality.data_range)
        lr = config.lr
        lr *= lr_factor(config.lr_schedule, snap.progress, config.lr_min_factor)  # the trainer's rule, at that step
        expl = explain_step(state.model, before, after, signal, selected, t=t,
                            T=None if config.seconds else config.steps, ratio=snap.ratio, lr=lr,
                            epsilon=epsilon, loss=snap.loss)
        state.explained = expl
        pics = self.drawing(signal, where).step_pictures(expl)
        state.shown["step"] = pics["error"].shape[:2]
        s = expl.state
        unit = self.drawing.unit
        rest = "" if math.isnan(s.mean_error_rest) else f", against {s.mean_error_rest:.4g} on the other N − k"
        note = (f"{method}, step t = {t} → {t + 1}: the teacher picked k = {s.k:,} {unit}s (mean error "
                f"{s.mean_error_selected:.4g}{rest}); the learner took one Adam step on them. "
                f"Next: the while check with ‖error‖₂ = {s.error_norm:.4g}.")
        caption = f"**{method}, step {t} → {t + 1}.** " + step_caption(expl.effect.cosine, expl.effect.relative_error,
                                                                       s.k, s.n, unit)
        return [algorithm_html(s, "learner", note=note), pics["error"], pics["change"], pics["predicted"], caption]

    # ------------------------------------------------------------------------------------ the kernel view

    def kernel_clicked(self, where: float, evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on a column's picture in the race view (`evt.value`: the column, `evt.index`: (x, y)
        in the picture's own pixels)."""
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) != 2:
            return [gr.skip()] * 3
        _, job, _ = self._current(request)
        shape = (1, 1) if job is None else self.drawing(job.spec.signal, where).race_picture_shape()
        return self.kernel_at(int(evt.value), tuple(evt.index), shape, "race", where, request)

    def _on_picture(self, name: str) -> Any:
        def clicked(where: float, evt: gr.SelectData, request: gr.Request) -> Any:
            return self.lecture_clicked(name, where, evt, request)
        return clicked

    def lecture_clicked(self, name: str, where: float, evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on lecture mode's own picture `name`: a new x₀ for the column the kernel view shows
        (INT's, when none was clicked yet)."""
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) != 2:
            return [gr.skip()] * 3
        _, job, state = self._current(request)
        if job is None or state is None or name not in state.shown:
            return [gr.skip()] * 3
        column = state.last_click[0] if state.last_click else job.methods.index(job.tracked)
        return self.kernel_at(column, tuple(evt.index), state.shown[name], "lecture", where, request)

    def kernel_at(self, column: int, index: tuple[int, int], shape: tuple[int, int], source: str, where: float,
                  request: gr.Request) -> Any:
        """K(x₀, ·) for the clicked point x₀, at the column's latest weights and at the initial ones."""
        session, job, state = self._current(request)
        if job is None or state is None:
            gr.Warning("Start a race first: the kernel view shows the network of a column you click.")
            return [gr.skip()] * 3
        if column >= len(job.methods):
            return [gr.skip()] * 3
        method = job.methods[column]
        found = state.weights_at(method)
        if found is None:
            gr.Warning(f"{method} has no evaluated weights yet: wait for its first step.")
            return [gr.skip()] * 3
        step, weights = found
        signal = job.spec.signal
        drawing = self.drawing(signal, where)
        x0 = drawing.point_at(index, shape, source)
        located = x0 is not None
        if x0 is None:
            x0 = drawing.default_point()
        state.last_click = (column, index, shape, source)
        points = drawing.kernel_points(x0)
        device = next(iter(weights.values())).device
        coords = signal.coords.to(device)
        over = coords if points is None else coords[torch.from_numpy(np.asarray(points)).to(device)]
        now = kernel_row(state.model, weights, coords[x0], over)
        init = kernel_row(state.model, {k: v.to(device) for k, v in state.initial.items()}, coords[x0], over)
        at = x0 if points is None else int(np.flatnonzero(np.asarray(points) == x0)[0])
        text = (f"**{method}, {drawing.describe_point(x0)}.** "
                + kernel_caption(float(now[at]), float(init[at]), step, drawing.kernel_legend))
        if not located:
            text += f"  \n({drawing.kernel_hint[0].upper()}{drawing.kernel_hint[1:]}.)"
        pictures = [drawing.kernel_picture(init.cpu().numpy(), x0), drawing.kernel_picture(now.cpu().numpy(), x0)]
        state.shown["kernel"] = pictures[0].shape[:2]
        return [*pictures, text]

    def move_cut(self, where: float, request: gr.Request) -> Any:
        """The cut moved: redraw the step pictures and the kernel view through the new cut."""
        _, job, state = self._current(request)
        if job is None or state is None:
            return [gr.skip()] * 6
        pics = [gr.skip()] * 3
        if state.explained is not None:
            drawn = self.drawing(job.spec.signal, where).step_pictures(state.explained)
            pics = [drawn["error"], drawn["change"], drawn["predicted"]]
            state.shown["step"] = drawn["error"].shape[:2]
        kernel = [gr.skip()] * 3
        if state.last_click is not None:
            column, index, shape, source = state.last_click
            kernel = self.kernel_at(column, index, shape, source, where, request)
        return [*pics, *kernel]

    # ------------------------------------------------------------------------------------ links

    def link_settings(self, values: dict[Any, Any]) -> dict[str, Any]:
        """The tab's widget values -> the link's settings (the library's names)."""
        ct, s = self.ct, self.ct.settings
        v = {name: values[widget] for name, widget in s.items()}
        chosen = values[ct.chosen]
        out: dict[str, Any] = {"tab": ct.tab.modality}
        stems = {str(p): p.stem for p in ct.presets}
        if chosen in stems:
            out["preset"] = stems[chosen]
        out["samplers"] = [v[f"sampler_{i}"] for i in range(1, 5) if v.get(f"sampler_{i}") not in (None, "none")]
        out.update(ratio=v["ratio"], seed=v["seed"], lr=v["lr"], width=v["width"], hidden_layers=v["depth"],
                   first_w0=v["w0"], eval_every=v["eval_every"])
        if v["schedule"] != "default":
            out["schedule"] = v["schedule"]
        if v["interval"] != "default":
            out["interval"] = v["interval"]
        out["budget"] = v["budget"]
        out[v["budget"]] = v["amount"]
        if ct.tab.size_option and v["size"] is not None:
            out[ct.tab.size_option] = v["size"]
        if v["target"]:
            out["target"] = v["target"]
        return {k: (int(x) if isinstance(x, float) and x.is_integer() and k in INTEGER_KEYS else x)
                for k, x in out.items()}

    def make_link(self, values: dict[Any, Any]) -> Any:
        settings = self.link_settings(values)
        chosen = values[self.ct.chosen]
        if "preset" not in settings and chosen:
            gr.Warning(NO_UPLOAD_IN_LINKS)
        return encode(settings)

    def widget_defaults(self) -> dict[str, Any]:
        """The settings a page opens with, by link name (what an invalid link value falls back to)."""
        ct = self.ct
        first = ct.first.stem if ct.first else None
        page = {ct.chosen: str(ct.first) if ct.first else None,
                **{w: w.value for w in ct.settings.values()}}
        return {**self.link_settings(page), "preset": first, "steps": ct.defaults.steps,
                "seconds": ct.tab.default_budget(ct.device.type)}

    def open_link(self, request: gr.Request) -> Any:
        """Page load: apply the URL's query string to this tab's settings (nothing without one)."""
        ct, s = self.ct, self.ct.settings
        params = dict(request.query_params) if request is not None else {}
        params.pop("__theme", None)
        if not params:
            return {ct.notice: gr.skip()}
        defaults = self.widget_defaults()
        tab = params.get("tab")
        if tab not in LINK_TABS and ct.tab.modality != LINK_TABS[0]:
            return {ct.notice: gr.skip()}  # no tab or a bad one: the first tab reads the link and says so
        got = decode(params, {**defaults, "tab": LINK_TABS[0] if tab not in LINK_TABS else defaults["tab"]},
                     [p.stem for p in ct.presets])
        v = got.settings
        out: dict[Any, Any] = {}
        if v.get("tab") == ct.tab.modality:
            for notice in got.notices:
                gr.Warning(notice)
        if v.get("tab") != ct.tab.modality:  # the link's tab restores it (one tab per link)
            return {ct.notice: gr.skip()}
        out[ct.tabs] = gr.Tabs(selected=ct.tab.modality)
        samplers = list(v["samplers"]) + ["none"] * (4 - len(v["samplers"]))
        for i, name in enumerate(samplers, start=1):
            out[s[f"sampler_{i}"]] = name
        budget = v.get("budget", defaults["budget"])
        out.update({s["ratio"]: v["ratio"], s["seed"]: v["seed"], s["lr"]: v["lr"], s["width"]: v["width"],
                    s["depth"]: v["hidden_layers"], s["w0"]: v["first_w0"], s["eval_every"]: v["eval_every"],
                    s["schedule"]: v.get("schedule", "default"), s["interval"]: str(_interval_text(v.get("interval"))),
                    s["budget"]: budget, s["amount"]: v[budget], s["target"]: v.get("target") or 0})
        size = v.get(ct.tab.size_option) if ct.tab.size_option else None
        if ct.tab.size_option:
            out[s["size"]] = size
        preset = next((p for p in ct.presets if p.stem == v.get("preset")), None)
        if preset is not None:
            session = ct.table.session(ct.table.key(request.session_hash, ct.tab.modality))
            signal = ct.checked(session, preset, size)
            if signal is not None:
                out[ct.picture] = ct.tab.picture_value(preset, signal, session.folder / "previews")
                out[ct.chosen] = str(preset)
                out[ct.notice] = ct.describe(signal)
        out[self.link_notice] = "Settings restored from the link." + "".join(f"  \n⚠️ {n}" for n in got.notices)
        return out

    # ------------------------------------------------------------------------------------ exports

    def make_race_gif(self, request: gr.Request) -> Any:
        session, job, state = self._current(request)
        if state is None or not state.recorder.frames:
            gr.Warning("Nothing recorded yet: start a race first.")
            return gr.skip()
        path = state.recorder.write(session.folder / "exports" / f"race-{job.id}.gif")
        return gr.File(value=str(path), visible=True)

    def make_poster_figure(self, size: float | None, request: gr.Request) -> Any:
        ct = self.ct
        preset = next((p for p in ct.presets if p.stem == POSTER_PRESET), None)
        if preset is None:
            gr.Warning(f"The poster needs the {POSTER_PRESET} preset, which is missing.")
            return gr.skip()
        session = ct.table.session(ct.table.key(request.session_hash, ct.tab.modality))
        signal = ct.checked(session, preset, size)
        if signal is None:
            return gr.skip()
        gr.Info("Training the poster's four columns (full batch, random, INT, progressive INT; 200 steps each): "
                "the PNG appears under the buttons when they are done.")
        d = ct.defaults
        setup = PosterSetup(model=d.model, lr=d.lr, device=str(ct.device))
        path = make_poster(signal, session.folder / "exports" / f"poster-{signal.name}.png", setup)
        return gr.File(value=str(path), visible=True)


def _wait(condition: Any, timeout: float) -> bool:
    """Poll `condition()` every 50 ms until it holds (True) or `timeout` seconds pass (False)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


INTEGER_KEYS = {"seed", "steps", "width", "hidden_layers", "eval_every", "max_side", "grid"}


def _interval_text(value: Any) -> str:
    """A decoded interval -> the dropdown's text (a whole number N is "every-N")."""
    if value is None:
        return "default"
    return f"every-{value}" if isinstance(value, int) else str(value)
