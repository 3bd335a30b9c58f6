"""The Gradio app: layout and event wiring only.

Learning lives in intcore, threads and jobs in demo.session, drawing in demo.views. `build_app()` makes
the Blocks without launching them (tests import it); `python -m demo` launches them.

Each comparison tab is built by `comparison_tab(modality, ...)`; only the few modality-specific pieces
(presets, picture widget, per-column panels, loader options) come from `TABS[modality]`, so the audio
and 3D-shape tabs (issue 4) are one more entry there plus their canvas in `demo.views.VIEWS`.
"""
from __future__ import annotations

import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import gradio as gr
import numpy as np
import torch

from intcore.defaults import defaults_for
from intcore.device import resolve_device
from intcore.modalities import get_modality, load_signal
from intcore.presets import assets_dir
from intcore.samplers import RATIO_SCHEDULES, SAMPLERS, make_sampler, sampler_options
from intcore.signals import SignalError
from intcore.trainer import TrainConfig

from . import views_audio, views_shape
from .media import KEEP, Media
from .results import write_results
from .session import REFRESH_SECONDS, Job, JobSpec, Session, SessionTable
from .views import (
    COLUMN_COLORS,
    OVERLAY_MODES,
    X_AXES,
    canvas_for,
    race_figure,
    table_headers,
    table_rows,
)

ASSETS = assets_dir()
MAX_UPLOAD_MB = 25
"""uploads above this are refused with a message (a hard limit at twice this stops them at the door)"""
COLUMNS = 3
DEFAULT_COLUMNS = ("int", "full", "random")
CSS = """
.live-panel img { image-rendering: pixelated; width: 100% !important; height: 100% !important; object-fit: contain; }
#status-text { min-height: 3.2em; }
#downloads .empty { min-height: 4em !important; height: 4em !important; }
.column-head p { margin: 0 !important; }
"""


# ---------------------------------------------------------------- what differs between tabs


@dataclass(frozen=True)
class TabKind:
    """The modality-specific pieces of a comparison tab."""

    modality: str
    title: str
    preset_dir: Path
    upload_types: list[str]
    make_picture: Callable[[str, str | None], gr.components.Component]
    """(elem_id prefix, first preset) -> the input widget that shows the chosen signal (value: a file path)"""
    make_panels: Callable[[str, int], list[gr.components.Component]]
    """one column's output widgets, in the order of the canvas's `panels`"""
    size_option: str = ""
    """the loader option that sets the working size (images max_side, audio max_seconds, shapes grid)"""
    size_label: str = ""
    size_fallback: float | None = None
    """the setting's value where the device default is None (no limit)"""
    size_type: Callable[[float], Any] = float
    describe: Callable[[Any], str] = str
    """a loaded signal -> one line for the notice under the picture"""
    extensions: tuple[str, ...] = field(default=())
    first_preset: str = ""
    """the preset chosen when the page opens (else the first in name order)"""
    thumbnail: Callable[[Path, Path], str] = lambda path, folder: str(path)
    """(preset, folder for generated pictures) -> the picture the presets gallery shows for it"""

    def load_options(self, size: float | None) -> dict[str, Any]:
        """The working-size setting -> keyword options for the modality's loader (0 or empty: no limit)."""
        return {self.size_option: self.size_type(size) if size else None} if self.size_option else {}

    def presets(self) -> list[Path]:
        exts = self.extensions or get_modality(self.modality).extensions
        return sorted(p for p in self.preset_dir.glob("*") if p.suffix.lower() in exts)


def _image_picture(prefix: str, value: str | None) -> gr.Image:
    return gr.Image(value, label="Picture to fit", type="filepath", image_mode=None, format="png", interactive=False,
                    height=230, elem_id=f"{prefix}picture", buttons=["fullscreen"])


def _image_panels(prefix: str, column: int) -> list[gr.components.Component]:
    common = dict(type="filepath", format="png", interactive=False, height=230, elem_classes=["live-panel"],
                  buttons=["fullscreen"])
    return [
        gr.Image(label="overlay on the target", elem_id=f"{prefix}overlay-{column}", **common),
        gr.Image(label="reconstruction", elem_id=f"{prefix}recon-{column}", **common),
    ]


