"""The catalogue of bad and odd input: every file is made for real, fed to the loader and to the command
line (`python -m intcore fit`), and each either is refused with exit code 2 and one plain line on stderr
that names the file and the problem, or is fitted with a notice where the input is legal.

The same files go through the app in test_hostile_app.py. docs/hardening.md lists the catalogue.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
import numpy as np
import pytest

pytest.importorskip("soundfile")
pytest.importorskip("trimesh")
pytest.importorskip("igl")

import hostile_files as H  # noqa: E402
from hostile_files import CATALOGUE, LEAKS, Entry  # noqa: E402

from intcore.cli import main as cli_main  # noqa: E402
from intcore.modalities import load_signal  # noqa: E402
from intcore.signals import SignalError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

IDS = [e.id for e in CATALOGUE]


def test_catalogue_ids_are_unique():
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("entry", CATALOGUE, ids=IDS)
def test_loader(entry: Entry, tmp_path: Path):
    path = entry.make(tmp_path)
    if entry.refused:
        with pytest.raises(SignalError) as caught:
            load_signal(path, **entry.options)
        message = str(caught.value)
        assert path.name in message and entry.words in message
        assert "\n" not in message and not LEAKS.search(message.replace(str(path), "")), message
    else:
        signal = load_signal(path, **entry.options)
        notices = " ".join(signal.metadata["notices"])
        assert entry.words in notices
        assert not LEAKS.search(notices), notices
        assert signal.n > 0 and bool(signal.values.isfinite().all())


@pytest.mark.parametrize("entry", CATALOGUE, ids=IDS)
def test_cli(entry: Entry, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """`python -m intcore fit FILE`: exit 2 and one line on stderr, or a short fit with its notice."""
    path = entry.make(tmp_path)
    flags = {"max_side": "--max-side", "max_seconds": "--max-seconds", "grid": "--grid"}
    options = [x for k, v in entry.options.items() for x in (flags[k], str(v))]
    code = cli_main(["fit", str(path), "--steps", "2", "--eval-every", "1", "--device", "cpu", "--width", "8",
                     "--quiet", "--out", str(tmp_path / "out"), *options])
    err = capsys.readouterr().err
    if entry.refused:
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert path.name in lines[0] and entry.words in lines[0], lines[0]
        assert not LEAKS.search(lines[0].removeprefix("intcore: error: ").replace(str(path), "")), lines[0]
    else:
        assert code == 0, err
        assert entry.words in err
        assert not LEAKS.search(err.replace(str(path), "").replace(str(tmp_path), "")), err


# ---------------------------------------------------------------- what the accepted files turn into


def test_16_bit_png_keeps_its_depth(tmp_path):
    s = load_signal(H.png_16_bit(tmp_path))
    v = ((s.values[:, 0] + 1) / 2).reshape(32, 64)[0].numpy()
    assert v[0] == 0 and v[-1] == pytest.approx(1.0)
    assert len(np.unique(np.round(v * 65535))) == 64  # 64 distinct levels (8 bits would still be 64; see next)
    assert np.allclose(v, np.linspace(0, 1, 64), atol=1 / 65535)  # ...but only 16 bits land this close


def test_16_bit_png_downscaled_in_float(tmp_path):
    s = load_signal(H.png_16_bit(tmp_path), max_side=16)
    assert s.shape == (8, 16)
    v = (s.values[:, 0] + 1) / 2
    assert len(np.unique(v.numpy())) > 8 and float(v.min()) < 0.05 and float(v.max()) > 0.95


def test_cmyk_jpeg_has_the_right_colours(tmp_path):
    s = load_signal(H.cmyk_jpeg(tmp_path))
    rgb = ((s.values.reshape(24, 32, 3) + 1) / 2).numpy()
    assert np.allclose(rgb[12, 4], [0, 1, 1], atol=0.1)  # cyan
    assert np.allclose(rgb[12, 28], [1, 1, 0], atol=0.1)  # yellow


def test_animated_gif_gives_its_first_frame(tmp_path):
    s = load_signal(H.animated_gif(tmp_path))
    assert s.shape == (16, 20) and bool((s.values > 0.9).all())  # the first frame is white


def test_exif_rotated_jpeg_is_upright(tmp_path):
    s = load_signal(H.exif_rotated_jpeg(tmp_path))
    assert s.shape == (40, 20)  # portrait, as the phone showed it
    rgb = ((s.values.reshape(40, 20, 3) + 1) / 2).numpy()
    assert rgb[5, 10, 0] > 0.8 and rgb[5, 10, 2] < 0.2  # red at the top
    assert rgb[35, 10, 2] > 0.8 and rgb[35, 10, 0] < 0.2  # blue at the bottom
    small = load_signal(H.exif_rotated_jpeg(tmp_path), max_side=10)
    assert small.shape == (10, 5) and small.metadata["original_size"] == (40, 20)


def test_palette_png_with_transparency_keeps_its_colours(tmp_path):
    s = load_signal(H.palette_alpha_png(tmp_path))
    rgb = ((s.values.reshape(32, 32, 3) + 1) / 2).numpy()
    assert np.allclose(rgb[0, 0], [1, 0, 0]) and np.allclose(rgb[4, 0], [0, 1, 0])


def test_scene_meshes_all_count(tmp_path):
    s = load_signal(H.glb_scene(tmp_path), grid=24)
    assert s.metadata["faces"] == 12 + 12 + 80 and 0 < s.metadata["inside_fraction"] < 0.5


def test_latin1_obj_is_the_tetrahedron(tmp_path):
    s = load_signal(H.obj_latin1(tmp_path), grid=8)
    assert s.metadata["faces"] == 4 and s.metadata["watertight"]


# ---------------------------------------------------------------- memory: only the part used is decoded

PEAK = """
import sys
import soundfile  # imported before measuring: loaders import their decoders lazily
from intcore.modalities import load_signal
def status_mb(key):  # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec
    return int(open("/proc/self/status").read().split(key + ":")[1].split()[0]) / 1024
