"""The app's settings are the library's: `intcore.spec.SETTINGS`, by the same names everywhere.

A setting has ONE name from the page to the trainer: the page's control for `hidden_layers` is made from
the library's `Setting` of that name, a link carries it as `hidden_layers=3`, the `compare` endpoint
takes it as the keyword `hidden_layers`, and `intcore.spec.make_spec` puts it into the run spec. Every
value is checked by the library's own rule (`Setting.type`, `Setting.choices`, and for a column's
sampler options the sampler's constructor); the app adds only `LIMITS`, the most that a link or a script
from someone else may ask of this machine.

The app's values (`Values`) are a dict by those names, plus:
- `samplers`: the sampler of each column (2 to 4, different);
- each sampler setting (`ratio`, `schedule`, `interval`, ...) as a list, one value per column (None: the
  column's sampler does not take it), so every column runs at its own ratio;
- `budget`: "seconds" or "steps", which of the two budgets the race uses;
- `target`: a quality target typed before Start (each column stops there), or None.

A link is the same values as a query string (`?tab=image&preset=camera&samplers=int,full,random&ratio=
0.2,,0.2&seconds=20`): a sampler setting is one value per column, comma-separated (empty: that column
takes none), or one value for every column that takes it. `decode` reads a link leniently (a bad value
keeps its default and says so); `run_spec` turns values into a `RunSpec` strictly (a bad value is an
error naming the setting).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import torch

from intcore.defaults import RACE_COLUMNS, default_settings
from intcore.modalities import load_options
from intcore.samplers import SAMPLERS, make_sampler, sampler_options
from intcore.spec import SETTINGS, RunSpec, SamplerSpec, make_spec
from intcore.trainer import TrainConfig

Values = dict[str, Any]

TABS = ("image", "audio", "shape")
"""the modalities the app has a tab for, in the order it shows them"""
MIN_COLUMNS, MAX_COLUMNS = 2, 4
NONE = "none"
"""a column's sampler when the column is not used"""
BUDGETS = ("seconds", "steps")
PRESET = "preset"


SAMPLER_SETTINGS: tuple[str, ...] = tuple(n for n, s in SETTINGS.items() if s.section == "sampler")
"""settings each column has a value of its own for (passed to the column's sampler if it takes them)"""

DEFAULT_SECONDS: dict[str, dict[str, float]] = {
    "image": {"cpu": 20.0, "gpu": 30.0},
    "audio": {"cpu": 15.0, "gpu": 20.0},
    "shape": {"cpu": 15.0, "gpu": 20.0},
}
"""the default budget of a page's race: training seconds per sampler, by modality and device kind"""

DEFAULT_TARGET: dict[str, float] = {"shape": 1.0}
"""a target typed for you, per modality: a shape's IoU 1 (every point inside or outside as it should be),
Algorithm 1's stop rule with ε = 0. A small network fits every label of a default grid within seconds,
after which a race with no target would only show flat lines; with it, each column stops when it gets
there and the race is decided by who got there first. Clear the field to train the whole budget."""

SIZE_FALLBACK: dict[str, float] = {"max_side": 768, "max_seconds": 10.0, "grid": 64}
"""the working size the app uses where the library's default is None (no limit): the Kodak size on a
GPU, so that a phone photo does not become 12 M coordinates"""

LIMITS: dict[str, tuple[float, float]] = {
    "steps": (1, 100_000),
    "seconds": (0, 3600),
    "lr": (0, 1),
    "width": (1, 1024),
    "hidden_layers": (1, 12),
    "first_w0": (0, 100_000),
    "w0": (0, 100_000),
    "eval_every": (1, 10_000),
    "seed": (0, 2**31 - 1),
    "max_side": (8, 4096),
    "max_seconds": (0, 60),
    "grid": (8, 256),
    "target": (0, 1000),
}
"""(low, high) of what a link or an API call may ask for: a link from someone else must not make this
machine train for a day or allocate a 10,000-px image (the library's own checks come first)"""

SUGGESTIONS: dict[str, tuple[str, ...]] = {
    "schedule": ("constant", "linear", "step", "cosine"),
    "interval": ("dense", "incremental", "every-5", "every-10", "every-20"),
}
"""the choices a page offers for the string settings whose `Setting` names none (any value the
library accepts may still be typed or linked)"""


class SettingError(ValueError):
    """A value a setting cannot take; the message names the setting."""


# ------------------------------------------------------------------------------------ which settings


