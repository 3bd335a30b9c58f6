"""Links that restore a setup: every setting of a tab as one key of the page URL's query string.

`encode` writes a tab's settings as a query string; `decode` reads one back onto the tab's defaults.
A value a link cannot carry (a misspelt sampler, a ratio of 3, a 10,000-px working size) is replaced by
that setting's default and reported in a notice, so a bad link still opens a working page. The keys are
the library's own setting names (`ratio`, `hidden_layers`, `first_w0`, `max_side`, ...) plus `tab`,
`preset` (the preset's file stem) and `samplers` (comma-separated, one per column). An uploaded file
cannot travel in a link: a link always names a preset.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import parse_qs, urlencode

from intcore.samplers import RATIO_SCHEDULES, SAMPLERS, parse_interval

TABS = ("image", "audio", "shape")
MIN_COLUMNS, MAX_COLUMNS = 2, 4
"""how many samplers a race shows side by side"""


@dataclass(frozen=True)
class LinkKey:
    """One query-string key: how to read its text and what it means (for the notice)."""

    name: str
    read: Callable[[str], Any]
    means: str


def _number(text: str, *, low: float, high: float, whole: bool = False, low_open: bool = False) -> float | int:
    value = float(text)
    if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
        raise ValueError
    if whole:
        if not value.is_integer():
            raise ValueError
        return int(value)
    return value


def _choice(options: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(options)

    def read(text: str) -> str:
        if text not in allowed:
            raise ValueError
        return text

    return read


def _samplers(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not MIN_COLUMNS <= len(names) <= MAX_COLUMNS or any(n not in SAMPLERS for n in names):
        raise ValueError
    if len(set(names)) != len(names):
        raise ValueError
    return names


def _interval(text: str) -> str | int:
    return parse_interval(text)


# Limits keep a link from someone else from asking this machine for an absurd run.
KEYS: dict[str, LinkKey] = {k.name: k for k in [
    LinkKey("tab", _choice(TABS), "image, audio or shape"),
    LinkKey("samplers", _samplers,
            f"{MIN_COLUMNS} to {MAX_COLUMNS} different samplers, comma-separated, from {', '.join(SAMPLERS)}"),
    LinkKey("ratio", lambda t: _number(t, low=0, high=1, low_open=True), "a fraction in (0, 1]"),
    LinkKey("schedule", _choice(RATIO_SCHEDULES), f"one of {', '.join(RATIO_SCHEDULES)}"),
    LinkKey("interval", _interval, "dense, incremental, every-N or a whole number of steps"),
    LinkKey("seed", lambda t: _number(t, low=0, high=2**31 - 1, whole=True), "a whole number ≥ 0"),
    LinkKey("steps", lambda t: _number(t, low=1, high=100_000, whole=True), "a whole number of steps, 1 to 100000"),
    LinkKey("seconds", lambda t: _number(t, low=0, high=3600, low_open=True), "training seconds, up to 3600"),
    LinkKey("lr", lambda t: _number(t, low=0, high=1, low_open=True), "a learning rate in (0, 1]"),
    LinkKey("width", lambda t: _number(t, low=1, high=1024, whole=True), "neurons per layer, 1 to 1024"),
    LinkKey("hidden_layers", lambda t: _number(t, low=1, high=12, whole=True), "sine layers, 1 to 12"),
    LinkKey("first_w0", lambda t: _number(t, low=0, high=100_000, low_open=True), "a positive frequency factor"),
    LinkKey("w0", lambda t: _number(t, low=0, high=10_000, low_open=True), "a positive frequency factor"),
    LinkKey("eval_every", lambda t: _number(t, low=1, high=10_000, whole=True), "a whole number of steps ≥ 1"),
    LinkKey("target", lambda t: _number(t, low=0, high=1000, low_open=True), "a quality target (dB, or IoU)"),
    # each tab's working size: images max_side, audio max_seconds, shapes grid
    LinkKey("max_side", lambda t: _number(t, low=8, high=4096, whole=True), "pixels on the longer side, 8 to 4096"),
    LinkKey("max_seconds", lambda t: _number(t, low=0, high=60, low_open=True), "seconds of audio, up to 60"),
    LinkKey("grid", lambda t: _number(t, low=8, high=256, whole=True), "grid points per side, 8 to 256"),
]}
PRESET = "preset"
BUDGETS = ("steps", "seconds")


@dataclass
class Decoded:
    """A link read onto a tab's defaults: the settings to apply and what was wrong with the link."""

    settings: dict[str, Any]
    notices: list[str]


def decode(query: str | Mapping[str, Any], defaults: Mapping[str, Any], presets: Iterable[str] = ()) -> Decoded:
    """Read a query string ("?tab=image&ratio=0.3", or a mapping as Gradio's request gives it) onto
    `defaults`. Each invalid value keeps its default and adds a notice; unknown keys are reported and
    ignored. `presets`: the file stems `preset` may name. With both `steps` and `seconds`, seconds win."""
    pairs = _pairs(query)
    settings = dict(defaults)
    notices: list[str] = []
    applied: set[str] = set()
    for key, text in pairs.items():
        if key == PRESET:
            stems = list(presets)
            if text in stems:
                settings[PRESET] = text
            else:
                known = ", ".join(stems) or "none"
                notices.append(f"The link's preset {text!r} does not exist (presets: {known}); "
                               f"using {defaults.get(PRESET, 'the default')!s}.")
            continue
        spec = KEYS.get(key)
        if spec is None:
            notices.append(f"The link's setting {key!r} is unknown and was ignored.")
            continue
        try:
            settings[key] = spec.read(text)
            applied.add(key)
        except (ValueError, TypeError):
            default = defaults.get(key)
            fallback = f"using the default {_show(default)}" if default is not None else "ignored"
            notices.append(f"The link's {key}={text!r} is not valid ({spec.means}); {fallback}.")
    budgets = [b for b in BUDGETS if b in applied]
    if len(budgets) == 2:
        notices.append("The link gives both steps and seconds; the race uses seconds.")
    if budgets:
        settings["budget"] = budgets[-1]  # "seconds" when both
    return Decoded(settings, notices)


def encode(settings: Mapping[str, Any]) -> str:
    """The query string (without "?") for a tab's settings: `tab`, `preset`, `samplers` and every known
    key present; of `steps` and `seconds` only the one `settings["budget"]` names (when given)."""
    budget = settings.get("budget")
    out: dict[str, str] = {}
    for key in ("tab", PRESET, *KEYS):
        if key in out or key not in settings or settings[key] is None:
            continue
        if key in BUDGETS and budget in BUDGETS and key != budget:
            continue
        value = settings[key]
        out[key] = ",".join(value) if isinstance(value, (list, tuple)) else _show(value)
    return urlencode(out, safe=",")


def _pairs(query: str | Mapping[str, Any]) -> dict[str, str]:
    """query -> {key: last value given}, leading "?" allowed."""
    if isinstance(query, str):
        parsed = parse_qs(query.lstrip("?"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}
    return {str(k): str(v[-1] if isinstance(v, (list, tuple)) else v) for k, v in query.items()}


def _show(value: Any) -> str:
    """A setting's value as a link writes it: whole floats without ".0", short floats as typed."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)
