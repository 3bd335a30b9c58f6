"""Device choice and the clock that measures training time."""
from __future__ import annotations

import gc
import os
import threading
import time
from typing import Callable

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """"auto" picks cuda, then mps, then cpu; a named device that is not available is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but this machine has no CUDA GPU (try --device auto)")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device 'mps' was asked for but is not available here (try --device auto)")
    return dev


def cpu_threads() -> int:
    """Intra-op threads for training on this CPU: torch's default (one per physical core), less one per
    core already busy by the 1-minute load average, at least 1. On a 2-core machine at load 6, one
    thread ran a 4k-coordinate SIREN step 16x faster than two: OpenMP waits for its slowest worker."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy = round(os.getloadavg()[0]) if hasattr(os, "getloadavg") else 0
    return max(1, min(torch.get_num_threads(), cores - busy))


CAPTURE_LOCK = threading.RLock()
"""held while a CUDA graph is recorded (intcore.graphs) and while the allocator's cache is emptied
(`release_memory`): torch refuses to empty the cache while any thread is recording a graph"""


def release_memory(device: torch.device) -> None:
    """Give the memory of finished runs back to the GPU: collect them (models and optimisers can sit in
    reference cycles), wait for queued kernels, then hand the caching allocator's free blocks back.
    Safe while other threads train, record CUDA graphs included. A no-op off CUDA but the collection."""
    gc.collect()
    if device.type == "cuda" and torch.cuda.is_available():
        with CAPTURE_LOCK, torch.cuda.device(device):
            torch.cuda.synchronize()
            torch.cuda.empty_cache()


def allocated_bytes(device: torch.device) -> tuple[int, int]:
    """(bytes the runs on a CUDA `device` hold, bytes cuBLAS's workspaces held): the workspaces (one per
    handle and stream, kept by torch for the process's life, not a run's memory) are released first.
    (0, 0) off CUDA."""
    if device.type != "cuda" or not torch.cuda.is_available():
        return 0, 0
    gc.collect()
    with CAPTURE_LOCK, torch.cuda.device(device):
        torch.cuda.synchronize()
        raw = torch.cuda.memory_allocated()
        clear = getattr(torch._C, "_cuda_clearCublasWorkspaces", None)
        if clear is not None:
            clear()
        now = torch.cuda.memory_allocated()
    return now, raw - now


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so that a clock read after it covers them (docs/measuring.md)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


class TrainingClock:
    """Accumulates the seconds spent inside training steps only.

    `start()` before a run of steps, `stop()` after it (which synchronises the device first). Evaluation,
    drawing, I/O and time spent suspended between `stop()` and `start()` are not counted.
    """

    def __init__(self, device: torch.device, now: Callable[[], float] = time.perf_counter) -> None:
        self.device = device
        self.now = now
        """the time source (tests inject a fake one)"""
        self.seconds = 0.0
        self._since: float | None = None

    def start(self) -> None:
        self._since = self.now()

    def stop(self) -> float:
        if self._since is not None:
            synchronize(self.device)
            self.seconds += self.now() - self._since
            self._since = None
        return self.seconds

    def estimate(self) -> float:
        """Seconds so far without synchronising: exact on the CPU, a slight underestimate on a GPU
        whose queue has not drained (used only to decide when a time budget is spent)."""
        if self._since is None:
            return self.seconds
        return self.seconds + self.now() - self._since
