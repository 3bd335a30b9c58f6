"""The command line's options, made from `intcore.spec.SETTINGS`: one flag per setting, named after it
(`hidden_layers` is `--hidden-layers`), so the CLI, the app and the benchmark share one vocabulary."""
from __future__ import annotations

import argparse
import collections
import dataclasses
import inspect
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from ..defaults import default_settings
from ..modalities import MODALITIES
from ..samplers import SAMPLERS
from ..trainer import TrainConfig
from .. import spec as spec_module
from ..spec import SETTINGS, RunSpec, apply_settings, load_spec_file, make_spec

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def argument_type(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """A setting's converter as an argparse type: its ValueError becomes argparse's one-line error."""

    def parse(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def add_settings(p: argparse.ArgumentParser, names: Iterable[str] | None = None,
                 defaults: dict[str, str] | None = None) -> None:
    """One `--flag` per setting (all of SETTINGS unless `names`). Every default is None, meaning "the
    device default for the modality" (intcore.defaults); `defaults` adds that to the help text."""
    defaults = defaults or {}
    budget = p.add_mutually_exclusive_group()
    for name in names or SETTINGS:
        s = SETTINGS[name]
        help_text = s.help + (f" (default: {defaults[name]})" if name in defaults else "")
        group = budget if name in ("steps", "seconds") else p
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=argument_type(s.type), choices=s.choices,
                           default=None, help=help_text)


positive_int = argument_type(spec_module.positive_int)
positive_float = argument_type(spec_module.positive_float)


def add_signal_options(p: argparse.ArgumentParser, path_required: bool = True) -> None:
    """The signal file, its modality, the device and the spec file that can stand in for them."""
    p.add_argument("path", type=Path, nargs=None if path_required else "?",
                   help="signal file: an image, an audio clip or a mesh")
    p.add_argument("--modality", choices=MODALITIES.names(), help="override the modality guessed from the extension")
    p.add_argument("--device", default=None, help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps (default auto)")


DEVICES = {"CPU": torch.device("cpu"), "GPU": torch.device("cuda")}
"""the devices whose defaults the help text names (intcore.defaults tells any non-CPU device the GPU's)"""


def show(value: Any) -> str:
    """A default as the help text writes it: 5e-4, 0.2, 300, full size (None), off."""
    if value is None:
        return "full size"
    if isinstance(value, float):
        return f"{value:.0e}".replace("e-0", "e-") if 0 < abs(value) < 0.01 else f"{value:g}"
    return str(value)


def describe_defaults() -> dict[str, str]:
    """Setting -> its default in words, derived from intcore.defaults and the dataclasses' own defaults:
    "300 on CPU, 3000 on GPU", "cosine for audio, constant otherwise", "0.2". The settings whose defaults
    are not per device (seed, precision, compile, cuda_graphs) come from TrainConfig, the ratio from INT's sampler."""
    table = {(m, dev): default_settings(m, device) for m in MODALITIES.names() for dev, device in DEVICES.items()}
    train = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    words = {name: show(train[name]) for name in ("seed", "precision", "compile", "cuda_graphs")}
    words["ratio"] = show(inspect.signature(SAMPLERS["int"]).parameters["ratio"].default)
    for name in SETTINGS:
        per = {key: values[name] for key, values in table.items() if name in values}
        if not per:
            continue
        by_modality = {m: tuple(per[(m, dev)] for dev in DEVICES) for m in MODALITIES.names() if (m, "CPU") in per}
        usual, shared = collections.Counter(by_modality.values()).most_common(1)[0]
        # "otherwise" names a value several modalities share; with none shared, each is named.
        odd = {m: v for m, v in by_modality.items() if v != usual or (shared == 1 and len(by_modality) > 1)}

        def on_devices(values: tuple) -> str:
            if len(set(values)) == 1:
                return show(values[0])
            return ", ".join(f"{show(v)} on {dev}" for v, dev in zip(values, DEVICES))

        if not odd:
            words[name] = on_devices(usual)
        elif len(odd) == len(by_modality):
            words[name] = ", ".join(f"{on_devices(v)} for {m}" for m, v in odd.items())
        else:
            words[name] = ", ".join(f"{on_devices(v)} for {m}" for m, v in odd.items()) + \
                          f", {on_devices(usual)} otherwise"
    return words


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the user typed (argparse leaves the others None)."""
    return {name: getattr(args, name) for name in SETTINGS if getattr(args, name, None) is not None}


def spec_from_args(args: argparse.Namespace, samplers: list[str] | None) -> RunSpec:
    """The run spec from `--config FILE` (a summary.json or spec) or the path, then the typed settings.

    Only what the user typed changes a spec read from a file; a spec made from a path starts from the
    device defaults. Bad values raise ValueError naming the setting.
    """
    settings = given_settings(args)
    config = getattr(args, "config", None)
    if config is not None:
        spec = load_spec_file(config)
        if args.path is not None:
            spec.signal.path = str(args.path.expanduser().resolve())
        changes: dict[str, Any] = {**settings}
        if samplers is not None:
            changes["samplers"] = samplers
        if args.device is not None:
            changes["device"] = args.device
        if getattr(args, "target", None) is not None:
            changes["target"] = args.target
        return apply_settings(spec, changes)
    if args.path is None:
        raise UsageError("give a signal file (or --config summary.json)")
    return make_spec(args.path, modality=args.modality, device=args.device or "auto",
                     samplers=samplers or ["int"], target=getattr(args, "target", None), **settings)
