"""Lecture mode's widgets on every tab and their handlers: `LecturePanel`.

Step mode (the Step button beside Start; Algorithm 1 live and the step's pictures in the side panel's
"Step & kernel" tab), the kernel view (a click on a column's picture) and the exports for slides (race
GIF, poster figure). What differs per modality (the pictures, what a click points at) comes from the
tab's lecture drawing (demo.lecture.base); the mathematics is in intcore.teach; per page,
demo.lecture.state.LectureState listens to the race. The panel knows its tab only through `Page`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import gradio as gr
import numpy as np
import torch

from intcore.lr_schedules import lr_factor
from intcore.modalities import get_modality
from intcore.signals import Signal
from intcore.teach import epsilon_for_psnr, explain_step, kernel_row

from ..lecture.algorithm import algorithm_html
from ..lecture.base import LectureDrawing
from ..lecture.poster import PosterSetup, make_poster
from ..lecture.state import LectureState
from ..lecture.text import HOW_INT_WORKS, KERNEL_CAPTION, kernel_caption, step_caption
from ..server.race import Race
from ..server.sessions import Session
from ..server.writes import as_sentence, attempt
from ..tabs import ModalityTab


class Page(Protocol):
    """What lecture mode needs from the tab it is part of (demo.ui.race_tab.RaceTab)."""

    tab: ModalityTab
    side_tabs: gr.Tabs
    """the side panel's tabs: a step or a kernel click shows its "step" tab"""
    view: gr.HTML
    """the race view, whose `select` event is a click on a column's picture"""
    size_control: Any
    """the working-size control (the poster is made at that size)"""

    def current(self, request: gr.Request) -> Session | None: ...

    def session_for(self, request: gr.Request) -> Session: ...

    def preset_signal(self, stem: str, size: Any, session: Session) -> Signal | None:
        """The preset of that file stem loaded at `size` (None, after a warning, when it cannot be)."""

    def poster_setup(self) -> PosterSetup:
        """The poster's race on this page's device with its default model and learning rate."""


STEP_WAIT_SECONDS = 120.0
"""how long a Step click waits for every column's step (a loaded 2-core machine can be slow)"""
POSTER_PRESET = "camera"
IDLE_NOTE = "Pause the race (Space), then Step (→): every column takes exactly one training step."


