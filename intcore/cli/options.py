"""The command line's options, made from `intcore.spec.SETTINGS`: one flag per setting, named after it
(`hidden_layers` is `--hidden-layers`), so the CLI, the app and the benchmark share one vocabulary."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable, Iterable

from ..modalities import MODALITIES
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


DEVICE_DEFAULTS = {
    "steps": "300 on CPU, 3000 on GPU", "lr": "5e-4 on CPU, 1e-4 on GPU", "width": "128 on CPU, 256 on GPU",
    "hidden_layers": "4 on CPU, 5 on GPU", "max_side": "128 on CPU, full size on GPU",
    "max_seconds": "1 on CPU, 10 on GPU", "grid": "32 on CPU, 64 on GPU", "eval_every": "10 on CPU, 50 on GPU",
    "seed": "0", "ratio": "0.2", "lr_schedule": "cosine for audio, constant otherwise", "precision": "fp32", "compile": "off",
}


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
