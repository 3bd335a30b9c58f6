"""Algorithm 1's stop rule on the command line: --epsilon stops a run once ‖f(x) − f*(x)‖₂ < ε."""
from __future__ import annotations

import json
import math

from intcore.teach import epsilon_for_psnr

from test_cli import TINY, cli


def test_fit_stops_once_the_error_norm_is_below_epsilon(rgb_png, tmp_path):
    n, channels = 48 * 32, 3
    epsilon = epsilon_for_psnr(10.0, n, channels, data_range=2.0)  # reached within a few steps
    r = cli("fit", str(rgb_png), "--steps", "400", "--eval-every", "5", "--epsilon", f"{epsilon:.6f}",
            "--out", str(tmp_path / "o"), *TINY)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["steps"] < 400 and summary["psnr"] >= 10.0 - 1e-3
    assert "PSNR target of 10.00 dB" in r.stderr
    # ‖error‖₂ at the stop is below ε: N·c·MSE < ε², with MSE from the reported PSNR (range 2)
    mse = 4 * 10 ** (-summary["psnr"] / 10)
    assert math.sqrt(n * channels * mse) < epsilon


def test_epsilon_is_refused_with_a_target_or_when_not_positive(rgb_png):
    both = cli("compare", str(rgb_png), "--steps", "5", "--epsilon", "1", "--target", "30", *TINY)
    assert both.returncode == 2 and len(both.stderr.strip().splitlines()) == 1
    zero = cli("fit", str(rgb_png), "--steps", "5", "--epsilon", "0", *TINY)
    assert zero.returncode == 2 and "epsilon" in zero.stderr
