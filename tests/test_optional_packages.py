"""An optional package of one tab only disables that tab: without libigl (the 3D tab's inside test) the
app starts, the image and audio tabs race, and the 3D tab says what to install."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from helpers import ROOT, need_gradio

need_gradio()

SCRIPT = textwrap.dedent("""
    import sys
    sys.modules["igl"] = None  # `import igl` now raises ImportError, as on a machine without libigl
    import gradio_client
    from demo.ui.app import build_app, launch_in_background

    app = build_app(device="cpu", max_jobs=1)
    print("TABS", sorted(app.race_tabs))
    notes = [b.value for b in app.blocks.values() if getattr(b, "elem_id", None) == "shape-missing"]
    print("NOTE", notes[0] if notes else None)
    url = launch_in_background(app)
    client = gradio_client.Client(url, verbose=False, download_files=False)
    small = dict(samplers="int,full", steps=5, width=8, hidden_layers=1, eval_every=5)
    status, _ = client.predict(picture=gradio_client.handle_file("assets/images/camera.png"), max_side=16, **small,
                               api_name="/compare")
    print("IMAGE", status["state"])
    status, _ = client.predict(picture=gradio_client.handle_file("assets/audio/melody.wav"), max_seconds=0.05,
                               **small, api_name="/audio-compare")
    print("AUDIO", status["state"])
    client.close()
    app.close()
    app.session_table.shutdown()
""")


def test_without_libigl_the_image_and_audio_tabs_work_and_the_3d_tab_says_what_to_install():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"})
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if line[:4] in ("TABS", "NOTE", "IMAG", "AUDI"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert lines["TABS"] == "['audio', 'image']"
    assert "pip install libigl" in lines["NOTE"]
    assert lines["IMAGE"] == "done" and lines["AUDIO"] == "done"
