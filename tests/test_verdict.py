"""The verdict names the true leader among all columns, calls ties ties, and reads savings against full
batch and random at one target."""
from __future__ import annotations

import pytest
from intcore.runs import default_target
from intcore.verdict import judge

from helpers import run_result


def race_of(**curves: list[tuple[float, float]]):
    return {name: run_result(name, points) for name, points in curves.items()}


def test_random_ahead_at_equal_time_is_named_the_leader_even_when_int_beats_full():
    results = race_of(
        int=[(5.0, 30.0), (10.0, 36.0), (20.0, 40.0)],
        full=[(5.0, 25.0), (10.0, 30.0), (20.0, 34.0)],
        random=[(5.0, 32.0), (10.0, 38.0), (20.0, 42.0)],
    )
    v = judge(results, default_target(results))
    assert v.leaders == ["random"]
    assert v.line().startswith("verdict: at equal training time (20.0 s) random leads with 42.00 dB")
    assert "int 40.00" in v.headline() and "full 34.00" in v.headline()


def test_equal_time_is_the_shortest_clock_and_qualities_are_read_there():
    # full stopped at 10 s (e.g. a stopped race): everyone is compared at 10 s, int interpolated
    results = race_of(int=[(4.0, 30.0), (12.0, 38.0)], full=[(5.0, 25.0), (10.0, 33.0)])
    v = judge(results, None)
    assert v.equal_seconds == 10.0
    assert v.quality_at_equal["int"] == pytest.approx(30.0 + 6 / 8 * 8.0)
    assert v.leaders == ["int"]


def test_a_difference_within_the_tie_band_is_a_tie_and_said_so():
    results = race_of(a=[(10.0, 40.00)], b=[(10.0, 40.05)], c=[(10.0, 39.0)])
    v = judge(results, None)
    assert v.tie and set(v.leaders) == {"a", "b"}
    assert "tie at" in v.headline() and "leads" not in v.headline()


def test_first_to_target_and_both_savings_use_the_same_target():
    results = race_of(
        full=[(10.0, 30.0), (20.0, 35.0)],
        random=[(2.0, 30.0), (4.0, 36.0)],
        int=[(4.0, 30.0), (8.0, 36.0)],
    )
    target = default_target(results)  # full's final: 35.0
    assert target == 35.0
    v = judge(results, target)
    assert v.first_to_target == ["random"]
    t_random = results["random"].seconds_to(35.0)
    t_int = results["int"].seconds_to(35.0)
    assert v.saving_vs_random["int"] == pytest.approx(1 - t_int / t_random, abs=1e-4)
    assert v.saving_vs_full["random"] == pytest.approx(1 - t_random / 20.0, abs=1e-4)
    assert "random first to the target 35.00 dB" in v.headline()


def test_times_to_target_within_five_percent_tie():
    results = race_of(a=[(10.0, 40.0)], b=[(10.3, 40.0)], c=[(20.0, 40.0)])
    v = judge(results, 40.0)
    assert v.first_to_target == ["a", "b"]
    assert "tie for first" in v.headline()


def test_nobody_at_the_target_is_said_plainly():
    v = judge(race_of(a=[(10.0, 30.0)], b=[(10.0, 31.0)]), 50.0)
    assert v.first_to_target == []
    assert "nobody reached the target" in v.headline()


def test_a_stopped_race_is_judged_at_a_target_every_run_had_the_time_to_reach():
    # full trained 20 s, the others were stopped at 5 s: the target is full's quality at 5 s, not at 20 s
    results = {"full": run_result("full", [(5.0, 30.0), (20.0, 36.0)], finished=False),
               "int": run_result("int", [(2.5, 29.0), (5.0, 33.0)], finished=False),
               "random": run_result("random", [(5.0, 31.0)], finished=False)}
    assert default_target(results) == 30.0
    v = judge(results, default_target(results))
    assert v.first_to_target == ["int"] and v.equal_seconds == 5.0


def test_default_target_is_full_batch_final_quality():
    results = race_of(full=[(10.0, 36.0), (20.0, 35.5)], int=[(10.0, 38.0), (20.0, 40.0)])
    assert default_target(results) == 35.5
    assert default_target(race_of(a=[(1.0, 30.0), (2.0, 33.0)], b=[(1.0, 31.0)])) == 31.0


def test_a_run_not_yet_evaluated_at_the_equal_time_is_named_not_dropped():
    # step mode: random trained 0.1 s, int's first evaluation came at 0.3 s
    results = race_of(random=[(0.1, 21.0)], int=[(0.3, 21.4)], full=[(0.05, 15.0), (0.25, 17.0)])
    text = judge(results, None).headline()
    assert "random leads" in text and "int not evaluated by then" in text
