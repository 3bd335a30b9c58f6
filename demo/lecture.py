"""Lecture mode on the image tab: step mode, the kernel view, Algorithm 1 live, links, exports, keys.

The mathematics is in intcore.teach and the pictures in demo.lecture_views; this module adds the widgets
under the race and wires them. Per page, `LectureState` (kept on the Session) listens to the race's
snapshots in the job's thread: it copies each column's weights at every snapshot (a few hundred kB, off
the training clock) so that a step can be explained and a kernel row computed at the weights the page
shows, and it records the race for the GIF export.
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import numpy as np
import torch

from intcore.models import build_model
from intcore.modalities import get_modality
from intcore.teach import Params, epsilon_for_psnr, explain_step, kernel_row, parameters_of
from intcore.trainer import Snapshot

from .lecture_algorithm import algorithm_html
from .lecture_gif import RaceRecorder
from .lecture_links import decode, encode
from .lecture_poster import PosterSetup, make_poster
from .lecture_text import HOW_INT_WORKS, NO_UPLOAD_IN_LINKS, kernel_caption, step_caption
from .lecture_views import kernel_picture, pixel_at, step_pictures
from .session import Job, JobSpec, Session
from .views import COLUMN_COLORS

if TYPE_CHECKING:
    from .app import ComparisonTab

STEP_WAIT_SECONDS = 120.0
"""how long a Step click waits for every column's step (a loaded 2-core machine can be slow)"""
POSTER_PRESET = "camera"
IDLE_NOTE = "Pause the race (Space), then Step (→): every column takes exactly one training step."

KEYS_JS = r"""
if (!window.intStudioKeys) {
  window.intStudioKeys = {racing: false};
  const state = window.intStudioKeys;
  const press = (id) => { const b = document.getElementById(id); if (b) b.click(); return !!b; };
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('button');
    if (!b) return;
    if (b.id === 'start') state.racing = true;
    if (b.id === 'reset' || b.id === 'stop') state.racing = false;
  }, true);
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) return;
    const start = document.getElementById('start');
    if (!start || start.offsetParent === null) return;  // only while the image tab is shown
    if (e.code === 'Space') {
      e.preventDefault();
      const status = document.getElementById('status-text');
      const ended = status && /^(Done|Stopped|Error)/.test(status.innerText.trim());  // a finished race: start anew
      press(state.racing && !ended ? 'pause' : 'start');
    }
    else if (e.key === 'ArrowRight') { e.preventDefault(); press('step'); }
    else if (e.key === 'r' || e.key === 'R') { press('reset'); }
    else if (e.key === 'p' || e.key === 'P') { document.body.classList.toggle('int-presenting'); }
    else if (e.key === 'Escape') { document.body.classList.remove('int-presenting'); }
  });
}
"""

PRESENTING_CSS = """
<style>
body.int-presenting #inputs-col, body.int-presenting #table, body.int-presenting #downloads,
body.int-presenting #prepare, body.int-presenting #lecture-tools, body.int-presenting #link-notice,
body.int-presenting .gradio-container > .main > .wrap > .contain > .column > .block.prose:first-child { display: none !important; }
body.int-presenting .gradio-container { font-size: 125%; max-width: 100% !important; }
body.int-presenting #status-text * { font-size: 1.25rem !important; line-height: 1.5 !important; }
body.int-presenting .column-head * { font-size: 1.2rem !important; }
#kernel-view img, #step-view img { image-rendering: pixelated; }
</style>
"""

COPY_JS = """(query) => {
  const url = location.origin + location.pathname + (query ? '?' + query : '');
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
  return url;
}"""


