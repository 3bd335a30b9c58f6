"""Lecture mode on the audio and shape tabs: their step and kernel pictures, what a click points at,
the race GIF's pictures, links that name those tabs, and the lecture state letting go of its weights."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from demo.lecture.audio import AXIS_H, DOWN, MARK, PLOT_H, UP, WIDTH, AudioLecture, signed_plot
from demo.lecture.shape import OUTLINE, ShapeLecture
from demo.lecture.state import LectureState
from demo.server.race import Race
from demo.server.sessions import SessionTable
from demo.server.settings import decode
from demo.tabs import TABS
from demo.tabs.base import ASSETS
from intcore import ModelConfig
from intcore.modalities import load_audio, load_signal
from intcore.spec import RunSpec, SamplerSpec, SignalSpec
from intcore.teach import StepEffect, StepExplanation, algorithm_state
from intcore.trainer import TrainConfig

RATE = 8000


@pytest.fixture(scope="module")
def clip():
    t = np.arange(RATE) / RATE  # one second
    return load_audio(0.6 * np.sin(2 * np.pi * 220 * t).astype(np.float32), sample_rate=RATE)


@pytest.fixture(scope="module")
def blob():
    return load_signal(ASSETS / "shapes" / "blob.ply", "shape", grid=16)


def _explanation(n: int, selected: np.ndarray, actual: np.ndarray, predicted: np.ndarray) -> StepExplanation:
    errors = torch.linspace(0, 1, n)
    sel = torch.from_numpy(selected)
    effect = StepEffect(actual=torch.from_numpy(actual).float()[:, None], predicted=torch.from_numpy(predicted).float()[:, None],
                        cosine=1.0, relative_error=0.5)
    return StepExplanation(errors=errors, selected=sel, effect=effect,
                           state=algorithm_state(errors, sel, t=0, T=1, ratio=len(selected) / n, lr=1.0))


def test_every_tab_names_its_lecture_drawing():
    assert {name: TABS[name].lecture_drawing.__name__ for name in TABS} == {
        "image": "ImageLecture", "audio": "AudioLecture", "shape": "ShapeLecture"}


# ------------------------------------------------------------------------------------ audio


def test_audio_clicks_map_x_to_time_on_race_and_lecture_pictures(clip):
    d = AudioLecture(clip)
    assert d.race_picture_shape() == (200, 640)
    assert d.point_at((0, 50), (200, 640), "race") == 0
    assert d.point_at((320, 50), (200, 640), "race") == RATE // 2
    assert d.point_at((639, 0), (200, 640), "race") == RATE * 639 // 640
    assert d.point_at((160, 10), (PLOT_H + AXIS_H, WIDTH), "lecture") == RATE // 4
    kernel_h = d.kernel_picture(np.ones(RATE), 10).shape[0]
    assert d.point_at((160, kernel_h - 5), (kernel_h, WIDTH), "lecture") is None  # the zoom strip: no time
    assert "0.2500 s" in d.describe_point(RATE // 4)


def test_audio_step_pictures_show_where_along_time_the_step_acted_on_one_scale(clip):
    n = RATE
    t = np.arange(n)
    actual = np.where(t < n // 2, np.sin(2 * np.pi * 440 * t / RATE), 0.0)  # an oscillating change, first half only
    selected = np.arange(n // 4)  # the step trained on the first quarter only
    pics = AudioLecture(clip).step_pictures(_explanation(n, selected, actual, 0.5 * actual))
    change, predicted, error = pics["change"], pics["predicted"], pics["error"]
    assert change.shape == predicted.shape == (PLOT_H + AXIS_H, WIDTH, 3)
    filled = lambda pic: (pic[:PLOT_H] != 250).any(axis=2).sum(axis=0)  # noqa: E731  (drawn px per column)
    # the size of the change, not its oscillation: one smooth block over the first half, nothing after
    first, second = filled(change)[5: WIDTH // 2 - 5], filled(change)[WIDTH // 2 + 5:]
    assert first.min() > 0.8 * PLOT_H and second.max() == 0 and first.std() < 0.05 * first.mean()
    # same scale: the prediction (half the change) is half as tall
    assert abs(np.median(filled(predicted)[5: WIDTH // 2 - 5]) - 0.5 * np.median(first)) <= 3
    assert tuple(change[PLOT_H - 3, 100]) == UP and tuple(predicted[PLOT_H - 3, 100]) == DOWN
    # the error plot is orange only over the first quarter, where the selected samples lie
    orange = (error[:PLOT_H, :, 0] > 200) & (error[:PLOT_H, :, 2] < 80)
    lit = np.flatnonzero(orange.any(axis=0))
    assert lit.min() < 20 and lit.max() < WIDTH // 4 + 2


def test_audio_kernel_picture_marks_t0_and_zooms_around_it(clip):
    d = AudioLecture(clip)
    x0 = RATE // 2
    row = np.zeros(RATE)
    row[x0] = 3.0
    row[x0 + 5] = -3.0
    pic = d.kernel_picture(row, x0)
    assert pic.shape[1] == WIDTH
    x = int((x0 + 0.5) * WIDTH / RATE)
    assert tuple(pic[2, x]) == MARK  # the tick over t₀ in the whole-clip plot
    assert tuple(pic[PLOT_H // 2 - 20, x]) == UP  # K(t₀, t₀) fills up to the top
    a, b = d.zoom_window(x0)
    assert a < x0 < b and b - a < RATE // 10
    zoom = pic[-60:]
    assert (np.all(zoom == MARK, axis=2)).any()  # t₀ marked in the zoom strip too


def test_signed_plot_is_blank_for_nothing():
    assert np.all(signed_plot(np.zeros(100), 1.0)[:10] == signed_plot(np.zeros(100), 1.0)[0, 0])


# ------------------------------------------------------------------------------------ shape


def test_a_shape_cut_maps_pixels_to_grid_points_through_the_depth_it_shows(blob):
    r = blob.shape[0]
    d = ShapeLecture(blob, where=0.0)
    coords = blob.coords.numpy()
    up, depth = d.up, d.depth_axis
    assert {0, up, depth} == {0, 1, 2}
    top_left = coords[d.indices[0, 0]]
    assert top_left[0] == pytest.approx(-1) and top_left[up] == pytest.approx(1) and top_left[depth] == pytest.approx(-1)
    bottom_right = coords[d.indices[r - 1, r - 1]]
    assert bottom_right[0] == pytest.approx(1) and bottom_right[up] == pytest.approx(-1)
    assert ShapeLecture(blob, where=1.0).indices[0, 0] != d.indices[0, 0]
    f = d.factor
    side = r * f
    assert d.point_at((3 * f + 1, 5 * f + 1), (side, side), "lecture") == d.indices[5, 3]
    assert d.point_at((10, 10), (200, 200), "race") is None  # a rendering locates no grid point
    assert d.default_point() == d.indices[r // 2, r // 2]


def test_shape_pictures_show_the_cut_with_the_true_outline(blob):
    d = ShapeLecture(blob)
    n = blob.n
    actual = np.zeros(n)
    actual[d.indices[2, 3]] = 1.0
    pics = d.step_pictures(_explanation(n, d.indices[:4].reshape(-1), actual, actual))
    f, r = d.factor, d.r
    assert {k: v.shape for k, v in pics.items()} == {k: (r * f, r * f, 3) for k in ("error", "change", "predicted")}
    c = pics["change"][2 * f + f // 2, 3 * f + f // 2]
    assert c[0] > c[2]  # Δf > 0: red
    if d.inside.any() and not d.inside.all():
        assert np.all(pics["change"] == OUTLINE, axis=2).any()  # the surface's outline is drawn
    row = np.zeros(r * r)
    x0 = int(d.indices[7, 8])
    row[7 * r + 8] = 2.0
    kernel = d.kernel_picture(row, x0)
    assert np.all(kernel == np.array([0, 200, 0]), axis=2).any()  # x₀ marked
    assert "cross-section" in d.describe_point(x0) and len(d.kernel_points(x0)) == r * r


# ------------------------------------------------------------------------------------ links


@pytest.mark.parametrize("query,tab,key,value", [
    ("tab=audio&preset=chirp&max_seconds=0.5&steps=40", "audio", "max_seconds", 0.5),
    ("tab=shape&preset=blob&grid=24&seconds=9", "shape", "grid", 24),
])
def test_links_name_the_audio_and_shape_tabs_and_their_working_sizes(query, tab, key, value):
    back = decode(query, {"tab": "image"}, ["chirp", "melody", "blob", "mug"])
    assert back.notices == [] and back.settings["tab"] == tab and back.settings[key] == value


# ------------------------------------------------------------------------------------ weights after a race


def test_the_lecture_state_lets_go_of_its_device_weights_when_the_race_ends(clip, tmp_path):
    run = RunSpec(signal=SignalSpec(modality="audio"), model=ModelConfig(width=8, hidden_layers=1, first_w0=300.0),
                  train=TrainConfig(steps=12, eval_every=3, lr=5e-4, device="cpu"),
                  samplers=[SamplerSpec("int"), SamplerSpec("full")])
    spec = Race(run, clip)
    state = LectureState(run, clip, TABS["audio"].lecture_drawing)
    spec.listeners.append(state)
    assert state.drawing is AudioLecture
    table = SessionTable(max_jobs=1, root=tmp_path)
    table.attach_page("page")
    try:
        job = table.submit(table.key("page", "audio"), spec)
        assert job.wait(120)
        # after the race: one set per column (the last; it kept two while racing), and the initial
        # weights, all in host memory
        assert {m: [s for s, _ in kept] for m, kept in state.weights.items()} == {"int": [12], "full": [12]}
        assert state.device.type == "cpu" and state.held_on("cpu") == 3 * len(state.initial)
        assert state.recorder.frames >= 1
    finally:
        table.shutdown()


def test_two_threads_explaining_steps_on_one_model_get_what_each_alone_gets(clip):
    """Two Step clicks (or a kernel click during a step's explanation) use the lecture state's one model
    at once; functional_call swaps weights into it, so unserialised they computed with each other's."""
    import threading

    from intcore.models import build_model
    from intcore.teach import explain_step, kernel_row, parameters_of

    config = ModelConfig(width=64, hidden_layers=2, first_w0=300.0)
    model = build_model(config, 1, 1, 0)
    weights = [parameters_of(model)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(clip.coords), clip.values).backward()
        opt.step()
        weights.append(parameters_of(model))
    shared = build_model(config, 1, 1, 0)

    def explain(i: int) -> float:
        return explain_step(shared, weights[i], weights[i + 1], clip, None, t=i, T=None, ratio=1.0, lr=1e-3).effect.cosine

    alone = explain(0)
    seen: list[float] = []

    def first() -> None:
        seen.extend(explain(0) for _ in range(4))

    def second() -> None:
        for _ in range(4):
            explain(1)
            kernel_row(shared, weights[2], clip.coords[5], clip.coords)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == pytest.approx([alone] * 4, abs=1e-9)
