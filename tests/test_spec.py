"""The run spec: one set of names from the command line to the trainer, and a JSON round trip that
reproduces a run."""
from __future__ import annotations

import json

import pytest

from intcore.cli import main
from intcore.spec import SETTINGS, RunSpec, load_spec_file, make_spec


def test_defaults_then_settings_land_where_their_names_say(rgb_png):
    spec = make_spec(rgb_png, device="cpu", samplers=["int", "random"], width=32, hidden_layers=2, first_w0=20,
                     seconds=3, ratio=0.3, max_side=40, seed=5)
    assert spec.model.width == 32 and spec.model.hidden_layers == 2 and spec.model.first_w0 == 20
    assert spec.train.seconds == 3 and spec.train.steps is None and spec.train.seed == 5
    assert spec.signal.options["max_side"] == 40 and spec.signal.modality == "image"
    assert [s.name for s in spec.samplers] == ["int", "random"]
    assert spec.samplers[0].options == {"ratio": 0.3} and spec.samplers[1].options == {"ratio": 0.3}
    assert spec.load_signal().shape == (27, 40)


@pytest.mark.parametrize("settings, needle", [
    ({"grid": 16}, "grid does not apply to image signals"),
    ({"width": 0}, "width must be a positive whole number"),
    ({"ratio": 1.5}, "ratio must be in (0, 1]"),
    ({"depth": 3}, "unknown setting(s): depth"),
    ({"steps": 5, "seconds": 2}, "not both"),
    ({"lr_schedule": "sometimes"}, "lr-schedule must be one of"),
])
def test_bad_settings_name_the_setting(rgb_png, settings, needle):
    with pytest.raises(ValueError) as err:
        make_spec(rgb_png, device="cpu", **settings)
    assert needle in str(err.value)


def test_json_round_trip_is_exact_and_strict(rgb_png):
    spec = make_spec(rgb_png, device="cpu", samplers=["int-official", "full"], steps=7, interval="every-3")
    again = RunSpec.from_json(spec.to_json())
    assert again == spec
    data = spec.to_dict()
    data["model"]["depth"] = 3
    with pytest.raises(ValueError, match="unknown model key"):
        RunSpec.from_dict(data)


def test_every_setting_has_a_cli_flag():
    from intcore.cli import build_parser

    compare = build_parser()._subparsers._group_actions[0].choices["compare"]
    flags = {opt for action in compare._actions for opt in action.option_strings}
    assert {"--" + name.replace("_", "-") for name in SETTINGS} <= flags


def test_compare_config_reproduces_a_run(rgb_png, tmp_path, capsys):
    first = tmp_path / "first"
    assert main(["compare", str(rgb_png), "--samplers", "int,random", "--steps", "12", "--eval-every", "4",
                 "--width", "16", "--hidden-layers", "2", "--device", "cpu", "--quiet", "--out", str(first)]) == 0
    summary = json.loads((first / f"{rgb_png.stem}-summary.json").read_text())
    assert summary["spec"]["model"]["width"] == 16
    second = tmp_path / "second"
    capsys.readouterr()
    assert main(["compare", "--config", str(first / f"{rgb_png.stem}-summary.json"), "--quiet", "--out", str(second)]) == 0
    again = json.loads((second / f"{rgb_png.stem}-summary.json").read_text())
    for name in ("int", "random"):
        assert again["runs"][name]["steps"] == summary["runs"][name]["steps"] == 12
        assert again["runs"][name]["psnr"] == summary["runs"][name]["psnr"]
    assert load_spec_file(second / f"{rgb_png.stem}-summary.json") == load_spec_file(first / f"{rgb_png.stem}-summary.json")
    # An option given with --config changes just that setting.
    third = tmp_path / "third"
    assert main(["compare", "--config", str(first / f"{rgb_png.stem}-summary.json"), "--steps", "4", "--quiet", "--out", str(third)]) == 0
    assert json.loads((third / f"{rgb_png.stem}-summary.json").read_text())["runs"]["int"]["steps"] == 4


def test_a_config_that_is_not_a_spec_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "summary.json"
    bad.write_text('{"spec": {"signal": {}, "model": {}, "train": {}, "samplers": [], "colour": 1}}')
    assert main(["compare", "--config", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown run spec key(s): colour" in err[0]