class LectureState:
    """One page's lecture memory for its latest race: each column's weights at its last two snapshots,
    how many step-mode snapshots arrived, and the race recording. Written by the job's thread."""

    def __init__(self, spec: JobSpec) -> None:
        self.weights: dict[str, list[tuple[int, Params]]] = {}
        self.stepped = 0
        self.latest_stepped: dict[str, Snapshot] = {}
        self.recorder = RaceRecorder(list(spec.samplers), COLUMN_COLORS)
        self.changed = threading.Condition()
        signal = spec.signal
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
    """The lecture widgets of one (image) tab and their handlers."""

    def __init__(self, ct: "ComparisonTab") -> None:
        self.ct = ct

    # ------------------------------------------------------------------------------------ layout

    def step_button(self) -> gr.Button:
        """The Step button (placed by the app in its row of race buttons)."""
        self.step = gr.Button("Step →", elem_id="step", scale=1, min_width=80)
        return self.step

    def layout(self) -> None:
        """Everything else, under the race."""
        gr.HTML("", html_template=PRESENTING_CSS, js_on_load=KEYS_JS, elem_id="lecture-keys", padding=False)
        with gr.Row(elem_id="lecture-tools"):
            self.copy_link = gr.Button("Copy link", elem_id="copy-link", size="sm", scale=1)
            self.link = gr.Textbox(label="Link to this setup (opening it restores the settings)", elem_id="link",
                                   interactive=False, scale=4, buttons=["copy"])
            self.present = gr.Button("Presentation view (P)", elem_id="present", size="sm", scale=1)
            self.poster = gr.Button("Poster figure (PNG)", elem_id="poster", size="sm", scale=1)
            self.race_gif = gr.Button("Race GIF", elem_id="race-gif", size="sm", scale=1)
        self.link_notice = gr.Markdown("", elem_id="link-notice")
        self.export = gr.File(label="Lecture exports", elem_id="lecture-exports", interactive=False, visible=False)
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                self.algorithm = gr.HTML(algorithm_html(None, "", note=IDLE_NOTE), elem_id="algorithm",
                                         label="Algorithm 1 (INT)")
            with gr.Column(scale=3, min_width=420, elem_id="step-view"):
                with gr.Row():
                    self.step_error = gr.Image(label="error before the step (bright: the k trained on)",
                                               type="numpy", interactive=False, format="png", buttons=[], elem_id="step-error")
                    self.step_change = gr.Image(label="Δf: what the step changed (red up, blue down)",
                                                type="numpy", interactive=False, format="png", buttons=[], elem_id="step-change")
                    self.step_predicted = gr.Image(label="J·Δθ: the kernel's prediction", type="numpy",
                                                   interactive=False, format="png", buttons=[], elem_id="step-predicted")
                self.step_text = gr.Markdown("", elem_id="step-caption")
        with gr.Column(elem_id="kernel-view"):
            gr.Markdown("**The kernel view:** click a pixel of any column's pictures to see K(x₀, ·), "
                        "one update at x₀ moves these points this much.")
            with gr.Row():
                self.kernel_init = gr.Image(label="K(x₀, ·) at the initial weights", type="numpy",
                                            interactive=False, format="png", buttons=[], elem_id="kernel-init")
                self.kernel_now = gr.Image(label="K(x₀, ·) at the current weights", type="numpy",
                                           interactive=False, format="png", buttons=[], elem_id="kernel-now")
            self.kernel_text = gr.Markdown("", elem_id="kernel-caption")
        with gr.Accordion("How INT works / how to read this", open=False, elem_id="how-int-works"):
            gr.Markdown(HOW_INT_WORKS)

    # ------------------------------------------------------------------------------------ wiring

    def wire(self) -> None:
        """Connect the widgets (called inside the app's Blocks, after the tab's own wiring)."""
        from gradio.context import Context

        ct = self.ct
        private = dict(api_visibility="private", concurrency_limit=None)
        step_outputs = [self.algorithm, self.step_error, self.step_change, self.step_predicted, self.step_text]
        self.step.click(self.take_step, None, step_outputs, api_name="step", concurrency_limit=None,
                        show_progress="hidden")
        kernel_outputs = [self.kernel_init, self.kernel_now, self.kernel_text]
        ct.live.view.select(self.kernel_clicked, None, kernel_outputs, **private)  # a click on a column's picture
        settings = {ct.chosen, *ct.settings.values()}
        self.copy_link.click(self.make_link, settings, [self.link], **private).then(
            None, [self.link], [self.link], js=COPY_JS)
        self.present.click(None, js="() => { document.body.classList.toggle('int-presenting'); }")
        self.poster.click(self.make_poster_figure, [ct.settings["size"]], [self.export], concurrency_limit=1,
                          api_name="poster")
        self.race_gif.click(self.make_race_gif, None, [self.export], **private)
        Context.root_block.load(self.open_link, None, [ct.picture, ct.chosen, ct.notice, self.link_notice,
                                                       *ct.settings.values()], **private)

    # ------------------------------------------------------------------------------------ the race's hook

    def prepare(self, session: Session, spec: JobSpec) -> None:
        """Before a race starts: a fresh lecture state for this page, listening to its snapshots."""
        state = LectureState(spec)
        session.lecture = state
        spec.listeners.append(state)

    def _current(self, request: gr.Request) -> tuple[Session | None, Job | None, LectureState | None]:
        ct = self.ct
        session = ct.table.get(ct.table.key(request.session_hash, ct.tab.modality))
        if session is None or session.job is None:
            return session, None, None
        return session, session.job, session.lecture

    # ------------------------------------------------------------------------------------ step mode

    def take_step(self, request: gr.Request) -> Any:
        session, job, state = self._current(request)
        if job is None or state is None:
            gr.Warning("Start a race first, then pause it (Space) and Step (→).")
            return [gr.skip()] * 5
        if job.state != "paused":
            gr.Warning("Step works while the race is paused: press Pause (Space) first."
                       if not job.finished else "This race has ended: start a new one to step through it.")
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
        out = self.explain(job, state)
        moved = ", ".join(f"{m} {before.get(m, 0)} → {after.get(m, 0)}" for m in job.methods)
        out[-1] = f"{out[-1]}  \nSteps: {moved}."
        return out

    def explain(self, job: Job, state: LectureState) -> list[Any]:
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
        if config.lr_schedule == "cosine":  # the trainer's rule, at the step's progress through the budget
            lr *= config.lr_min_factor + (1 - config.lr_min_factor) * 0.5 * (1 + math.cos(math.pi * snap.progress))
        expl = explain_step(state.model, before, after, signal, selected, t=t,
                            T=None if config.seconds else config.steps, ratio=snap.ratio, lr=lr,
                            epsilon=epsilon, loss=snap.loss)
        pics = step_pictures(expl, signal.shape)
        s = expl.state
        rest = "" if math.isnan(s.mean_error_rest) else f", against {s.mean_error_rest:.4g} on the other N − k"
        note = (f"{method}, step t = {t} → {t + 1}: the teacher picked k = {s.k:,} pixels (mean error "
                f"{s.mean_error_selected:.4g}{rest}); the learner took one Adam step on them. "
                f"Next: the while check with ‖error‖₂ = {s.error_norm:.4g}.")
        caption = f"**{method}, step {t} → {t + 1}.** " + step_caption(expl.effect.cosine, expl.effect.relative_error,
                                                                       s.k, s.n)
        return [algorithm_html(s, "learner", note=note), pics["error"], pics["change"], pics["predicted"], caption]

    # ------------------------------------------------------------------------------------ the kernel view

    def kernel_clicked(self, evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on a column's picture (the race view says which column in `evt.value`)."""
        return self.kernel_at(int(evt.value), evt, request)

    def kernel_at(self, column: int, evt: gr.SelectData, request: gr.Request) -> Any:
        """K(x₀, ·) for the clicked pixel x₀, at the column's latest weights and at the initial ones."""
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
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) != 2:
            return [gr.skip()] * 3
        x0 = pixel_at(evt.index, signal.shape, signal.shape)
        coords = signal.coords.to(state.device)
        now = kernel_row(state.model, weights, coords[x0], coords)
        init = kernel_row(state.model, state.initial, coords[x0], coords)
        r, c = divmod(x0, signal.shape[1])
        text = f"**{method}, pixel (row {r}, column {c}).** " + kernel_caption(float(now[x0]), float(init[x0]), step)
        return [kernel_picture(init, signal.shape, x0), kernel_picture(now, signal.shape, x0), text]

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
        got = decode(params, defaults, [p.stem for p in ct.presets])
        for notice in got.notices:
            gr.Warning(notice)
        v = got.settings
        out: dict[Any, Any] = {}
        if v.get("tab") not in (None, ct.tab.modality):
            gr.Warning(f"This link is for the {v['tab']} tab; lecture links restore the image tab only.")
            return {ct.notice: gr.skip()}
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
