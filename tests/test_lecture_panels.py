"""Lecture mode's pictures and panels: Algorithm 1's lines and values, step and kernel pictures."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from demo.lecture.algorithm import LINE_NAMES, algorithm_html
from demo.lecture.image import kernel_picture, pixel_at, signed_map, step_pictures
from intcore.teach import StepEffect, StepExplanation, algorithm_state


def _state(**kw):
    errors = torch.tensor([0.5, 0.1, 0.4, 0.05])
    args = dict(t=12, T=300, ratio=0.5, lr=5e-4, epsilon=0.1, loss=0.02)
    args.update(kw)
    return algorithm_state(errors, torch.tensor([0, 2]), **args)


@pytest.mark.parametrize("line", LINE_NAMES)
def test_the_panel_highlights_exactly_the_current_line(line):
    page = algorithm_html(_state(), line)
    assert page.count(" current") == 1 and f'current" data-line="{line}"' in page


def test_the_panel_shows_the_live_values():
    page = algorithm_html(_state(), "while", note="Paused at step 12 <b>")
    assert "12 (T = 300)" in page and "2 of N = 4" in page and "50%" in page
    assert "0.45" in page and "0.075" in page  # mean error of the selected vs the rest
    assert "≥ ε = 0.1" in page  # ‖error‖₂ = 0.65 is still above ε
    assert "&lt;b&gt;" in page  # a note is text, not markup
    assert "&lt; ε" not in algorithm_html(_state(epsilon=None), "while")
    assert "&lt; ε = 1" in algorithm_html(_state(epsilon=1.0), "end")
    with pytest.raises(ValueError):
        algorithm_html(None, "nonsense")


def test_step_pictures_share_one_scale_and_light_the_selected_pixels():
    h, w = 8, 10
    actual = torch.zeros(h * w, 3)
    actual[5] = 1.0
    predicted = actual * 0.5
    effect = StepEffect(actual=actual, predicted=predicted, cosine=1.0, relative_error=0.5)
    errors = torch.linspace(0, 1, h * w)
    selected = torch.arange(h * w - 10, h * w)  # the 10 largest errors
    expl = StepExplanation(errors=errors, selected=selected, effect=effect, state=algorithm_state(errors, selected, t=0, T=1, ratio=0.1, lr=1.0))
    pics = step_pictures(expl, (h, w))
    assert {k: v.shape for k, v in pics.items()} == {k: (8 * 25, 10 * 25, 3) for k in ("error", "change", "predicted")}
    # the change at pixel 5 is red in both, the predicted one paler (same scale, half the value)
    f = 25
    big, half = pics["change"][0, 5 * f], pics["predicted"][0, 5 * f]
    assert big[0] > big[2] and half[0] > half[2] and half.sum() > big.sum()
    # a selected pixel is brighter than an unselected neighbour of nearly the same error
    sel_px, other_px = pics["error"][7 * f, 9 * f], pics["error"][7 * f, 0]
    assert sel_px.sum() > other_px.sum()


def test_signed_map_is_white_at_zero_red_up_blue_down():
    rgb = signed_map(np.array([[0.0, 1.0, -1.0]]), 1.0)
    assert tuple(rgb[0, 0]) == (247, 247, 247)
    assert rgb[0, 1, 0] > rgb[0, 1, 2] and rgb[0, 2, 2] > rgb[0, 2, 0]


def test_kernel_picture_and_clicks_map_to_the_same_pixel():
    h, w = 16, 32
    row = torch.zeros(h * w)
    x0 = pixel_at((20 * 8 + 3, 5 * 8 + 2), (h * 8, w * 8), (h, w))  # click inside pixel (5, 20) of an 8× picture
    assert x0 == 5 * w + 20
    row[x0] = 4.0
    pic = kernel_picture(row, (h, w), x0)
    f = pic.shape[0] // h
    assert tuple(pic[5 * f + f // 2, 20 * f + f // 2]) != (247, 247, 247)  # x₀ is coloured
    assert tuple(pic[0, 0]) == (247, 247, 247)  # K = 0 elsewhere is white
