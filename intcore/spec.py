"""`RunSpec`: everything that defines one run, filled alike by the CLI, the app and the benchmark.

A run is a signal (a file and its loader options), a model, a training configuration and one or more
samplers. Each setting has ONE name from the command line to the trainer (`--hidden-layers` is
`ModelConfig.hidden_layers`, `--max-side` is the image loader's `max_side`, ...): `SETTINGS` lists
them, `make_spec` turns a modality's device defaults plus the settings a user gave into a `RunSpec`,
and a `RunSpec` round-trips through JSON, so every `summary.json` carries the spec that made it and
`python -m intcore compare --config summary.json` runs it again.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import torch

from .defaults import defaults_for
from .device import resolve_device
from .graphs import GRAPH_MODES
from .lr_schedules import LR_SCHEDULE_RULES
from .modalities import get_modality, load_options, load_signal, modality_for_path
from .models import ModelConfig
from .samplers import SAMPLERS, Sampler, make_sampler, parse_interval, sampler_options
from .signals import Signal
from .trainer import TrainConfig

SPEC_VERSION = 1


@dataclass(frozen=True)
class Setting:
    """One user-facing setting: where it lands in the spec, its type and its one-line help."""

    name: str
    section: str
    """"signal" (a loader option), "model" (ModelConfig), "train" (TrainConfig) or "sampler" (passed to
    every sampler that takes an option of this name)"""
    type: Callable[[Any], Any]
    help: str
    choices: tuple[str, ...] | None = None


def positive_int(value: Any) -> int:
    """A whole number ≥ 1, from the command line ("300"), the app (300.0) or a URL."""
    number = whole_number(value)
    if number < 1:
        raise ValueError(f"must be a positive whole number, got {value}")
    return number


def whole_number(value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a whole number, got {value!r}") from None
    if not number.is_integer():
        raise ValueError(f"must be a whole number, got {value}")
    return int(number)


def positive_float(value: Any) -> float:
    """A finite number > 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a positive number, got {value!r}") from None
    if not 0 < number < float("inf"):
        raise ValueError(f"must be a positive number, got {value}")
    return number


def open_unit_interval(value: Any) -> float:
    """A number strictly between 0 and 1."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number in (0, 1), got {value!r}") from None
    if not 0 < number < 1:
        raise ValueError(f"must be a number in (0, 1), got {value}")
    return number


def non_negative_float(value: Any) -> float:
    """A finite number ≥ 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number ≥ 0, got {value!r}") from None
    if not 0 <= number < float("inf"):
        raise ValueError(f"must be a number ≥ 0, got {value}")
    return number


def interval_value(value: Any) -> str | int:
    """dense, incremental, every-N, or a whole number of steps N ≥ 1."""
    return parse_interval(value)


SETTINGS: dict[str, Setting] = {s.name: s for s in [
    # signal loading (each modality's loader takes the ones that apply to it)
    Setting("max_side", "signal", positive_int, "images: downscale so the longer side is at most this many pixels"),
    Setting("max_seconds", "signal", positive_float, "audio: keep the first this many seconds"),
    Setting("grid", "signal", positive_int, "shapes: occupancy grid points per side"),
    # model
    Setting("width", "model", positive_int, "SIREN neurons per hidden layer"),
    Setting("hidden_layers", "model", positive_int, "SIREN sine layers (then one linear output layer)"),
    Setting("first_w0", "model", positive_float, "SIREN frequency factor of the first layer (30 for images)"),
    Setting("w0", "model", positive_float, "SIREN frequency factor of the hidden sine layers"),
    # training
    Setting("steps", "train", positive_int, "training steps per sampler"),
    Setting("seconds", "train", positive_float, "training-time budget per sampler, in seconds"),
    Setting("lr", "train", positive_float, "Adam learning rate"),
    Setting("lr_schedule", "train", str, "learning-rate schedule over the budget", tuple(LR_SCHEDULE_RULES)),
    Setting("adam_beta2", "train", open_unit_interval, "Adam's second-moment decay β2"),
    Setting("adam_eps", "train", positive_float, "Adam's ε (larger: smaller steps where the gradients are tiny)"),
    Setting("grad_clip", "train", non_negative_float, "clip the gradient's L2 norm to this before each Adam step (0: off)"),
    Setting("grad_clip_factor", "train", non_negative_float,
            "clip the gradient's L2 norm to this multiple of its running mean (0: off)"),
    Setting("eval_every", "train", positive_int, "evaluate on the full signal every this many steps"),
    Setting("seed", "train", whole_number, "initial weights and the samplers' random draws"),
    Setting("precision", "train", str, "fp32, or bf16 autocast of the forward passes", ("fp32", "bf16")),
    Setting("teacher_precision", "train", str, "fp32, or bf16 autocast of the teacher's scoring pass only",
            ("fp32", "bf16")),
    Setting("compile", "train", str, "torch.compile mode for the model",
            ("off", "default", "reduce-overhead", "max-autotune-no-cudagraphs")),
    Setting("cuda_graphs", "train", str, "replay the training step as CUDA graphs: auto (on a CUDA GPU), on, off",
            GRAPH_MODES),
    # samplers (shared options; each sampler takes those it has)
    Setting("ratio", "sampler", positive_float, "fraction of the coordinates a subset sampler trains on per step"),
    Setting("schedule", "sampler", str, "INT's ratio schedule: constant, linear, step, cosine"),
    Setting("interval", "sampler", interval_value, "INT's re-selection interval: dense, every-N, incremental"),
]}


