"""Exported figures: the poster PNG from a real race, the race GIF from recorded snapshots."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from demo.lecture.image import image_picture
from demo.lecture.poster import PosterSetup, make_poster
from demo.lecture.recorder import RaceRecorder
from intcore import ModelConfig, load_image
from intcore.trainer import Snapshot


def test_the_poster_is_one_png_with_every_column_and_the_strip(rgb_png, tmp_path):
    signal = load_image(rgb_png)
    seen = []
    setup = PosterSetup(steps=20, iterations=(10, 20), model=ModelConfig(width=16, hidden_layers=2))
    out = make_poster(signal, tmp_path / "poster.png", setup, on_progress=lambda s: seen.append((s.method, s.step)))
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[1] > 5 * 48 and img.shape[0] > 2 * 32  # five panels wide, two rows high
    assert {m for m, _ in seen} == {"full", "random", "int", "int-progressive"}
    assert sorted(s for m, s in seen if m == "int") == [10, 20]
    # the strip shows INT's picks in yellow
    yellow = (img[..., 0] > 240) & (img[..., 1] > 200) & (img[..., 2] < 30)
    assert yellow.sum() > 100


def test_the_poster_takes_two_to_four_known_columns_and_iterations_within_the_budget():
    with pytest.raises(ValueError):
        PosterSetup(columns=("int",))
    with pytest.raises(ValueError):
        PosterSetup(columns=("int", "nonsense"))
    with pytest.raises(ValueError):
        PosterSetup(steps=50, iterations=(10, 100))
    PosterSetup(columns=("full", "int"))


def _snap(method, step, seconds, quality, value=0.5, done=False):
    return Snapshot(method=method, step=step, train_seconds=seconds, loss=0.0, quality=quality, best_quality=quality,
                    metric="psnr", ratio=1.0, progress=0.0, done=done, reconstruction=np.full((8, 8), value, np.float32))


def test_the_race_gif_keeps_one_frame_per_round_within_a_bound(tmp_path):
    rec = RaceRecorder(["int", "full"], ["#e4572e", "#2e86ab"], image_picture, max_frames=10)
    for r in range(1, 26):
        before = rec.frames
        rec.add(_snap("int", 10 * r, 0.1 * r, 20 + r))
        assert rec.frames == before  # a round is complete only once every column moved
        rec.add(_snap("full", 10 * r, 0.2 * r, 20 + r / 2, done=r == 25))
    assert 5 <= rec.frames <= 10
    out = rec.write(tmp_path / "race.gif")
    with Image.open(out) as gif:
        assert gif.n_frames == rec.frames
        assert gif.size[0] >= 2 * 160


def test_an_empty_recorder_says_so(tmp_path):
    with pytest.raises(ValueError, match="nothing recorded"):
        RaceRecorder(["int", "full"], ["#000000", "#ffffff"], image_picture).write(tmp_path / "x.gif")
