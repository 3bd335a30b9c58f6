"""What each tab offers: only the samplers that apply to its modality, and each notice once."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("gradio")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from demo.ui.app import build_app

    built = build_app(device="cpu", max_jobs=1, workdir=tmp_path_factory.mktemp("sessions"))
    yield built
    built.session_table.shutdown()


def test_column_pickers_offer_only_samplers_that_apply(app):
    from intcore.samplers import SAMPLERS

    for modality, tab in app.race_tabs.items():
        for column in tab.controls.columns:
            choices = {value for _, value in column["sampler"].choices}
            assert choices - {"none"} == {n for n in SAMPLERS.names() if SAMPLERS[n].applies_to(modality)}
    assert "edge" in {v for _, v in app.race_tabs["image"].controls.columns[0]["sampler"].choices}
    assert "edge" not in {v for _, v in app.race_tabs["audio"].controls.columns[0]["sampler"].choices}


def test_a_stereo_clip_says_it_was_mixed_down_once(app, tmp_path):
    from intcore.modalities import load_signal

    t = np.linspace(0, 1, 8000, endpoint=False)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)], axis=1) * 0.5, 8000)
    tab = app.race_tabs["audio"].tab
    notices = tab.notices(load_signal(path, "audio", max_seconds=1.0))
    assert sum("mono" in n or "mixed" in n for n in notices) == 1, notices
