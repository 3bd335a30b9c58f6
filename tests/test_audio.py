"""Audio: the loader and each of its errors, normalisation and loudness, reconstruction and saving."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

sf = pytest.importorskip("soundfile")

from intcore.modalities import get_modality, load_audio, load_signal, modality_for_path  # noqa: E402
from intcore.signals import (  # noqa: E402
    EmptyFileError,
    EmptySignalError,
    MissingFileError,
    TruncatedFileError,
    UnreadableFileError,
    UnsupportedSignalError,
)

RATE = 8000


def tone(seconds: float = 0.5, rate: int = RATE, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * 440 * t) * np.exp(-3 * t)).astype(np.float32)


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "tone.wav"
    sf.write(path, tone(), RATE, subtype="PCM_16")
    return path


@pytest.mark.parametrize("fmt,subtype", [("wav", "PCM_16"), ("wav", "PCM_24"), ("wav", "FLOAT"), ("flac", "PCM_16"), ("ogg", "VORBIS")])
def test_reads_formats_at_native_rate(tmp_path: Path, fmt: str, subtype: str) -> None:
    path = tmp_path / f"clip.{fmt}"
    sf.write(path, tone(rate=11025), 11025, subtype=subtype)
    sig = load_signal(path)
    assert sig.modality == "audio" and modality_for_path(path) == "audio"
    assert sig.shape == (sig.n,) and abs(sig.n - 11025 // 2) <= 1024  # Vorbis may pad a little
    assert sig.metadata["sample_rate"] == 11025
    assert sig.coords.shape == (sig.n, 1) and sig.values.shape == (sig.n, 1)
    assert sig.coords.min() == -1 and sig.coords.max() == 1
    assert sig.values.abs().max().item() == pytest.approx(1.0)  # peak-normalised
    assert sig.metadata["peak"] == pytest.approx(0.5, rel=0.1)  # the gain that restores the loudness


def test_stereo_is_mixed_to_mono(tmp_path: Path) -> None:
    left, right = tone(), tone(amp=0.1)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), RATE, subtype="FLOAT")
    sig = load_audio(path)
    assert sig.metadata["channels"] == 2 and sig.out_features == 1
    expected = (left + right) / 2
    restored = sig.values[:, 0].numpy() * sig.metadata["peak"]
    assert np.allclose(restored, expected, atol=1e-6)


def test_integer_array_and_loudness_round_trip() -> None:
    ints = (tone() * 32768).astype(np.int16)
    sig = load_audio(ints, sample_rate=RATE, name="ints")
    wave = get_modality("audio").reconstruct(sig.values, sig)  # ground truth as the prediction
    assert np.allclose(wave, ints / 32768.0, atol=1e-6)  # the original loudness, not the normalised one


def test_duration_cap_trims_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    sf.write(path, tone(seconds=2.0), RATE)
    sig = load_audio(path, max_seconds=0.5)
    assert sig.n == RATE // 2
    assert sig.metadata["trimmed"] and sig.metadata["original_seconds"] == pytest.approx(2.0)
    assert any("trimmed" in note for note in sig.metadata["notices"])
    assert not load_audio(path).metadata["trimmed"]


def test_clipping_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "loud.wav"
    sf.write(path, np.clip(tone(amp=3.0), -1, 1), RATE, subtype="PCM_16")
    sig = load_audio(path)
    assert sig.metadata["clipped_fraction"] > 0.01
    assert any("clipped" in note for note in sig.metadata["notices"])
    assert sig.values.abs().max() <= 1.0


def test_save_writes_a_16_bit_wav_at_the_signal_rate(wav: Path, tmp_path: Path) -> None:
    sig = load_audio(wav)
    audio = get_modality("audio")
    pred = sig.values * 1.5  # overshoots [-1, 1]: must be clipped, not wrapped
    out = audio.save(audio.reconstruct(pred, sig), sig, tmp_path / "recon")
    assert out.suffix == ".wav"
    data, rate = sf.read(out)
    info = sf.info(out)
    assert rate == RATE and info.subtype == "PCM_16" and data.shape == (sig.n,)
    assert np.abs(data).max() <= 1.0


def test_psnr_uses_data_range_two(wav: Path) -> None:
    sig = load_audio(wav)
    audio = get_modality("audio")
    pred = sig.values + 0.1
    assert audio.quality(pred, sig, sig.values).item() == pytest.approx(10 * np.log10(4 / 0.01), abs=1e-3)


# ---------------------------------------------------------------- errors a user can run into


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        load_audio(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(EmptyFileError):
        load_audio(tmp_path / "empty.wav")


def test_text_renamed_wav_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are my notes, not audio\n" * 20)
    with pytest.raises(UnreadableFileError, match="not an audio file"):
        load_audio(path)


def test_truncated_wav(wav: Path, tmp_path: Path) -> None:
    data = wav.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFileError, match="ends early"):
        load_audio(cut)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(data[:30])
    with pytest.raises(TruncatedFileError):
        load_audio(header_only)


def test_truncated_flac(tmp_path: Path) -> None:
    path = tmp_path / "clip.flac"
    sf.write(path, tone(seconds=2.0), RATE)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFileError):
        load_audio(path)


def test_zero_length_audio(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, np.float32), RATE)
    with pytest.raises(EmptySignalError, match="zero samples"):
        load_audio(path)
    with pytest.raises(EmptySignalError, match="zero samples"):
        load_audio(np.zeros(0, np.float32), sample_rate=RATE)


def test_silent_audio(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(RATE, np.float32), RATE)
    with pytest.raises(EmptySignalError, match="silent"):
        load_audio(path)


def test_channels_that_cancel_out_are_silent(tmp_path: Path) -> None:
    path = tmp_path / "phase.wav"
    sf.write(path, np.stack([tone(), -tone()], axis=1), RATE, subtype="FLOAT")
    with pytest.raises(EmptySignalError, match="after mixing the channels to mono"):
        load_audio(path)


@pytest.mark.parametrize("rate", [1, 10_000_000])
def test_absurd_sample_rate(tmp_path: Path, rate: int) -> None:
    path = tmp_path / "rate.wav"
    sf.write(path, tone(), rate, subtype="PCM_16")
    with pytest.raises(UnsupportedSignalError, match="sample rate"):
        load_audio(path)


def test_nan_samples(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    data = tone()
    data[10] = np.nan
    sf.write(path, data, RATE, subtype="FLOAT")
    with pytest.raises(UnsupportedSignalError, match="NaN"):
        load_audio(path)


def test_bad_cap_is_a_value_error(wav: Path) -> None:
    with pytest.raises(ValueError, match="max_seconds"):
        load_audio(wav, max_seconds=0)


# ---------------------------------------------------------------- training


def test_fit_briefly_improves_psnr(wav: Path) -> None:
    from intcore.models import ModelConfig
    from intcore.samplers import make_sampler
    from intcore.trainer import TrainConfig, Trainer

    sig = load_audio(wav, max_seconds=0.25)
    model = ModelConfig(width=32, hidden_layers=2).replace(**get_modality("audio").default_model)
    snaps = list(Trainer(sig, make_sampler("int"), model=model, config=TrainConfig(steps=30, lr=1e-3, eval_every=10, device="cpu")).run())
    assert snaps[-1].metric == "psnr"
    assert snaps[-1].best_quality > snaps[0].quality
    wave = snaps[-1].reconstruction
    assert wave.shape == (sig.n,) and wave.dtype == np.float32
    assert torch.isfinite(torch.from_numpy(wave)).all()


# ---------------------------------------------------------------- end to end

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("preset", ["melody.wav", "chirp.wav"])
def test_int_beats_random_at_equal_steps(preset: str) -> None:
    """The teacher's choice matters: from the same weights, INT (20 % rising in ten steps, the schedule
    this short audio fit needs; top-20 % alone ties random this early) beats a uniform 20 %. One 40-step
    race this early is a coin flip either way (each seed moves both by ~1 dB), so the claim is made on
    the mean over four seeds (deterministic: fixed seeds)."""
    from statistics import fmean

    from intcore.models import ModelConfig
    from intcore.runs import race
    from intcore.samplers import make_sampler
    from intcore.trainer import TrainConfig

    sig = load_signal(ROOT / "assets" / "audio" / preset, max_seconds=0.125)
    model = ModelConfig(width=32, hidden_layers=3).replace(**get_modality("audio").default_model)
    best: dict[str, list[float]] = {"int": [], "random": []}
    for seed in range(4):
        samplers = {"int": make_sampler("int", schedule="step"), "random": make_sampler("random")}
        results = race(sig, samplers, model, TrainConfig(steps=40, lr=1e-3, eval_every=10, device="cpu", seed=seed))
        for name in best:
            best[name].append(results[name].best_quality)
    assert fmean(best["int"]) > fmean(best["random"]) + 0.5, best


def test_cli_fit_on_a_clip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from intcore.cli import main

    out = tmp_path / "out"
    code = main(["fit", str(ROOT / "assets" / "audio" / "chirp.wav"), "--max-seconds", "0.1", "--steps", "5",
                 "--width", "16", "--hidden-layers", "2", "--device", "cpu", "--quiet", "--out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["modality"] == "audio" and summary["n"] == 1600 and "psnr" in summary
    assert any("trimmed" in n for n in summary["notices"]) and "trimmed" in captured.err
    data, rate = sf.read(out / "chirp-int.wav")
    assert rate == 16000 and data.shape == (1600,)