def _describe_image(signal: Any) -> str:
    h, w = signal.shape
    meta = signal.metadata
    text = f"Working size **{w}×{h}** px ({'grey' if meta.get('channels') == 1 else 'RGB'})"
    if meta.get("downscaled"):
        oh, ow = meta["original_size"]
        text += f", downscaled from {ow}×{oh} to keep each step fast on this device (setting *max side*)"
    return text + "."


def _audio_picture(prefix: str, value: str | None) -> gr.Audio:
    return gr.Audio(value, label="Clip to fit (the original)", type="filepath", interactive=False,
                    elem_id=f"{prefix}picture")


def _audio_panels(prefix: str, column: int) -> list[gr.components.Component]:
    common = dict(type="filepath", format="png", interactive=False, height=120, buttons=["fullscreen"])
    return [
        gr.Image(label="waveform: samples trained on (or error)", elem_id=f"{prefix}overlay-{column}", **common),
        gr.Image(label="reconstruction over the target", elem_id=f"{prefix}recon-{column}", **common),
        gr.Audio(label="reconstruction", type="filepath", interactive=False, elem_id=f"{prefix}player-{column}"),
    ]


def _describe_audio(signal: Any) -> str:
    meta = signal.metadata
    mix = f", mono mix of {meta['channels']} channels" if meta["channels"] > 1 else ""
    return (f"Working clip **{meta['seconds']:.2f} s** at {meta['sample_rate']:,} Hz ({signal.n:,} samples{mix}); "
            f"peak {meta['peak']:.2f} of full scale, restored in the players.")


def _shape_picture(prefix: str, value: str | None) -> gr.Model3D:
    return gr.Model3D(value, label="Mesh to fit", interactive=False, height=230, elem_id=f"{prefix}picture")


def _shape_panels(prefix: str, column: int) -> list[gr.components.Component]:
    return [
        gr.Plot(label="points trained on this step", show_label=False, elem_id=f"{prefix}overlay-{column}"),
        gr.Model3D(label="reconstruction (marching cubes)", interactive=False, height=230,
                   elem_id=f"{prefix}recon-{column}"),
    ]


def _describe_shape(signal: Any) -> str:
    meta = signal.metadata
    r = signal.shape[0]
    return (f"Occupancy on a **{r}³ grid** plus {meta['near_surface']:,} points near the surface; the mesh has "
            f"{meta['faces']:,} faces ({'watertight' if meta['watertight'] else 'open'}), "
            f"{meta['inside_fraction']:.0%} of the grid inside.")


TABS: dict[str, TabKind] = {
    "image": TabKind(
        modality="image",
        title="Image",
        preset_dir=ASSETS / "images",
        upload_types=["image"],
        make_picture=_image_picture,
        make_panels=_image_panels,
        size_option="max_side",
        size_label="max side (px, 0: full size)",
        size_fallback=768,  # on a GPU the Kodak size, so a phone photo does not become 12 M coordinates
        size_type=int,
        describe=_describe_image,
        first_preset="kodim23",
    ),
    "audio": TabKind(
        modality="audio",
        title="Audio",
        preset_dir=ASSETS / "audio",
        upload_types=list(get_modality("audio").extensions),
        make_picture=_audio_picture,
        make_panels=_audio_panels,
        size_option="max_seconds",
        size_label="max seconds (longer clips are trimmed; 0: the whole clip)",
        size_fallback=10.0,
        size_type=float,
        describe=_describe_audio,
        first_preset="melody",
        thumbnail=views_audio.thumbnail,
    ),
    "shape": TabKind(
        modality="shape",
        title="3D shape",
        preset_dir=ASSETS / "shapes",
        upload_types=list(get_modality("shape").extensions),
        make_picture=_shape_picture,
        make_panels=_shape_panels,
        size_option="grid",
        size_label="occupancy grid points per side",
        size_fallback=64,
        size_type=int,
        describe=_describe_shape,
        first_preset="mug",
        thumbnail=views_shape.thumbnail,
    ),
}


