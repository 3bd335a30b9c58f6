"""Running the benchmark's jobs as Ray tasks: one task per (signal, seed), each owning one device.

On CUDA a task asks for `num_gpus=1` (Ray gives it one GPU of its own); on the CPU it asks for
`threads` CPUs and trains with that many torch threads, so tasks never share cores. All samplers of a
job run inside its task, interleaved from the same weights, so the comparison inside a job stays as
fair as in one process; only whole jobs are spread out.

With no address a local Ray is started for this command (`workers` tasks at once, no dashboard, a
small object store: a job's inputs and results are a few kilobytes) and stopped at the end; with an
address (`auto`, `ray://head:10001`, `head:6379`) the command joins that cluster, and the cluster's
resources decide how many tasks run at once. Ray is optional: `pip install -r requirements-ray.txt`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .measure import run_job

INSTALL_HINT = "Ray is not installed; install it with: pip install -r requirements-ray.txt"
OBJECT_STORE_BYTES = 100 * 2**20


class RayMissing(ImportError):
    """`--ray` was asked for and Ray is not installed."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayMissing(INSTALL_HINT) from None
    return ray


def check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast on a HOST:PORT nobody answers at (ray.init would retry for many minutes)."""
    import socket

    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", ray://..., or something for Ray itself to judge
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ValueError(f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc})") from None


class RayRunner:
    """Starts or joins Ray; `run` yields each job's result as it finishes (in finishing order)."""

    def __init__(self, address: str | None, device: str, threads: int, workers: int | None) -> None:
        self.ray = import_ray()
        self.gpu = device.startswith("cuda")
        self.threads = threads
        self.local = address is None
        if self.local:
            import os

            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
            self.workers: int | None = workers or max(1, cores // threads)
            # address="local": always a new instance of our own, even where another Ray is running here.
            self.ray.init(address="local", num_cpus=self.workers * threads, num_gpus=None if self.gpu else 0,
                          include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES, log_to_driver=False,
                          configure_logging=False)
        else:
            # A cluster's workers may not have this checkout: ship the intcore package with the tasks.
            package = str(Path(__file__).resolve().parents[1])
            assert address is not None  # the branch above took "local" and None
            check_reachable(address)
            try:
                self.ray.init(address=address, runtime_env={"py_modules": [package]}, log_to_driver=False,
                              configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ValueError(f"--ray {address}: could not join a Ray cluster there ({reason}); a cluster with "
                                 "token authentication also needs RAY_AUTH_MODE=token and its token here") from None
            self.workers = None
        self._task = self.ray.remote(run_job).options(
            num_cpus=0 if self.gpu else threads, num_gpus=1 if self.gpu else 0, max_retries=0)

    def describe(self) -> str:
        where = "local Ray" if self.local else "Ray cluster"
        each = "1 GPU" if self.gpu else f"{self.threads} CPU thread{'s' if self.threads > 1 else ''}"
        count = f", {self.workers} worker{'s' if self.workers != 1 else ''}" if self.workers else ""
        return f"{where}{count}, {each} per job"

    def run(self, jobs: Iterable[dict[str, Any]], on_submit: Callable[[int], None] | None = None
            ) -> Iterator[dict[str, Any]]:
        pending = {self._task.remote(job, None if self.gpu else self.threads): job for job in jobs}
        if on_submit is not None:
            on_submit(len(pending))
        try:
            while pending:
                ready, _ = self.ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                try:
                    yield self.ray.get(ready[0])
                except Exception as exc:  # noqa: BLE001  (a worker that died: report the job, go on)
                    yield {"id": job["id"], "row": job["row"], "signal": job["signal"], "seed": job["seed"],
                           "spec": job["spec"], "status": "error", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        finally:
            for ref in pending:  # interrupted: stop the jobs in flight (their results are lost, nothing else)
                self.ray.cancel(ref, force=True)

    def close(self) -> None:
        self.ray.shutdown()