def tab_settings(modality: str) -> list[str]:
    """The settings a tab offers, in the library's order: every model, training and sampler setting,
    and the working-size setting of the modality's loader (images max_side, audio max_seconds, shapes grid)."""
    loader = load_options(modality)
    return [n for n, s in SETTINGS.items() if s.section != "signal" or n in loader]


def size_setting(modality: str) -> str | None:
    """The modality's working-size setting (None if it has none)."""
    loader = load_options(modality)
    return next((n for n, s in SETTINGS.items() if s.section == "signal" and n in loader), None)


def sampler_names(modality: str) -> list[str]:
    """The registered samplers that apply to `modality`."""
    return [n for n in SAMPLERS.names() if SAMPLERS[n].applies_to(modality)]


def own_options(sampler: str) -> dict[str, Any]:
    """A sampler's own defaults of the sampler settings it takes (e.g. int-pool's ratio 0.1)."""
    if sampler in (NONE, None) or sampler not in SAMPLERS:
        return {}
    config = make_sampler(sampler).config
    return {name: config[name] for name in SAMPLER_SETTINGS if name in config}


def device_kind(device: torch.device | str) -> str:
    return "cpu" if torch.device(device).type == "cpu" else "gpu"


# ------------------------------------------------------------------------------------ defaults


def defaults(modality: str, device: torch.device | str) -> Values:
    """The values a page opens with: the library's defaults for the modality on this device, the default
    race's columns, each at its own sampler's options, and a budget of training seconds."""
    kind = device_kind(device)
    library = default_settings(modality, torch.device(device))
    train = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    values: Values = {}
    for name in tab_settings(modality):
        if name in SAMPLER_SETTINGS:
            continue
        value = library.get(name, train.get(name))
        if value is None and name in SIZE_FALLBACK:
            value = SIZE_FALLBACK[name]
        values[name] = value
    values["seconds"] = DEFAULT_SECONDS.get(modality, DEFAULT_SECONDS["image"])[kind]
    values["steps"] = library["steps"]
    values["budget"] = "seconds"
    samplers = [s for s in RACE_COLUMNS if s in sampler_names(modality)][:MAX_COLUMNS]
    values["samplers"] = samplers
    values.update(column_defaults(samplers))
    values["target"] = DEFAULT_TARGET.get(modality)
    return values


def column_defaults(samplers: list[str]) -> Values:
    """Each sampler setting as a list over the columns: each column's sampler's own value (None where
    the sampler does not take it)."""
    own = [own_options(s) for s in samplers]
    return {name: [o.get(name) for o in own] for name in SAMPLER_SETTINGS}


# ------------------------------------------------------------------------------------ reading one value


def read(name: str, raw: Any, columns: int | None = None) -> Any:
    """One setting's value from a control, a link or an API call (text or a number), checked by the
    library's rule and LIMITS. A sampler setting gives a list over the columns (`columns` long) from
    "a,b,c" (empty entries: None) or from one value for every column. Raises SettingError."""
    if name == "samplers":
        return _samplers(raw)
    if name == "target":
        return _target(raw)
    if name == "budget":
        if raw not in BUDGETS:
            raise SettingError(f"budget must be one of {', '.join(BUDGETS)}, got {raw!r}")
        return raw
    if name not in SETTINGS:
        raise SettingError(f"unknown setting {name!r}")
    if name in SAMPLER_SETTINGS:
        parts = raw if isinstance(raw, (list, tuple)) else (raw.split(",") if isinstance(raw, str) else [raw])
        if len(parts) == 1 and columns is not None:
            parts = list(parts) * columns
        if columns is not None and len(parts) != columns:
            raise SettingError(f"{name} needs one value per column ({columns}), got {len(parts)}")
        return [None if p is None or (isinstance(p, str) and not p.strip()) else _one(name, p) for p in parts]
    return _one(name, raw)


def _one(name: str, raw: Any) -> Any:
    setting = SETTINGS[name]
    text = raw.strip() if isinstance(raw, str) else raw
    try:
        value = setting.type(text)
    except (TypeError, ValueError) as exc:
        raise SettingError(f"{name} {exc}") from None
    if setting.choices and value not in setting.choices:
        raise SettingError(f"{name} must be one of {', '.join(setting.choices)}, got {value!r}")
    if name in LIMITS and isinstance(value, (int, float)):
        low, high = LIMITS[name]
        if not low <= value <= high:
            raise SettingError(f"{name} must be in [{low:g}, {high:g}], got {value:g}")
    return value


