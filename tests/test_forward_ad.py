"""Jacobian-vector products from several threads at once (two sessions racing `nint`, a kernel-view
click during another race) must not trip over torch's process-wide forward-AD state."""
from __future__ import annotations

import threading

import torch

from intcore.models import ModelConfig, build_model
from intcore.samplers.nint import ntk_scores
from intcore.teach import kernel_row, parameters_of


def test_kernel_rows_in_parallel_threads():
    model = build_model(ModelConfig(width=16, hidden_layers=2), 2, 3, seed=0)
    params = parameters_of(model)
    coords = torch.rand(300, 2) * 2 - 1
    expected = kernel_row(model, params, coords[0], coords, chunk=64)
    errors: list[BaseException] = []
    rows: list[torch.Tensor] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(15):
                rows.append(kernel_row(model, params, coords[0], coords, chunk=64))
        except BaseException as exc:  # collected: a failure in a thread must fail the test
            errors.append(exc)

    def nint_scores() -> None:
        try:
            barrier.wait()
            for _ in range(15):
                ntk_scores(model, coords, torch.zeros(300, 3), "image", chunk=64)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)] + [threading.Thread(target=nint_scores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert len(rows) == 45 and all(torch.allclose(r, expected) for r in rows)
