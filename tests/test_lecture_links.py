"""Links: a setup written into a query string comes back the same; bad values fall back with a notice."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from demo.lecture_links import decode, encode

DEFAULTS = {"tab": "image", "preset": "camera", "samplers": ["int", "full", "random"], "ratio": 0.2,
            "schedule": "constant", "interval": "dense", "seed": 0, "seconds": 20.0, "steps": 300,
            "budget": "seconds", "lr": 5e-4, "width": 128, "hidden_layers": 4, "first_w0": 30.0, "w0": 30.0,
            "max_side": 128, "eval_every": 10}
PRESETS = ["camera", "kodim05", "kodim23"]


def test_a_setup_round_trips_through_its_link():
    setup = dict(DEFAULTS, preset="kodim23", samplers=["int", "int-progressive", "random", "full"], ratio=0.3,
                 schedule="linear", interval="every-5", seed=7, steps=150, budget="steps", lr=1e-4, width=64,
                 hidden_layers=3, first_w0=20.0, max_side=96, eval_every=5)
    query = encode(setup)
    fields = parse_qs(query)
    assert fields["samplers"] == ["int,int-progressive,random,full"]
    assert "seconds" not in fields and fields["steps"] == ["150"]  # only the budget in use travels
    back = decode("?" + query, DEFAULTS, PRESETS)
    assert back.notices == []
    for key in setup:
        if key != "seconds":
            assert back.settings[key] == (5 if key == "interval" else setup[key]), key


def test_the_required_keys_have_their_names():
    query = parse_qs(encode(dict(DEFAULTS)))
    assert {"tab", "preset", "samplers", "ratio", "seed", "seconds"} <= set(query)


@pytest.mark.parametrize("key,text", [
    ("ratio", "3"), ("ratio", "0"), ("ratio", "abc"), ("seed", "-1"), ("seed", "1.5"), ("steps", "0"),
    ("seconds", "nan"), ("seconds", "inf"), ("samplers", "int,bogus"), ("samplers", "int"),
    ("samplers", "int,full,random,mix,int-official"), ("samplers", "int,int"), ("schedule", "zigzag"),
    ("interval", "every-0"), ("lr", "-1"), ("width", "100000"), ("max_side", "99999"), ("tab", "video"),
])
def test_an_invalid_value_keeps_the_default_and_says_so(key, text):
    back = decode({key: text, "ratio": "0.25"} if key != "ratio" else {key: text}, DEFAULTS, PRESETS)
    assert back.settings[key] == DEFAULTS[key]
    assert len(back.notices) == 1 and key in back.notices[0] and "default" in back.notices[0]
    if key != "ratio":
        assert back.settings["ratio"] == 0.25  # the valid keys of the same link still apply


def test_unknown_keys_and_presets_are_reported_and_ignored():
    back = decode("preset=nosuch&colour=blue&seed=3", DEFAULTS, PRESETS)
    assert back.settings["preset"] == "camera" and back.settings["seed"] == 3
    assert any("nosuch" in n for n in back.notices) and any("colour" in n for n in back.notices)


def test_the_budget_follows_the_key_the_link_gives():
    assert decode("steps=50", DEFAULTS).settings["budget"] == "steps"
    assert decode("seconds=12", dict(DEFAULTS, budget="steps")).settings["budget"] == "seconds"
    both = decode("steps=50&seconds=12", DEFAULTS)
    assert both.settings["budget"] == "seconds" and both.settings["steps"] == 50
    assert any("both" in n for n in both.notices)
    assert decode("steps=x", DEFAULTS).settings["budget"] == "seconds"