# ---------------------------------------------------------------- the app


def build_app(device: str = "auto", max_jobs: int = 2, workdir: Path | None = None) -> gr.Blocks:
    """The whole app, not launched. Its session table is `app.session_table` (tests look inside)."""
    dev = resolve_device(device)
    table = SessionTable(max_jobs=max_jobs, root=workdir)
    # Presets and the sessions' folders (uploads, live frames, downloads) are served as they are, never
    # copied into Gradio's cache; the session table deletes its files itself.
    gr.set_static_paths([ASSETS, table.root])
    with gr.Blocks(title="INT Studio", delete_cache=(120, 1800)) as app:
        gr.Markdown(
            "# INT Studio\n"
            "Watch **Implicit Neural Teaching** fit a signal: at every step INT trains the network only on the "
            "points where it is most wrong (Zhang et al., ICML 2024). Three samplers race from the same initial "
            "weights; each one's clock counts only its own training steps."
        )
        with gr.Tabs():
            for kind in TABS.values():
                with gr.Tab(kind.title, id=kind.modality):
                    comparison_tab(kind, table, dev, prefix="" if kind.modality == "image" else f"{kind.modality}-")

        def close_session(request: gr.Request) -> None:
            table.close_browser(request.session_hash)

        app.unload(close_session)
    app.session_table = table  # type: ignore[attr-defined]
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False,
           **kwargs: Any) -> Any:
    """Launch with the app's CSS and limits (Gradio 6 takes css/theme in launch())."""
    return app.queue(default_concurrency_limit=None).launch(
        server_name=host, server_port=port, share=share, css=CSS, show_error=True,
        max_file_size=f"{2 * MAX_UPLOAD_MB}mb", **kwargs,
    )


def launch_in_background(app: gr.Blocks, host: str = "127.0.0.1") -> str:
    """Launch on a free port of `host` without blocking (tests, benchmarks); returns the app's URL."""
    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    launch(app, host=host, port=port, prevent_thread_lock=True, quiet=True)
    return f"http://{host}:{port}/"