def _samplers(raw: Any) -> list[str]:
    names = [n.strip() for n in (raw.split(",") if isinstance(raw, str) else raw) if n and n.strip() != NONE]
    if not MIN_COLUMNS <= len(names) <= MAX_COLUMNS:
        raise SettingError(f"samplers: pick {MIN_COLUMNS} to {MAX_COLUMNS} samplers to race (got {len(names)})")
    unknown = [n for n in names if n not in SAMPLERS]
    if unknown:
        raise SettingError(f"samplers: unknown sampler {unknown[0]!r} (known: {', '.join(SAMPLERS.names())})")
    if len(set(names)) != len(names):
        raise SettingError(f"samplers: pick different samplers for the columns (got {', '.join(names)})")
    return names


def _target(raw: Any) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingError(f"target must be a number, got {raw!r}") from None
    if value == 0:
        return None  # 0: no typed target (the library's default rule, at the end of the race)
    low, high = LIMITS["target"]
    if not math.isfinite(value) or not low < value <= high:
        raise SettingError(f"target must be in ({low:g}, {high:g}], got {raw}")
    return value


def check_columns(values: Values) -> None:
    """Each column's sampler options as the sampler itself checks them (e.g. a ratio of 3)."""
    for i, sampler in enumerate(values["samplers"]):
        options = column_options(values, i)
        try:
            make_sampler(sampler, **options)
        except ValueError as exc:
            raise SettingError(f"column {i + 1} ({sampler}): {exc}") from None


def column_options(values: Values, column: int) -> dict[str, Any]:
    """The options column `column`'s sampler is built with: each sampler setting it takes that has a value."""
    sampler = values["samplers"][column]
    accepted = sampler_options(sampler)
    out = {}
    for name in SAMPLER_SETTINGS:
        given = values.get(name) or []
        if name in accepted and column < len(given) and given[column] is not None:
            out[name] = given[column]
    return out


# ------------------------------------------------------------------------------------ values -> a run


def given(values: Mapping[str, Any], base: Values) -> Values:
    """`base` with the values given (None or "" keeps the base value), checked strictly; the budget
    follows the budget given, else the one of `seconds` or `steps` given (both given: an error, as in the
    library). Raises SettingError naming the setting."""
    out = dict(base)
    supplied = {k: v for k, v in values.items() if v is not None and not (isinstance(v, str) and not v.strip())}
    if "samplers" in supplied:
        out["samplers"] = read("samplers", supplied["samplers"])
        out.update(column_defaults(out["samplers"]))
    for name, raw in supplied.items():
        if name in ("samplers", "budget"):
            continue
        if name == "target":
            out["target"] = read("target", raw)
        elif name in SAMPLER_SETTINGS:
            new = read(name, raw, len(out["samplers"]))
            if isinstance(raw, (list, tuple)) or (isinstance(raw, str) and "," in raw):  # one value per column
                for i, (value, sampler) in enumerate(zip(new, out["samplers"])):
                    if value is not None and name not in sampler_options(sampler):
                        raise SettingError(f"{name}: column {i + 1} ({sampler}) takes no {name}")
            out[name] = _merge_columns(out["samplers"], out.get(name), new)
        else:
            out[name] = read(name, raw)
    if "budget" in supplied:
        out["budget"] = read("budget", supplied["budget"])
    else:
        budgets = [b for b in BUDGETS if b in supplied]
        if len(budgets) == 2:
            raise SettingError("give steps or seconds, not both")
        if budgets:
            out["budget"] = budgets[0]
    check_columns(out)
    return out


def _merge_columns(samplers: list[str], current: list[Any] | None, new: list[Any]) -> list[Any]:
    """New per-column values where given, only for the columns whose sampler takes the setting."""
    current = list(current or [None] * len(samplers))
    return [n if n is not None else c for n, c in zip(new, current)]


def run_spec(path: str | Path, modality: str, device: torch.device | str, values: Values) -> RunSpec:
    """The library's run spec for `values` (complete: start from `defaults`): make_spec with every
    setting by its name, then each column's sampler options. Raises SettingError (a ValueError)."""
    budget = values.get("budget", "seconds")
    settings = {
        n: values[n] for n in tab_settings(modality) if n not in SAMPLER_SETTINGS and n not in BUDGETS and n in values
    }
    settings[budget] = values[budget]
    try:
        spec = make_spec(
            path, modality=modality, device=device, samplers=values["samplers"], target=values.get("target"), **settings
        )
        spec.samplers = [
            SamplerSpec(name, {**spec.samplers[i].options, **column_options(values, i)})
            for i, name in enumerate(values["samplers"])
        ]
        for s in spec.samplers:
            s.build()
    except SettingError:
        raise
    except ValueError as exc:
        raise SettingError(str(exc)) from None
    return spec


# ------------------------------------------------------------------------------------ links