for path, options in zip(sys.argv[1::2], sys.argv[2::2]):
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM to the current RSS
    before = status_mb("VmRSS")
    signal = load_signal(path, **eval(options))
    print(status_mb("VmHWM") - before)
    del signal
"""


def peak_growth_mb(*loads: tuple[Path, dict]) -> list[float]:
    """How far the peak RSS of one fresh process rose while it loaded each file in turn (MB)."""
    args = [x for path, options in loads for x in (str(path), repr(options))]
    r = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert r.returncode == 0, r.stderr
    return [float(x) for x in r.stdout.split()]


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc peak-RSS counters")
def test_large_files_are_decoded_only_as_far_as_used(tmp_path):
    """A 24 MP picture is 69 MB as 8-bit RGB and 275 MB as float: the JPEG is decoded at 1/8 scale, the PNG
    once at full size and box-reduced before any float copy. An hour of 44.1 kHz audio is 635 MB as float;
    with a 1 s cap only that second is read."""
    hour = H.wav_hour_long(tmp_path)
    assert hour.stat().st_size > 300 * 2**20  # an hour of 44.1 kHz 16-bit audio, as declared (sparse on disk)
    jpeg, png, wav = peak_growth_mb((H.large_jpeg(tmp_path), {"max_side": 128}),
                                    (H.large_png(tmp_path), {"max_side": 128}), (hour, {"max_seconds": 1.0}))
    full_rgb_mb = 6000 * 4000 * 3 / 2**20
    assert jpeg < 0.25 * full_rgb_mb
    assert png < 1.6 * full_rgb_mb
    assert wav < 30


def test_cli_in_its_own_process_prints_one_line_for_a_bomb(tmp_path):
    """As a user runs it: Pillow's own warning for this size must not reach stderr beside our line."""
    path = H.just_over_png(tmp_path)
    r = subprocess.run([sys.executable, "-m", "intcore", "fit", str(path), "--device", "cpu", "--quiet"],
                       capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"intcore: error: {path}: the image declares 14,500 × 14,000 = 203 "
                                             "megapixels; at most 100 megapixels are accepted (save a smaller copy)"]
