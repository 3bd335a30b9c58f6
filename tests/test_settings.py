"""The app's settings model (demo.server.settings): the library's settings by their own names, links that
restore a setup, each column at its own sampler options, and validation by the library's own rules."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from demo.server import settings as S
from intcore.spec import SETTINGS

PRESETS = ["camera", "kodim05", "kodim23"]


@pytest.fixture
def base():
    return {**S.defaults("image", "cpu"), "tab": "image", "preset": "camera"}


def test_every_tab_offers_the_librarys_settings_by_their_names():
    for modality, size in (("image", "max_side"), ("audio", "max_seconds"), ("shape", "grid")):
        names = S.tab_settings(modality)
        assert size in names and S.size_setting(modality) == size
        assert {"hidden_layers", "first_w0", "width", "lr", "seconds", "steps", "ratio", "seed"} <= set(names)
        assert set(names) <= set(SETTINGS)  # nothing the library does not know
        others = {"max_side", "max_seconds", "grid"} - {size}
        assert not others & set(names)


def test_the_default_race_runs_each_column_at_its_own_samplers_options(base):
    assert base["samplers"] == [s for s in S.RACE_COLUMNS if s in S.sampler_names("image")]
    for i, sampler in enumerate(base["samplers"]):
        own = S.own_options(sampler)
        assert base["ratio"][i] == own.get("ratio")  # full batch takes no ratio: None


def test_a_setup_round_trips_through_its_link(base):
    setup = dict(base, preset="kodim23", samplers=["int", "int-pool", "random", "full"], seed=7, steps=150,
                 budget="steps", lr=1e-4, width=64, hidden_layers=3, first_w0=20.0, max_side=96, eval_every=5)
    setup.update(S.column_defaults(setup["samplers"]))
    setup["ratio"] = [0.3, 0.05, 0.25, None]
    setup["schedule"] = ["linear", None, None, None]
    query = S.encode(setup)
    fields = parse_qs(query)
    assert fields["samplers"] == ["int,int-pool,random,full"]
    assert fields["ratio"] == ["0.3,0.05,0.25,"]  # one per column; full batch takes none
    assert "seconds" not in fields and fields["steps"] == ["150"]  # only the budget in use travels
    back = S.decode("?" + query, base, PRESETS)
    assert back.notices == []
    for key in setup:
        if key != "seconds":
            assert back.settings[key] == setup[key], key


def test_an_old_link_with_one_ratio_sets_every_column_that_takes_one(base):
    back = S.decode("samplers=int,full,random&ratio=0.3", base, PRESETS)
    assert back.notices == [] and back.settings["ratio"] == [0.3, None, 0.3]


@pytest.mark.parametrize("key,text", [
    ("ratio", "3"), ("ratio", "0"), ("ratio", "abc"), ("seed", "-1"), ("seed", "1.5"), ("steps", "0"),
    ("seconds", "nan"), ("seconds", "inf"), ("samplers", "int,bogus"), ("samplers", "int"),
    ("samplers", "int,full,random,mix,int-official"), ("samplers", "int,int"), ("interval", "every-0"),
    ("lr", "-1"), ("width", "100000"), ("max_side", "99999"), ("tab", "video"), ("precision", "fp8"),
    ("hidden_layers", "two"),
])
def test_an_invalid_value_keeps_the_default_and_says_so(base, key, text):
    back = S.decode({key: text, "seed": "5"} if key != "seed" else {key: text}, base, PRESETS)
    assert back.settings[key] == base[key]
    assert len(back.notices) == 1 and key in back.notices[0] and "not valid" in back.notices[0]
    if key != "seed":
        assert back.settings["seed"] == 5  # the valid keys of the same link still apply


def test_unknown_keys_and_presets_are_reported_and_ignored(base):
    back = S.decode("preset=nosuch&colour=blue&seed=3", base, PRESETS)
    assert back.settings["preset"] == "camera" and back.settings["seed"] == 3
    assert any("nosuch" in n for n in back.notices) and any("colour" in n for n in back.notices)


def test_the_budget_follows_the_key_the_link_gives(base):
    assert S.decode("steps=50", base).settings["budget"] == "steps"
    assert S.decode("seconds=12", dict(base, budget="steps")).settings["budget"] == "seconds"
    both = S.decode("steps=50&seconds=12", base)
    assert both.settings["budget"] == "seconds" and both.settings["steps"] == 50
    assert any("both" in n for n in both.notices)
    assert S.decode("steps=x", base).settings["budget"] == "seconds"


def test_given_values_become_the_librarys_run_spec_with_each_columns_options(base, tmp_path):
    values = S.given({"samplers": "int,full,int-pool", "ratio": "0.3,,0.05", "steps": 50, "hidden_layers": 2}, base)
    spec = S.run_spec("assets/images/camera.png", "image", "cpu", values)
    assert spec.names == ["int", "full", "int-pool"] and spec.train.steps == 50 and spec.train.seconds is None
    assert spec.model.hidden_layers == 2 and spec.signal.options == {"max_side": 128}
    assert [s.options.get("ratio") for s in spec.samplers] == [0.3, None, 0.05]


@pytest.mark.parametrize("raw,word", [
    ({"hidden_layers": 0}, "hidden_layers"), ({"samplers": "int,int"}, "different"), ({"steps": 5, "seconds": 2}, "not both"),
    ({"ratio": "0.2,,3"}, "ratio"), ({"ratio": "0.2,0.5,0.2"}, "takes no ratio"), ({"width": 5000}, "width"), ({"compile": "turbo"}, "compile"),
    ({"target": -3}, "target"),
])
def test_bad_values_are_errors_that_name_the_setting(base, raw, word):
    with pytest.raises(S.SettingError, match=word):
        values = S.given({"samplers": "int,full,random", **raw}, base)
        S.run_spec("assets/images/camera.png", "image", "cpu", values)


def test_a_target_is_a_typed_number_or_none():
    assert S.read("target", "") is None and S.read("target", 0) is None and S.read("target", "31.5") == 31.5


def test_a_shapes_default_target_is_every_point_right_and_can_be_cleared():
    base = S.defaults("shape", "cpu")
    assert base["target"] == 1.0 and S.defaults("image", "cpu")["target"] is None
    assert S.given({"target": 0}, base)["target"] is None  # cleared: no target
    assert S.given({}, base)["target"] == 1.0