def comparison_tab(kind: TabKind, table: SessionTable, device: torch.device, prefix: str = "") -> None:
    """One live comparison: picture + settings on the left, three racing columns, chart and table."""
    modality = get_modality(kind.modality)
    d = defaults_for(kind.modality, device)
    presets = kind.presets()
    first = next((str(p) for p in presets if p.stem == kind.first_preset), str(presets[0]) if presets else None)
    metric = modality.metric.upper()

    with gr.Row(equal_height=False):
        # ---------------- left: what to fit, and how
        with gr.Column(scale=2, min_width=320):
            picture = kind.make_picture(prefix, first)  # a preset is chosen, so Start works at once
            size_default = d.load_options.get(kind.size_option) or kind.size_fallback
            notice = gr.Markdown(_describe_file(kind, first, size_default), elem_id=f"{prefix}notice")
            gallery = gr.Gallery(
                value=[(kind.thumbnail(p, table.root / "thumbs"), p.stem) for p in presets], label="Presets (click one)", columns=3, height=130,
                allow_preview=False, object_fit="cover", elem_id=f"{prefix}presets", interactive=False, buttons=[],
            )
            upload = gr.UploadButton(f"Upload your own ({MAX_UPLOAD_MB} MB max)", file_types=kind.upload_types,
                                     size="sm", elem_id=f"{prefix}upload")
            with gr.Accordion("Settings", open=False, elem_id=f"{prefix}settings"):
                names = SAMPLERS.names()
                column_pickers = [
                    gr.Dropdown(names, value=DEFAULT_COLUMNS[i], label=f"column {i + 1} sampler")
                    for i in range(COLUMNS)
                ]
                ratio = gr.Slider(0.05, 1.0, value=0.2, step=0.05, label="selection ratio (start ratio for schedules)")
                schedule = gr.Dropdown(["default", *RATIO_SCHEDULES], value="default",
                                       label="INT ratio schedule (default: the sampler's own)")
                interval = gr.Dropdown(["default", "dense", "incremental", "every-5", "every-10", "every-20"],
                                       value="default", allow_custom_value=True,
                                       label="INT re-selection interval (default: the sampler's own)")
                with gr.Row():
                    budget = gr.Radio(["steps", "seconds"], value="steps", label="budget per sampler", elem_id=f"{prefix}budget")
                    amount = gr.Number(d.steps, label="steps or seconds", minimum=1, elem_id=f"{prefix}amount")
                with gr.Row():
                    lr = gr.Number(d.lr, label="learning rate", minimum=0, elem_id=f"{prefix}lr")
                    seed = gr.Number(0, label="seed", precision=0, elem_id=f"{prefix}seed")
                with gr.Row():
                    width = gr.Number(d.model.width, label="network width", precision=0, minimum=1, elem_id=f"{prefix}width")
                    depth = gr.Number(d.model.hidden_layers, label="sine layers", precision=0, minimum=1,
                                      elem_id=f"{prefix}depth")
                    w0 = gr.Number(d.model.first_w0, label="first-layer w0", minimum=0, elem_id=f"{prefix}w0")
                with gr.Row():
                    eval_every = gr.Number(d.eval_every, label="evaluate every N steps", precision=0, minimum=1,
                                           elem_id=f"{prefix}eval-every")
                    size = gr.Number(size_default, label=kind.size_label,
                                     minimum=0, elem_id=f"{prefix}size", visible=bool(kind.size_option))
                target = gr.Number(0, label=f"target {metric} (0: the best both INT and full reached)")
                gr.Markdown(f"Defaults for **{device.type.upper()}**: {d.model.hidden_layers}×{d.model.width} SIREN, "
                            f"lr {d.lr:g}, {d.steps} steps.")

        # ---------------- right: the race
        with gr.Column(scale=5):
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id=f"{prefix}start", scale=2)
                pause = gr.Button("Pause", elem_id=f"{prefix}pause", scale=1)
                stop = gr.Button("Stop", variant="stop", elem_id=f"{prefix}stop", scale=1)
                reset = gr.Button("Reset", elem_id=f"{prefix}reset", scale=1)
            status_text = gr.Markdown("Press **Start** to race the three samplers.", elem_id=f"{prefix}status-text")
            with gr.Row():
                overlay = gr.Radio(list(OVERLAY_MODES), value=OVERLAY_MODES[0], label="overlay",
                                   elem_id=f"{prefix}overlay-mode")
                x_axis = gr.Radio(list(X_AXES), value=X_AXES[0], label="chart x axis", elem_id=f"{prefix}x-axis")
            heads, panels = [], []
            with gr.Row(equal_height=True):
                for i in range(COLUMNS):
                    with gr.Column(min_width=200):
                        heads.append(gr.Markdown(_column_head(i, DEFAULT_COLUMNS[i]), elem_classes=["column-head"],
                                                 elem_id=f"{prefix}head-{i + 1}"))
                        panels.extend(kind.make_panels(prefix, i + 1))
            plot = gr.Plot(label=f"{metric} race", show_label=False, elem_id=f"{prefix}psnr-plot")
            table_view = gr.Dataframe(headers=table_headers(modality.metric, modality.metric_unit),
                                      interactive=False, elem_id=f"{prefix}table", wrap=True)
            with gr.Row():
                recon_format = modality.file_extension.lstrip(".").upper()
                downloads = gr.File(label=f"Results: reconstructions ({recon_format}), curves (CSV), summary (JSON), "
                                          "INT selections (GIF)",
                                    file_count="multiple", interactive=False, elem_id=f"{prefix}downloads", scale=3,
                                    height=140)
                prepare = gr.Button("Prepare downloads now", size="sm", elem_id=f"{prefix}prepare", scale=1)
            with gr.Accordion("Status (JSON, as the API returns it)", open=False):
                status_json = gr.JSON(elem_id=f"{prefix}status")

    panels_per_column = len(panels) // COLUMNS
    live = [*heads, *panels, plot, table_view, status_text, status_json, downloads, pause]
    settings = [picture, *column_pickers, ratio, schedule, interval, budget, amount, lr, width, depth, w0, seed,
                eval_every, size, target]

    def key_of(request: gr.Request) -> str:
        return table.key(request.session_hash, kind.modality)

    # ---------------- choosing the signal

    def check(path: str | None, size: float | None) -> str:
        """Load the file as training would; its one-line description, or gr.Warning + None on bad input."""
        try:
            signal = load_signal(path, kind.modality, **kind.load_options(size))
        except (SignalError, ValueError) as exc:
            gr.Warning(f"Cannot use this file: {getattr(exc, 'problem', exc)}")
            return None
        notes = signal.metadata.get("notices", [])
        return kind.describe(signal) + "".join(f"  \n⚠️ {n}" for n in notes)

    def choose_preset(size: float | None, evt: gr.SelectData):
        path = str(presets[evt.index])
        return path, check(path, size) or ""

    def take_upload(file: str | None, size: float | None, request: gr.Request):
        """Validate an upload; keep a copy in the session's folder (static, so it outlives Gradio's cache)."""
        if not file:
            return gr.skip(), gr.skip()
        size_mb = Path(file).stat().st_size / 2**20
        name = Path(file).name
        if size_mb > MAX_UPLOAD_MB:
            gr.Warning(f"{name} is {size_mb:.0f} MB; the limit is {MAX_UPLOAD_MB} MB. Please pick a smaller file.")
            return gr.skip(), f"⚠️ {name} was refused: {size_mb:.0f} MB is over the {MAX_UPLOAD_MB} MB limit."
        described = check(file, size)
        if described is None:
            return gr.skip(), f"⚠️ {name} could not be read as {kind.modality}; the previous choice is kept."
        folder = table.session(key_of(request)).folder / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / name
        shutil.copyfile(file, kept)
        if "downscaled" in described:
            gr.Info(described.replace("**", ""))
        return str(kept), described

    def resize_notice(path: str | None, size: float | None):
        return (check(path, size) or gr.skip()) if path else gr.skip()

    gallery.select(choose_preset, [size], [picture, notice], api_visibility="private")
    size.change(resize_notice, [picture, size], notice, api_visibility="private", trigger_mode="always_last")
    upload.upload(take_upload, [upload, size], [picture, notice], api_name=f"{prefix}upload")

    # ---------------- the race

    def make_spec(picture, c1, c2, c3, ratio, schedule, interval, budget, amount, lr, width, depth, w0, seed,
                  eval_every, size, target) -> JobSpec:
        if not picture:
            raise gr.Error("Choose a preset or upload a file first.")
        names = [c1, c2, c3]
        if len(set(names)) != len(names):
            raise gr.Error(f"Pick three different samplers (got {', '.join(names)}).")
        given = {"ratio": ratio, "schedule": None if schedule == "default" else schedule,
                 "interval": None if interval == "default" else interval}
        try:
            signal = load_signal(picture, kind.modality, **kind.load_options(size))
            samplers = {
                n: make_sampler(n, **{k: v for k, v in given.items() if v is not None and k in sampler_options(n)})
                for n in names
            }
            model = d.model.replace(width=int(width), hidden_layers=int(depth), first_w0=float(w0))
            config = TrainConfig(
                steps=int(amount) if budget == "steps" else None,
                seconds=float(amount) if budget == "seconds" else None,
                lr=float(lr), eval_every=int(eval_every), seed=int(seed), device=str(device),
            )
        except (SignalError, ValueError, KeyError, TypeError) as exc:
            raise gr.Error(str(exc.args[0] if isinstance(exc, KeyError) else exc)) from None
        return JobSpec(signal=signal, samplers=samplers, model=model, config=config,
                       target=float(target) if target else None)

    def compare(picture, sampler_1, sampler_2, sampler_3, ratio, schedule, interval, budget, amount, lr, width,
                depth, w0, seed, eval_every, size, target, overlay, x_axis, request: gr.Request):
        """Race three samplers on a signal. Streams the live view until the run ends; the `status` output
        is JSON with, per sampler, step, train_seconds, psnr (or iou) and best_psnr. `size` is the working
        size (images: the longer side in px, 0 = full size); `target` 0 means the best both INT and full reached."""
        spec = make_spec(picture, sampler_1, sampler_2, sampler_3, ratio, schedule, interval, budget, amount, lr,
                         width, depth, w0, seed, eval_every, size, target)
        key = key_of(request)
        session = table.session(key)
        session.overlay, session.x_axis = overlay, x_axis
        job = table.submit(key, spec)
        yield from stream(session, job)

    def stream(session: Session, job: Job):
        canvas = canvas_for(job.spec.signal)
        drawn: dict[str, tuple] = {}
        seen: tuple | None = None
        first = True
        while session.job is job:  # a new Start or Reset in this session ends this stream silently
            finished = job.finished
            position = table.queue_position(job)
            now = (job.version, job.state, position, session.overlay, session.x_axis)
            if now != seen or finished:
                seen = now
                yield render(session, job, canvas, drawn, first, finished, position)
                first = False
            if finished:
                return
            time.sleep(REFRESH_SECONDS)

    def render(session: Session, job: Job, canvas, drawn: dict, first: bool, finished: bool,
               position: int | None) -> list[Any]:
        latest, _ = job.snapshot_view()
        status = job.status(position)
        colors = {m: COLUMN_COLORS[i] for i, m in enumerate(job.methods)}
        heads_out = [_column_head(i, m, job.results[m].description) if first else gr.skip()
                     for i, m in enumerate(job.methods)]
        panels_out: list[Any] = []
        for i, m in enumerate(job.methods):
            snap = latest.get(m)
            mark = (snap.step if snap else -1, session.overlay)
            if drawn.get(m) == mark and not first:
                panels_out.extend([gr.skip()] * panels_per_column)
                continue
            drawn[m] = mark
            for j, picture in enumerate(canvas.draw(snap, session.overlay)):
                panels_out.append(_panel_value(session, f"c{i + 1}p{j}", picture))
        figure = race_figure(job.results, colors, modality.metric, modality.metric_unit, job.target(),
                             session.x_axis, uirevision=f"{job.id}-{session.x_axis}")
        label = "Resume" if job.state == "paused" else "Pause"
        pause_out = gr.update(value=label) if first or drawn.get("pause") != label else gr.skip()
        drawn["pause"] = label
        files = write_results(job, session.folder / "results") if finished else gr.skip()
        return [*heads_out, *panels_out, figure, table_rows(status), _status_line(job, status, table.max_jobs),
                status, files, pause_out]

    # "multiple": pressing Start during a race starts a new one (the old stream sees it and ends).
    start.click(compare, [*settings, overlay, x_axis], live, api_name=f"{prefix}compare",
                concurrency_limit=None, show_progress="hidden", show_progress_on=[status_text],
                trigger_mode="multiple")

    # ---------------- controls (each acts on this session's job only)

    def toggle_pause(request: gr.Request):
        session = table.get(key_of(request))
        if session is None or session.job is None or session.job.finished:
            return gr.update(value="Pause")
        return gr.update(value="Resume" if session.job.toggle_pause() else "Pause")

    def stop_job(request: gr.Request) -> None:
        # No output of its own: the race's stream shows "Stopped" once the job has ended (an output here
        # could arrive after that and overwrite it).
        session = table.get(key_of(request))
        if session is not None and session.job is not None:
            session.job.stop()

    def reset_view(request: gr.Request):
        table.reset(key_of(request))
        blanks = [None] * len(panels)
        heads_out = [_column_head(i, DEFAULT_COLUMNS[i]) for i in range(COLUMNS)]
        return [*heads_out, *blanks, None, None, "Press **Start** to race the three samplers.", None, None,
                gr.update(value="Pause")]

    def change_view(overlay: str, x_axis: str, request: gr.Request):
        """Remember the view choices; the running stream picks them up, a finished run is redrawn now."""
        session = table.get(key_of(request))
        if session is None:
            return [gr.skip()] * len(live)
        session.overlay, session.x_axis = overlay, x_axis
        job = session.job
        if job is None or not job.finished:
            return [gr.skip()] * len(live)
        out = render(session, job, canvas_for(job.spec.signal), {}, False, False, None)
        return [gr.skip()] * COLUMNS + out[COLUMNS:-3] + [gr.skip()] * 3

    def prepare_downloads(request: gr.Request):
        session = table.get(key_of(request))
        if session is None or session.job is None:
            gr.Warning("Nothing to download yet: press Start first.")
            return None
        return write_results(session.job, session.folder / "results")

    pause.click(toggle_pause, None, pause, api_name=f"{prefix}pause", concurrency_limit=None)
    stop.click(stop_job, None, None, api_name=f"{prefix}stop", concurrency_limit=None)
    reset.click(reset_view, None, live, api_name=f"{prefix}reset", concurrency_limit=None)
    overlay.change(change_view, [overlay, x_axis], live, api_visibility="private", concurrency_limit=None)
    x_axis.change(change_view, [overlay, x_axis], live, api_visibility="private", concurrency_limit=None)
    prepare.click(prepare_downloads, None, downloads, api_name=f"{prefix}downloads", concurrency_limit=None)