@dataclass
class Decoded:
    """A link read onto a tab's defaults: the values to apply and what was wrong with the link."""

    settings: Values
    notices: list[str]


def decode(query: str | Mapping[str, Any], base: Values, presets: Iterable[str] = ()) -> Decoded:
    """Read a query string ("?tab=image&ratio=0.3", or a mapping as Gradio's request gives it) onto
    `base` (a tab's defaults, with "tab" and "preset"). Each invalid value keeps its default and adds a
    notice; unknown keys are reported and ignored. `presets`: the file stems `preset` may name. With
    both `steps` and `seconds`, seconds win."""
    pairs = _pairs(query)
    settings = dict(base)
    notices: list[str] = []
    applied: set[str] = set()
    stems = list(presets)
    if "samplers" in pairs:  # first: the columns decide how many values a sampler setting has
        try:
            settings["samplers"] = read("samplers", pairs["samplers"])
            settings.update(column_defaults(settings["samplers"]))
        except SettingError as exc:
            notices.append(_notice("samplers", pairs["samplers"], exc, base))
    for key, text in pairs.items():
        if key in ("samplers",):
            continue
        if key == PRESET:
            if text in stems:
                settings[PRESET] = text
            else:
                notices.append(
                    f"The link's preset {text!r} does not exist (presets: {', '.join(stems) or 'none'}); "
                    f"using {base.get(PRESET) or 'the default'}."
                )
            continue
        if key == "tab":
            if text in TABS:
                settings["tab"] = text
            else:
                notices.append(
                    f"The link's tab={text!r} is not valid (one of {', '.join(TABS)}); using {base.get('tab')}."
                )
            continue
        if key not in SETTINGS and key != "target":
            notices.append(f"The link's setting {key!r} is unknown and was ignored.")
            continue
        try:
            if key in SAMPLER_SETTINGS:
                new = read(key, text, len(settings["samplers"]))
                merged = _merge_columns(settings["samplers"], settings.get(key), new)
                for i, sampler in enumerate(settings["samplers"]):  # the sampler's own check, column by column
                    if key in sampler_options(sampler) and merged[i] is not None:
                        make_sampler(sampler, **{key: merged[i]})
                settings[key] = [m if key in sampler_options(s) else None for m, s in zip(merged, settings["samplers"])]
            else:
                settings[key] = read(key, text)
            applied.add(key)
        except (SettingError, ValueError) as exc:
            notices.append(_notice(key, text, exc, base))
    budgets = [b for b in BUDGETS if b in applied]
    if len(budgets) == 2:
        notices.append("The link gives both steps and seconds; the race uses seconds.")
    if budgets:
        settings["budget"] = budgets[0]  # "seconds" when both
    return Decoded(settings, notices)


def _notice(key: str, text: str, exc: Exception, base: Values) -> str:
    default = base.get(key)
    fallback = f"using the default {show(default)}" if default not in (None, []) else "ignored"
    reason = str(exc)
    return f"The link's {key}={text!r} is not valid ({reason}); {fallback}."


def encode(values: Mapping[str, Any]) -> str:
    """The query string (without "?") for a tab's values: `tab`, `preset`, `samplers`, every setting
    present (of `seconds` and `steps` only the budget in use; a sampler setting only where a column
    differs from its sampler's own value) and a typed target."""
    out: dict[str, str] = {}
    for key in ("tab", PRESET):
        if values.get(key):
            out[key] = str(values[key])
    samplers = list(values.get("samplers") or [])
    if samplers:
        out["samplers"] = ",".join(samplers)
    own = column_defaults(samplers)
    budget = values.get("budget")
    for key in SETTINGS:
        if key not in values or values[key] is None:
            continue
        if key in BUDGETS and budget in BUDGETS and key != budget:
            continue
        if key in SAMPLER_SETTINGS:
            if list(values[key]) == own[key]:
                continue
            out[key] = ",".join("" if v is None else show(v) for v in values[key])
        else:
            out[key] = show(values[key])
    if values.get("target"):
        out["target"] = show(values["target"])
    return urlencode(out, safe=",")


def _pairs(query: str | Mapping[str, Any]) -> dict[str, str]:
    """query -> {key: last value given}, leading "?" allowed."""
    if isinstance(query, str):
        parsed = parse_qs(query.lstrip("?"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}
    return {str(k): str(v[-1] if isinstance(v, (list, tuple)) else v) for k, v in query.items()}


def show(value: Any) -> str:
    """A value as a link writes it: whole floats without ".0", short floats as typed, lists with commas."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join("" if v is None else show(v) for v in value)
    return str(value)