@dataclass
class SignalSpec:
    """Which signal to fit and how to load it."""

    path: str | None = None
    """the file (absolute); None for a signal built in memory (the benchmark's mosaic)"""
    modality: str | None = None
    """image, audio, shape, ...; None: from the file's extension"""
    options: dict[str, Any] = field(default_factory=dict)
    """the modality loader's options (images max_side, audio max_seconds, shapes grid)"""

    def load(self) -> Signal:
        if self.path is None:
            raise ValueError("this run spec names no signal file")
        return load_signal(self.path, modality=self.modality, **self.options)


@dataclass
class SamplerSpec:
    """One raced sampler: its registry name and the options it is built with."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Sampler:
        return make_sampler(self.name, **self.options)


@dataclass
class RunSpec:
    """Signal + model + training + samplers: what `compare` races (`fit` is a race of one)."""

    signal: SignalSpec
    model: ModelConfig
    train: TrainConfig
    samplers: list[SamplerSpec]
    target: float | None = None
    """quality at which a sampler stops (dB, or IoU for shapes); None: train the whole budget"""

    @property
    def modality(self) -> str:
        return self.signal.modality or modality_for_path(self.signal.path or "")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.samplers]

    def build_samplers(self) -> dict[str, Sampler]:
        """Method name -> a fresh sampler, in column order."""
        return {s.name: s.build() for s in self.samplers}

    def load_signal(self) -> Signal:
        return self.signal.load()

    def replace(self, **settings: Any) -> "RunSpec":
        """A copy with some settings changed, by their `SETTINGS` names (plus `samplers`, `device`,
        `target`); validated as in `make_spec`."""
        return apply_settings(self, settings)

    # -------------------------------------------------------------- JSON

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "signal": dataclasses.asdict(self.signal),
            "model": dataclasses.asdict(self.model),
            "train": dataclasses.asdict(self.train),
            "samplers": [dataclasses.asdict(s) for s in self.samplers],
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunSpec":
        """The inverse of `to_dict`. Unknown keys are an error, never silently ignored."""
        _check_keys("run spec", data, {"version", "signal", "model", "train", "samplers", "target"})
        if data.get("version", SPEC_VERSION) != SPEC_VERSION:
            raise ValueError(f"run spec version {data.get('version')} is not {SPEC_VERSION}")
        samplers = [SamplerSpec(**_checked("sampler", s, SamplerSpec)) for s in data["samplers"]]
        for s in samplers:
            s.build()  # unknown names and bad options fail here, not mid-run
        return cls(
            signal=SignalSpec(**_checked("signal", data["signal"], SignalSpec)),
            model=ModelConfig(**_checked("model", data["model"], ModelConfig)),
            train=TrainConfig(**_checked("train", data["train"], TrainConfig)),
            samplers=samplers,
            target=data.get("target"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> "RunSpec":
        return cls.from_dict(json.loads(text))


def _check_keys(what: str, data: Mapping[str, Any], known: Iterable[str]) -> None:
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"unknown {what} key(s): {', '.join(sorted(unknown))}")


def _checked(what: str, data: Mapping[str, Any], cls: type) -> dict[str, Any]:
    _check_keys(what, data, {f.name for f in dataclasses.fields(cls)})
    return dict(data)


def load_spec_file(path: str | Path) -> RunSpec:
    """A RunSpec from a JSON file: a bare spec, or any summary.json that carries one under "spec"."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise ValueError(f"{p}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p}: not a JSON file ({exc})") from None
    if isinstance(data, dict) and "spec" in data:
        data = data["spec"]
    if not isinstance(data, dict):
        raise ValueError(f"{p}: holds no run spec")
    return RunSpec.from_dict(data)