def _describe_file(kind: TabKind, path: str | None, size: float | None) -> str:
    """The notice for a preset known to load (the page's first one)."""
    if not path:
        return "No presets found: upload a file."
    return kind.describe(load_signal(path, kind.modality, **kind.load_options(size)))


def _panel_value(session: Session, slot: str, value: Any) -> Any:
    """A canvas's panel value -> Gradio's: pictures and media files are written to the session's folder,
    KEEP leaves the panel as it is, figures and None go as they are."""
    if value is KEEP:
        return gr.skip()
    if isinstance(value, (np.ndarray, Media)):
        return session.frames.write(slot, value)
    return value


def _column_head(i: int, method: str, description: str | None = None) -> str:
    swatch = f"<span style='color:{COLUMN_COLORS[i]}'>■</span>"
    return f"{swatch} **{method}**" + (f" · {description}" if description else "")


def _status_line(job: Job, status: dict[str, Any], max_jobs: int) -> str:
    """One human sentence about the race: state, progress and (once known) INT's time saving."""
    state = status["state"]
    sig = status["signal"]
    where = f"{sig['name']} ({'×'.join(str(s) for s in reversed(sig['shape']))}) on {status['device']}"
    if state == "queued":
        pos = status["queue_position"]
        return f"**Queued**: number {pos} in line ({max_jobs} comparisons train at once) · {where}"
    if state == "error":
        return f"**Failed**: {status['error']}"
    icon = f"**{state.capitalize()}**"
    runs = status["samplers"]
    budget = status["budget"]
    total = f"/{budget['steps']}" if "steps" in budget else f" (budget {budget['seconds']:g} s each)"
    steps = ", ".join(f"{m} {r['step']}" for m, r in runs.items())
    line = f"{icon} · {where} · steps: {steps}{total}"
    target, unit, metric = status["target"], status["unit"], status["metric"]
    t_int, t_full = (runs.get(job.tracked) or {}).get("seconds_to_target"), (runs.get("full") or {}).get("seconds_to_target")
    if target is not None and t_int is not None and t_full is not None and job.tracked != "full":
        saving = runs[job.tracked]["time_saving_vs_full"]
        line += (f"  \n**{job.tracked}** reached {target:.2f} {unit} after **{t_int:.1f} s** of training, "
                 f"full batch after **{t_full:.1f} s**" + (f": **{saving:.0%} less time**." if saving is not None and saving > 0 else
                    f": {-saving:.0%} more time." if saving is not None else "."))
    elif target is not None and metric:
        line += f"  \ntarget {target:.2f} {unit}"
    return line