class LecturePanel:
    """The lecture widgets of one tab and their handlers."""

    def __init__(self, page: Page) -> None:
        self.page = page
        drawing = page.tab.lecture_drawing
        assert drawing is not None
        self.drawing: type[LectureDrawing] = drawing
        self.p = page.tab.prefix

    # ------------------------------------------------------------------------------------ layout

    def step_button(self) -> gr.Button:
        """The Step button (placed in the race's row of buttons)."""
        self.step = gr.Button("Step →", elem_id=f"{self.p}step", min_width=80, scale=0, elem_classes=["nowrap"])
        return self.step

    def _picture(self, name: str, elem: str) -> gr.Image:
        return gr.Image(
            label=self.drawing.labels[name],
            type="numpy",
            interactive=False,
            format="png",
            buttons=[],
            elem_id=f"{self.p}{elem}",
            elem_classes=["lecture-picture"],
            min_width=90,
        )

    def step_layout(self) -> None:
        """The side panel's "Step & kernel" tab: Algorithm 1, the step's pictures, the kernel view."""
        p, d = self.p, self.drawing
        self.where = gr.Slider(
            0, 1, value=0.5, step=0.01, label=d.where_label or "cut", elem_id=f"{p}cut", visible=bool(d.where_label)
        )
        pictures = gr.Column if d.wide else gr.Row  # a clip's wide pictures one under another
        with gr.Column(elem_id=f"{p}step-view", elem_classes=["step-view"]):
            with pictures(elem_classes=["lecture-row"]):
                self.step_error = self._picture("error", "step-error")
                self.step_change = self._picture("change", "step-change")
                self.step_predicted = self._picture("predicted", "step-predicted")
            self.step_text = gr.Markdown("", elem_id=f"{p}step-caption")
        with gr.Column(elem_id=f"{p}kernel-view", elem_classes=["kernel-view"]):
            gr.Markdown(f"**The kernel view:** {d.kernel_hint} to see K(x₀, ·): {KERNEL_CAPTION}.")
            with pictures(elem_classes=["lecture-row"]):
                self.kernel_init = self._picture("kernel_init", "kernel-init")
                self.kernel_now = self._picture("kernel_now", "kernel-now")
            self.kernel_text = gr.Markdown("", elem_id=f"{p}kernel-caption")
        self.algorithm = gr.HTML(
            algorithm_html(None, "", note=IDLE_NOTE), elem_id=f"{p}algorithm", elem_classes=["algorithm"]
        )
        with gr.Accordion("How INT works / how to read this", open=False, elem_id=f"{p}how-int-works"):
            gr.Markdown(HOW_INT_WORKS)

    def exports_layout(self, poster: bool) -> None:
        """The exports for slides (in the side panel's "Link & files" tab): a GIF of the race, the poster."""
        p = self.p
        with gr.Row():
            self.race_gif = gr.Button("Race GIF", elem_id=f"{p}race-gif", size="sm")
            self.poster = gr.Button("Poster figure (PNG)", elem_id=f"{p}poster", size="sm", visible=poster)
        self.export = gr.File(label="Lecture exports", elem_id=f"{p}lecture-exports", interactive=False, visible=False)

    # ------------------------------------------------------------------------------------ wiring

    def wire(self) -> None:
        """Connect the widgets (called inside the app's Blocks, after the tab's own wiring)."""
        page = self.page
        private: dict[str, Any] = dict(api_visibility="private", concurrency_limit=None)
        step_outputs = [
            self.algorithm,
            self.step_error,
            self.step_change,
            self.step_predicted,
            self.step_text,
            page.side_tabs,
        ]
        self.step.click(
            self.take_step,
            [self.where],
            step_outputs,
            api_name=f"{self.p}step",
            concurrency_limit=None,
            show_progress="hidden",
        )
        kernel_outputs = [self.kernel_init, self.kernel_now, self.kernel_text, page.side_tabs]
        page.view.select(self.kernel_clicked, [self.where], kernel_outputs, **private)  # a column's picture
        for name, picture in (
            ("kernel", self.kernel_init),
            ("kernel", self.kernel_now),
            ("step", self.step_error),
            ("step", self.step_change),
            ("step", self.step_predicted),
        ):
            picture.select(self._on_picture(name), [self.where], kernel_outputs, **private)
        self.where.release(self.move_cut, [self.where], [*step_outputs[1:4], *kernel_outputs[:3]], **private)
        # the poster endpoint takes the working size as `size` (the tab's own setting: max_side, ...)
        self.poster.click(
            self.make_poster_figure,
            None,
            [self.export],
            concurrency_limit=1,
            api_name=f"{self.p}poster",
            inputs_kwargs={"size": page.size_control},
        )
        self.race_gif.click(self.make_race_gif, None, [self.export], **private)

    # ------------------------------------------------------------------------------------ the race's hook

    def prepare(self, session: Session, race: Race) -> None:
        """Before a race starts: a fresh lecture state for this page, listening to its snapshots."""
        state = LectureState(race.run, race.signal, self.drawing)
        session.lecture = state
        race.listeners.append(state)

    def forget(self, session: Session | None) -> None:
        """The page reset its race: drop the lecture state (its weights, its recording) with it."""
        if session is not None:
            session.lecture = None

    def _current(self, request: gr.Request) -> tuple[Session | None, Race | None, LectureState | None]:
        session = self.page.current(request)
        if session is None or session.race is None:
            return session, None, None
        return session, session.race, session.lecture

    # ------------------------------------------------------------------------------------ step mode

    def take_step(self, where: float, request: gr.Request) -> Any:
        session, race, state = self._current(request)
        if race is None or state is None:
            gr.Warning("Start a race first, then pause it (Space) and Step (→).")
            return self.no_step()
        if race.state != "paused":
            gr.Warning(
                "Step works while the race is paused: press Pause (Space) first."
                if not race.finished
                else "This race has ended: start a new one to step through it."
            )
            return self.no_step()
        with state.stepping:  # quick repeated presses: each waits for the one before, then takes its own step
            out = self._step_and_explain(race, state, where)
        return self.no_step() if out is None else [*out, gr.Tabs(selected="step")]

    def _step_and_explain(self, race: Race, state: LectureState, where: float) -> list[Any] | None:
        if race.state != "paused":
            gr.Warning("The race is no longer paused: press Pause (Space) to step again.")
            return None
        if not _wait(race.settled, STEP_WAIT_SECONDS):
            gr.Warning("The pause has not reached the training yet (a busy machine): try Step again.")
            return None
        before = {m: s.step for m, s in race.snapshot_view()[0].items()}
        with state.changed:
            target = state.stepped + len(race.methods)
        if not race.step() or not state.wait_for_steps(target, STEP_WAIT_SECONDS):
            gr.Warning("The step did not complete (the race ended or the machine is very busy).")
            return None
        after = {m: s.step for m, s in race.snapshot_view()[0].items()}
        out = self.explain(race, state, where)
        moved = ", ".join(f"{m} {before.get(m, 0)} → {after.get(m, 0)}" for m in race.methods)
        out[4] = f"{out[4]}  \nSteps: {moved}."
        return out

    def explain(self, race: Race, state: LectureState, where: float = 0.5) -> list[Any]:
        method = race.tracked
        snap = state.latest_stepped.get(method)
        pair = state.step_pair(method)
        if snap is None or pair is None:
            note = f"Stepped every column by one; {method}'s weights before the step were not kept."
            return [algorithm_html(None, "", note=note), None, None, None, ""]
        before, after, t = pair
        signal, config = race.signal, race.config
        selected = None if snap.selected is None else torch.from_numpy(snap.selected)
        modality = get_modality(signal.modality)
        epsilon = None
        target = race.run.target
        if target is not None and modality.metric == "psnr":
            epsilon = epsilon_for_psnr(target, signal.n, signal.out_features, modality.data_range)
        lr = config.lr
        lr *= lr_factor(config.lr_schedule, snap.progress, config.lr_min_factor)  # the trainer's rule, at that step
        expl = explain_step(
            state.model,
            before,
            after,
            signal,
            selected,
            t=t,
            T=None if config.seconds else config.steps,
            ratio=snap.ratio,
            lr=lr,
            epsilon=epsilon,
            loss=snap.loss,
        )
        state.explained = expl
        pics = self.drawing(signal, where).step_pictures(expl)
        state.shown["step"] = pics["error"].shape[:2]
        s = expl.state
        unit = self.drawing.unit
        rest = "" if math.isnan(s.mean_error_rest) else f", against {s.mean_error_rest:.4g} on the other N − k"
        note = (
            f"{method}, step t = {t} → {t + 1}: the teacher picked k = {s.k:,} {unit}s (mean error "
            f"{s.mean_error_selected:.4g}{rest}); the learner took one Adam step on them. "
            f"Next: the while check with ‖error‖₂ = {s.error_norm:.4g}: "
            + ("the loop goes on." if s.keeps_going else "the loop ends here (t reached T, or the error fell below ε).")
        )
        caption = f"**{method}, step {t} → {t + 1}.** " + step_caption(
            expl.effect.cosine, expl.effect.relative_error, s.k, s.n, unit
        )
        return [algorithm_html(s, "learner", note=note), pics["error"], pics["change"], pics["predicted"], caption]

    def no_step(self) -> list[Any]:
        return [gr.skip()] * 6

    # ------------------------------------------------------------------------------------ the kernel view

    def kernel_clicked(self, where: float, evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on a column's picture in the race view (`evt.value`: the column, `evt.index`: (x, y)
        in the picture's own pixels)."""
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) != 2:
            return [gr.skip()] * 4
        _, race, _ = self._current(request)
        shape = (1, 1) if race is None else self.drawing(race.signal, where).race_picture_shape()
        return self.kernel_at(int(evt.value), tuple(evt.index), shape, "race", where, request)

    def _on_picture(self, name: str) -> Any:
        def clicked(where: float, evt: gr.SelectData, request: gr.Request) -> Any:
            return self.lecture_clicked(name, where, evt, request)

        return clicked

    def lecture_clicked(self, name: str, where: float, evt: gr.SelectData, request: gr.Request) -> Any:
        """A click on lecture mode's own picture `name`: a new x₀ for the column the kernel view shows
        (INT's, when none was clicked yet)."""
        if not isinstance(evt.index, (list, tuple)) or len(evt.index) != 2:
            return [gr.skip()] * 4
        _, race, state = self._current(request)
        if race is None or state is None or name not in state.shown:
            return [gr.skip()] * 4
        column = state.last_click[0] if state.last_click else race.methods.index(race.tracked)
        return self.kernel_at(column, tuple(evt.index), state.shown[name], "lecture", where, request)

    def kernel_at(
        self,
        column: int,
        index: tuple[int, int],
        shape: tuple[int, int],
        source: str,
        where: float,
        request: gr.Request,
    ) -> Any:
        """K(x₀, ·) for the clicked point x₀, at the column's latest weights and at the initial ones."""
        session, race, state = self._current(request)
        if race is None or state is None:
            gr.Warning("Start a race first: the kernel view shows the network of a column you click.")
            return [gr.skip()] * 4
        if column >= len(race.methods):
            return [gr.skip()] * 4
        method = race.methods[column]
        found = state.weights_at(method)
        if found is None:
            gr.Warning(f"{method} has no evaluated weights yet: wait for its first step.")
            return [gr.skip()] * 4
        step, weights = found
        signal = race.signal
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
        text = f"**{method}, {drawing.describe_point(x0)}.** " + kernel_caption(
            float(now[at]), float(init[at]), step, drawing.kernel_legend
        )
        if not located:
            text += f"  \n({drawing.kernel_hint[0].upper()}{drawing.kernel_hint[1:]}.)"
        pictures = [drawing.kernel_picture(init.cpu().numpy(), x0), drawing.kernel_picture(now.cpu().numpy(), x0)]
        state.shown["kernel"] = pictures[0].shape[:2]
        return [*pictures, text, gr.Tabs(selected="step")]

    def move_cut(self, where: float, request: gr.Request) -> Any:
        """The cut moved: redraw the step pictures and the kernel view through the new cut."""
        _, race, state = self._current(request)
        if race is None or state is None:
            return [gr.skip()] * 6
        pics: list[Any] = [gr.skip()] * 3
        if state.explained is not None:
            drawn = self.drawing(race.signal, where).step_pictures(state.explained)
            pics = [drawn["error"], drawn["change"], drawn["predicted"]]
            state.shown["step"] = drawn["error"].shape[:2]
        kernel: list[Any] = [gr.skip()] * 3
        if state.last_click is not None:
            column, index, shape, source = state.last_click
            kernel = self.kernel_at(column, index, shape, source, where, request)[:3]
        return [*pics, *kernel]

    # ------------------------------------------------------------------------------------ exports

    def make_race_gif(self, request: gr.Request) -> Any:
        session, race, state = self._current(request)
        if session is None or race is None or state is None or not state.recorder.frames:
            gr.Warning("Nothing recorded yet: start a race first.")
            return gr.skip()
        out = session.folder / "exports" / f"race-{race.id}.gif"
        return self._export("the race's GIF", out, lambda: state.recorder.write(out))

    def make_poster_figure(self, request: gr.Request, size: Any = None) -> Any:
        session = self.page.session_for(request)
        signal = self.page.preset_signal(POSTER_PRESET, size, session)
        if signal is None:
            return gr.skip()
        setup = self.page.poster_setup()
        gr.Info(
            f"Training the poster's {len(setup.columns)} columns (full batch, random, INT, progressive INT; "
            f"{setup.steps} steps each): the PNG appears under the buttons when they are done."
        )
        out = session.folder / "exports" / f"poster-{signal.name}.png"
        return self._export("the poster", out, lambda: make_poster(signal, out, setup))

    @staticmethod
    def _export(what: str, out: Path, write: Callable[[], Path]) -> Any:
        """The file `write()` makes, for download; a failed write (a full disk) leaves no partial file and
        says so in one sentence."""
        path, problem = attempt(what, write)
        if problem is None:
            return gr.File(value=str(path), visible=True)
        out.unlink(missing_ok=True)
        gr.Warning(as_sentence(problem))
        return gr.skip()


def _wait(condition: Any, timeout: float) -> bool:
    """Poll `condition()` every 50 ms until it holds (True) or `timeout` seconds pass (False)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True