# ------------------------------------------------------------------ building a spec from settings


def make_spec(
    path: str | Path | None,
    modality: str | None = None,
    device: str | torch.device = "auto",
    samplers: Iterable[str] = ("int",),
    target: float | None = None,
    **settings: Any,
) -> RunSpec:
    """The spec for fitting `path` with `samplers` on `device`: the modality's defaults for that device
    (intcore.defaults), then every setting given (by its `SETTINGS` name; None means "the default").

    Raises ValueError naming the setting for an unknown name, a bad value, or a setting that does not
    apply (e.g. `grid` for an image).
    """
    dev = resolve_device(str(device))
    name = modality or modality_for_path(path or "")
    get_modality(name)  # an unknown modality fails here
    d = defaults_for(name, dev)
    steps = d.steps
    spec = RunSpec(
        signal=SignalSpec(path=None if path is None else str(Path(path).expanduser().resolve()), modality=name,
                          options=dict(d.load_options)),
        model=d.model,
        train=TrainConfig(steps=steps, lr=d.lr, lr_schedule=d.lr_schedule, eval_every=d.eval_every, device=str(dev),
                          **d.optimiser),
        samplers=[],
    )
    return apply_settings(spec, {**settings, "samplers": list(samplers), "target": target})


def apply_settings(spec: RunSpec, settings: Mapping[str, Any]) -> RunSpec:
    """`spec` with `settings` applied (None values are skipped); see `make_spec`."""
    extra = {"samplers", "device", "target"}
    unknown = set(settings) - set(SETTINGS) - extra
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))} (known: {', '.join(SETTINGS)})")
    given = {k: v for k, v in settings.items() if v is not None}
    values: dict[str, Any] = {}
    for key, raw in given.items():
        if key in extra:
            continue
        s = SETTINGS[key]
        try:
            value = s.type(raw)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{key.replace('_', '-')} {exc}") from None
        if s.choices and value not in s.choices:
            raise ValueError(f"{key.replace('_', '-')} must be one of {', '.join(s.choices)}, got {value!r}")
        values[key] = value
    by_section = {sec: {k: v for k, v in values.items() if SETTINGS[k].section == sec}
                  for sec in ("signal", "model", "train", "sampler")}

    modality = spec.modality
    loader = load_options(modality)
    for key in by_section["signal"]:
        if key not in loader:
            raise ValueError(f"{key.replace('_', '-')} does not apply to {modality} signals")
    signal = dataclasses.replace(spec.signal, options={**spec.signal.options, **by_section["signal"]})

    model = spec.model.replace(**by_section["model"])

    train_changes = dict(by_section["train"])
    if "seconds" in train_changes and "steps" in train_changes:
        raise ValueError("give steps or seconds, not both")
    if "seconds" in train_changes:
        train_changes["steps"] = None
    elif "steps" in train_changes:
        train_changes["seconds"] = None
    if "device" in given:
        train_changes["device"] = str(resolve_device(str(given["device"])))
    train = dataclasses.replace(spec.train, **train_changes)

    names = list(given["samplers"]) if "samplers" in given else spec.names
    if not names:
        raise ValueError("name at least one sampler")
    for n in names:
        if n not in SAMPLERS:
            raise ValueError(f"unknown sampler {n!r} (known: {', '.join(SAMPLERS.names())})")
    if len(set(names)) != len(names):
        raise ValueError(f"a sampler is named twice ({', '.join(names)})")
    old = {s.name: s.options for s in spec.samplers}
    samplers = []
    for n in names:
        accepted = sampler_options(n)
        options = {**old.get(n, {}), **{k: v for k, v in by_section["sampler"].items() if k in accepted}}
        sampler = SamplerSpec(n, options)
        sampler.build()  # a bad ratio or schedule fails now, naming the sampler
        samplers.append(sampler)

    target = spec.target if "target" not in settings else settings["target"]
    return RunSpec(signal=signal, model=model, train=train, samplers=samplers,
                   target=None if target is None else float(target))
