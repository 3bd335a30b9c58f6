"""Audio: WAV, FLAC, OGG (anything libsndfile reads, via soundfile) as a mono waveform over time.

Time t in [-1, 1] -> amplitude in [-1, 1]. The clip is peak-normalised for fitting and the gain is kept
in `metadata["peak"]`, so the reconstruction plays back at the original loudness.
soundfile is imported inside the loader: the training path works on machines without it.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..signals import (
    EmptySignalError,
    Signal,
    TruncatedFileError,
    UnreadableFileError,
    UnsupportedSignalError,
    check_file,
    grid_coords,
)
from .base import MODALITIES, Modality
from .sniff import mismatch

MIN_RATE = 1_000  # Hz; below this nothing audible survives (telephone audio is 8 kHz)
MAX_RATE = 384_000  # Hz; the highest rate studio converters use
MAX_SECONDS = 600.0  # refuse longer clips unless a duration cap trims them
MIN_SAMPLES = 16  # fewer is a click, not a waveform (16 samples are 2 ms at 8 kHz)
HIGH_RATE = 48_000  # above this every second costs many coordinates: say so
SILENCE_PEAK = 1e-5  # below a 16-bit LSB (3e-5): nothing to fit
CLIP_LEVEL = 0.999  # |x| at or above this (of full scale) counts as clipped


def _soundfile():
    try:
        import soundfile
    except ImportError:
        raise ImportError("reading audio needs the soundfile package: pip install 'soundfile>=0.12'") from None
    return soundfile


def _wav_data_bytes(path: Path) -> tuple[int, int] | None:
    """(declared, present) bytes of a RIFF/WAVE file's data chunk, or None if not a plain WAV.

    libsndfile silently reads what is there when a WAV ends early, so truncation is checked here.
    """
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        size = path.stat().st_size
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            cid, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                return length, size - fh.tell()
            fh.seek(length + (length & 1), 1)


def _read(path: Path, max_seconds: float | None) -> tuple[np.ndarray, int, str, float]:
    """Decode up to `max_seconds`: ((frames, channels) float32 in [-1, 1] for integer formats, rate,
    format description, full duration in seconds)."""
    sf = _soundfile()
    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError on odd headers
        problem = str(exc).lower()
        if "malformed" in problem or "chunk" in problem:
            raise TruncatedFileError(path, "the audio file is damaged or ends early") from None
        raise UnreadableFileError(path, mismatch(path, "audio") or
                                  "not an audio file this program can read (unknown or damaged format)") from None
    rate = int(info.samplerate)
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UnsupportedSignalError(
            path, f"sample rate {rate:,} Hz is outside {MIN_RATE:,}–{MAX_RATE:,} Hz (is the header damaged?)"
        )
    if info.frames <= 0:
        raise EmptySignalError(path, "the audio has zero samples (zero length)")
    duration = info.frames / rate
    if max_seconds is None and duration > MAX_SECONDS:
        raise UnsupportedSignalError(path, f"the clip lasts {duration:.0f} s; give a duration cap (at most {MAX_SECONDS:.0f} s)")
    declared = _wav_data_bytes(path)
    if declared is not None and declared[0] not in (0, 0xFFFFFFFF) and declared[1] < declared[0]:
        raise TruncatedFileError(
            path, f"the audio data ends early: the header declares {declared[0]:,} bytes, the file holds {declared[1]:,}"
        )
    frames = info.frames if max_seconds is None else min(info.frames, max(1, round(max_seconds * rate)))
    try:  # only the frames used are read: an hour-long file costs no more than its first `max_seconds`
        data, _ = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except MemoryError:
        raise UnsupportedSignalError(path, "the clip is too long to decode in the memory available") from None
    except Exception:
        raise TruncatedFileError(path, "the audio data is damaged or ends early") from None
    if data.shape[0] < frames:
        raise TruncatedFileError(path, f"the audio data ends early: {data.shape[0]:,} of {frames:,} samples decoded")
    return data, rate, f"{info.format} {info.subtype}", duration


def load_audio(
    source: str | Path | np.ndarray,
    max_seconds: float | None = None,
    sample_rate: int | None = None,
    name: str | None = None,
) -> Signal:
    """Load an audio file (or a (T,) / (T, channels) array with `sample_rate`) as a mono Signal.

    Integer and float samples are read at the file's own rate; channels are averaged (mono mixdown).
    With `max_seconds`, longer clips keep their first `max_seconds` and `metadata["notices"]` says so.
    The waveform is peak-normalised to [-1, 1]; `metadata["peak"]` is the gain that restores the
    original loudness, `metadata["clipped_fraction"]` the share of samples at full scale.
    Raises a SignalError subclass for unreadable, truncated, zero-length, silent or absurd-rate input.
    """
    if max_seconds is not None and not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds}")
    notices: list[str] = []
    if isinstance(source, np.ndarray):
        label = name or "array"
        if sample_rate is None:
            raise ValueError("an audio array needs its sample_rate")
        rate = int(sample_rate)
        if not MIN_RATE <= rate <= MAX_RATE:
            raise UnsupportedSignalError(label, f"sample rate {rate:,} Hz is outside {MIN_RATE:,}–{MAX_RATE:,} Hz")
        data = np.asarray(source)
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2:
            raise UnsupportedSignalError(label, f"expected a (T,) or (T, channels) array, got shape {data.shape}")
        if np.issubdtype(data.dtype, np.integer):  # full scale of the integer type -> 1.0
            data = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
        data = data.astype(np.float32)
        if data.shape[0] == 0:
            raise EmptySignalError(label, "the audio has zero samples (zero length)")
        duration = data.shape[0] / rate
        if max_seconds is not None:
            data = data[: max(1, round(max_seconds * rate))]
        fmt = "array"
    else:
        path = check_file(source)
        label = str(path)
        data, rate, fmt, duration = _read(path, max_seconds)
        name = name or path.stem
    if not np.isfinite(data).all():
        raise UnsupportedSignalError(label, "the audio contains NaN or infinite samples")
    if data.shape[0] < MIN_SAMPLES:
        raise EmptySignalError(label, f"the clip has only {data.shape[0]} sample{'s' * (data.shape[0] != 1)}; "
                                      f"at least {MIN_SAMPLES} are needed to fit a waveform")
    channels = data.shape[1]
    if channels > 1:
        notices.append(f"the {channels} channels are mixed down to one (mono)")
    if rate > HIGH_RATE:
        notices.append(f"sampled at {rate:,} Hz: each second is {rate:,} points to fit; a shorter cap keeps steps fast")
    clipped = float(np.mean(np.abs(data) >= CLIP_LEVEL))
    mono = data.mean(axis=1)  # (T,)
    kept = mono.shape[0] / rate
    if kept < duration - 0.5 / rate:
        notices.append(f"trimmed to the first {kept:.2f} s of {duration:.2f} s (max_seconds): every second is "
                       f"{rate:,} more points to fit, so a longer clip makes every step slower")
    if clipped > 0.001:
        notices.append(f"{clipped:.1%} of the samples are clipped at full scale; the fit reproduces the clipping")
    peak = float(np.abs(mono).max())
    if peak <= SILENCE_PEAK:
        where = " after mixing the channels to mono" if channels > 1 and np.abs(data).max() > SILENCE_PEAK else ""
        raise EmptySignalError(label, f"the audio is silent{where} (peak {peak:.1e}); nothing to fit")
    t = mono.shape[0]
    values = torch.from_numpy(mono / peak).float()[:, None]  # (T, 1) in [-1, 1]
    return Signal(
        coords=grid_coords((t,)),  # (T, 1): time in [-1, 1]
        values=values,
        shape=(t,),
        modality="audio",
        name=name or label,
        metadata={
            "source": label,
            "format": fmt,
            "sample_rate": rate,
            "channels": channels,
            "seconds": t / rate,
            "original_seconds": duration,
            "trimmed": kept < duration - 0.5 / rate,
            "peak": peak,
            "clipped_fraction": clipped,
            "notices": notices,
        },
    )


@MODALITIES.register("audio")
class AudioModality(Modality):
    """Time t in [-1, 1] -> amplitude in [-1, 1]; PSNR over [-1, 1] (data range 2).

    The first layer's frequency: a clip of T samples spans 2 time units, so a sine of f Hz is
    sin(π·f·(T/rate)·t) and needs first-layer weights w0·|w| ≈ π·f·seconds; the deeper sine layers add
    the harmonics above that. SIREN used w0 = 3000 on a [-1, 1] time axis; with it the CPU defaults
    (1 s cap, 4 × 128, lr 5e-4, 300 steps) reach 51–55 dB on a 16 kHz clip of plucked notes.
    """

    extensions = (".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif")
    file_extension = ".wav"
    data_range = 2.0
    default_model = {"first_w0": 3000.0, "w0": 30.0}
    load_defaults = {"cpu": {"max_seconds": 1.0}, "gpu": {"max_seconds": 10.0}}

    def load(self, source: Any, max_seconds: float | None = None, sample_rate: int | None = None,  # type: ignore[override]
             name: str | None = None) -> Signal:
        return load_audio(source, max_seconds=max_seconds, sample_rate=sample_rate, name=name)

    def reconstruct(self, pred: torch.Tensor, signal: Signal) -> np.ndarray:
        """(T, 1) prediction -> float32 waveform (T,) at the original loudness, within [-1, 1]."""
        (t,) = signal.shape
        wave = pred[:t, 0].detach().float().cpu().numpy() * signal.metadata.get("peak", 1.0)
        return np.clip(wave, -1.0, 1.0).astype(np.float32)

    def save(self, reconstruction: np.ndarray, signal: Signal, path: Path) -> Path:
        """16-bit PCM WAV at the signal's sample rate (every player and browser reads it)."""
        sf = _soundfile()
        path = Path(path).with_suffix(self.file_extension)
        sf.write(str(path), np.clip(reconstruction, -1, 1), int(signal.metadata["sample_rate"]), subtype="PCM_16")
        return path
