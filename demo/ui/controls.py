"""The page's setting controls, made from the library's settings (demo.server.settings): one control per
setting, labelled with the setting's own name and its help text, with the element id
f"{prefix}{name-with-dashes}" (`#hidden-layers`, `#max-side`; a column's: `#sampler-2`, `#ratio-2`).

`Controls` also converts between the controls' values and the app's `Values` both ways, so that Start, a
link and Copy link all speak the settings model's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from intcore.samplers import sampler_options
from intcore.spec import SETTINGS, positive_int, whole_number

from ..server import settings as S


def elem(prefix: str, name: str, column: int | None = None) -> str:
    return f"{prefix}{name.replace('_', '-')}" + ("" if column is None else f"-{column}")


def control(
    name: str,
    value: Any,
    elem_id: str,
    *,
    label: str | None = None,
    info: str | None = None,
    interactive: bool = True,
    **kwargs: Any,
) -> Any:
    """One setting's control: a dropdown where the setting has choices (or the app suggests some), a
    whole-number field for whole-number settings, a number field for the other numbers."""
    setting = SETTINGS[name]
    label = name if label is None else label
    info = setting.help if info is None else (info or None)
    common = dict(label=label, info=info, elem_id=elem_id, interactive=interactive, **kwargs)
    if setting.choices or name in S.SUGGESTIONS:
        choices = list(setting.choices or S.SUGGESTIONS[name])
        shown = None if value is None else S.show(value) if not isinstance(value, str) else value
        if shown is not None and shown not in choices:
            choices.append(shown)
        return gr.Dropdown(choices, value=shown, allow_custom_value=not setting.choices, **common)
    whole = setting.type in (positive_int, whole_number)
    return gr.Number(value, precision=0 if whole else None, **common)


@dataclass
class Controls:
    """Every setting control of one tab, by name (a column's: by (name, column))."""

    modality: str
    prefix: str
    defaults: S.Values
    single: dict[str, Any] = field(default_factory=dict)
    """setting name (and "budget", "target") -> its control"""
    columns: list[dict[str, Any]] = field(default_factory=list)
    """per column: "sampler" and each sampler setting -> its control"""

    def all(self) -> list[Any]:
        return [*self.single.values(), *(c for column in self.columns for c in column.values())]

    # ------------------------------------------------------------ layout

    def layout_columns(self) -> None:
        """The columns' samplers, each with its own sampler options (a row per column)."""
        names = [S.NONE, *S.sampler_names(self.modality)]
        samplers = self.defaults["samplers"]
        for i in range(S.MAX_COLUMNS):
            sampler = samplers[i] if i < len(samplers) else S.NONE
            accepted = sampler_options(sampler) if sampler != S.NONE else []
            row: dict[str, Any] = {}
            with gr.Row(elem_classes=["column-settings"]):
                row["sampler"] = gr.Dropdown(
                    names,
                    value=sampler,
                    label=f"column {i + 1}",
                    elem_id=elem(self.prefix, "sampler", i + 1),
                    min_width=120,
                    scale=3,
                    info=None if i else "its sampler",
                )
                for name in S.SAMPLER_SETTINGS:
                    value = self.defaults[name][i] if i < len(samplers) else None
                    row[name] = control(
                        name,
                        value,
                        elem(self.prefix, name, i + 1),
                        label=name,
                        info=None if i else "",
                        interactive=name in accepted,
                        min_width=70,
                        scale=2,
                    )
            self.columns.append(row)

    def layout_budget(self) -> None:
        d = self.defaults
        with gr.Row():
            self.single["budget"] = gr.Radio(
                list(S.BUDGETS),
                value=d["budget"],
                label="budget per sampler",
                info="which of the two the race uses",
                elem_id=elem(self.prefix, "budget"),
                min_width=150,
            )
            self.single["seconds"] = control("seconds", d["seconds"], elem(self.prefix, "seconds"), min_width=110)
            self.single["steps"] = control("steps", d["steps"], elem(self.prefix, "steps"), min_width=110)
        metric = "IoU" if self.modality == "shape" else "PSNR (dB)"
        self.single["target"] = gr.Number(
            d["target"],
            label="target",
            info=f"a {metric} each column stops at (Algorithm 1's stop rule); empty: no "
            "stop, and the target is full batch's final quality, known when the "
            "race ends",
            elem_id=elem(self.prefix, "target"),
        )

    def layout_rest(self) -> None:
        """Every other setting of the tab, in the library's order, three to a row."""
        names = [n for n in S.tab_settings(self.modality) if n not in S.SAMPLER_SETTINGS and n not in S.BUDGETS]
        for start in range(0, len(names), 3):
            with gr.Row():
                for name in names[start : start + 3]:
                    self.single[name] = control(name, self.defaults[name], elem(self.prefix, name), min_width=120)

    # ------------------------------------------------------------ values both ways

    def values(self, got: dict[Any, Any]) -> dict[str, Any]:
        """The controls' values (as a Gradio handler receives them, by component) -> raw settings for
        `settings.given`: the used columns' samplers and, per sampler setting, one value per used column."""
        raw: dict[str, Any] = {name: got[c] for name, c in self.single.items()}
        used = [row for row in self.columns if got[row["sampler"]] not in (None, S.NONE)]
        raw["samplers"] = [got[row["sampler"]] for row in used]
        for name in S.SAMPLER_SETTINGS:
            raw[name] = [
                _blank(got[row[name]]) if name in sampler_options(got[row["sampler"]]) else None for row in used
            ]
        if raw.get("target") in (None, ""):
            raw["target"] = 0  # an emptied field: no target (0 reads as none; None would keep the default)
        return raw

    def updates(self, values: S.Values) -> dict[Any, Any]:
        """Values -> an update of every control (a link opened, a column's sampler changed)."""
        out: dict[Any, Any] = {}
        for name, c in self.single.items():
            if name in values:
                value = values[name]
                out[c] = (
                    S.show(value)
                    if isinstance(c, gr.Dropdown) and value is not None and not isinstance(value, str)
                    else value
                )
        samplers = values["samplers"]
        for i, row in enumerate(self.columns):
            sampler = samplers[i] if i < len(samplers) else S.NONE
            out[row["sampler"]] = sampler
            out.update(
                self.column_options(
                    i, sampler, {n: values[n][i] if i < len(samplers) else None for n in S.SAMPLER_SETTINGS}
                )
            )
        return out

    def column_options(self, i: int, sampler: str, options: dict[str, Any]) -> dict[Any, Any]:
        """Column i's option controls showing `options` (editable where the sampler takes the setting)."""
        accepted = sampler_options(sampler) if sampler not in (None, S.NONE) else []
        out: dict[Any, Any] = {}
        for name in S.SAMPLER_SETTINGS:
            c = self.columns[i][name]
            value = options.get(name) if name in accepted else None
            if isinstance(c, gr.Dropdown) and value is not None and not isinstance(value, str):
                value = S.show(value)
            out[c] = type(c)(value=value, interactive=name in accepted)
        return out


def _blank(value: Any) -> Any:
    return None if value == "" else value
