"""CUDA graphs for the training step: a small signal's step is many small kernels, each launched by
Python, and on a GPU the launches, not the arithmetic, set its time.

`GraphedLearner` records the learner's whole step for one subset size k (gather the k selected
coordinates, forward, loss, backward, gradient clipping, the Adam update) once as a CUDA graph, and from then on replays
it: one launch instead of a hundred or more. The selection stays outside the graph, in the sampler's
eager code (randperm, top-k): the graph reads the chosen indices from a static buffer that each step
fills. `GraphedScore` does the same for the teacher's no-grad pass over all N coordinates.

The rules a graph needs, and how they are met here:
- fixed shapes and addresses: one graph per distinct k (full batch is its own key), all of one
  learner's graphs in one memory pool; the indices (and a weighting sampler's loss weights) are
  copied into the graph's own buffers;
- the optimiser's state and learning rate on the device: Adam with `capturable=True` and the learning
  rate as a tensor (`make_optimizer`), whose value a schedule changes in place (`set_lr`), never
  a Python float that a graph would freeze at capture;
- no host sync and no allocation outside the pool while recording: autocast's weight cache is off
  inside a capture (a cached bf16 weight from outside the graph would be read after it is freed),
  and capture runs in thread-local mode, so another trainer's thread (the app races in several) may
  allocate and synchronise meanwhile; one capture at a time in the process, and never while the
  allocator's cache is emptied (`intcore.device.CAPTURE_LOCK`: torch asserts that no capture is
  under way when it empties the cache, as every capture's start does);
- state that exists before the capture: the optimiser's moments are created by the trainer's
  warm-up, which then zeroes them in place (`reset_optimizer_state`) instead of replacing them.

A recording that fails (an operation the capture refuses) turns graphs off for the rest of the run
with a warning, and the steps run eagerly; with `strict` (cuda_graphs "on") it is an error instead.

A k is recorded the first time a step asks for it *after* `prepare`, or the second time otherwise
(a k met once, as in a linear ratio schedule that changes k every step, is never worth a capture),
and at most `MAX_GRAPHS` sizes per learner; every other step runs eagerly, with the very same
optimiser, so the numbers are those of an eager run. Recording waits for the device once (a sync that
happens once per k, not per step).
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from typing import Callable, ContextManager, Iterator

import torch

from .device import CAPTURE_LOCK

GRAPH_MODES = ("auto", "on", "off")
"""TrainConfig.cuda_graphs: "auto" (graphs where the device and the step allow them), "on" (the same,
but an error on a device without CUDA), "off" (always eager)"""

MAX_GRAPHS = 16
"""distinct subset sizes recorded per learner; later new sizes run eagerly (an INT schedule of 10
stages needs 10; a linear schedule changes k every step and records none)"""

Key = tuple[int | None, bool] | None
"""a learner graph's key: (the subset size k, or None for the full batch; whether the loss is weighted);
None for the teacher's pass"""


def graphs_wanted(mode: str, device: torch.device, compile_mode: str = "off") -> bool:
    """Whether a trainer on `device` uses CUDA graphs for its steps under `mode` (GRAPH_MODES).

    "off" never; "auto" and "on" on a CUDA device, unless torch.compile's "reduce-overhead" mode
    already records graphs of its own. "on" on any other device is an error (there is nothing to
    record there), so that a benchmark asking for graphs never silently measures without them."""
    if mode not in GRAPH_MODES:
        raise ValueError(f"cuda_graphs must be one of {', '.join(GRAPH_MODES)}, got {mode!r}")
    if mode == "off":
        return False
    if device.type != "cuda":
        if mode == "on":
            raise ValueError(f"cuda_graphs 'on' needs a CUDA device, not {device.type} (use auto or off)")
        return False
    return compile_mode != "reduce-overhead"


def make_optimizer(params: list[torch.nn.Parameter], lr: float, device: torch.device, graphs: bool,
                   betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> torch.optim.Adam:
    """Adam as the trainer uses it: fused on CUDA and the CPU (one kernel for all parameters). With
    `graphs`, also capturable with the learning rate as a device tensor, so a recorded step replays
    with the current rate; eager steps then use the same optimiser (same numbers with or without a
    graph)."""
    fused = device.type in ("cuda", "cpu")
    if not graphs:
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, fused=fused)
    return torch.optim.Adam(params, lr=torch.tensor(lr, dtype=torch.float32, device=device), betas=betas, eps=eps,
                            fused=fused, capturable=True)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every group's learning rate: in place when it is a tensor (a recorded graph reads it from
    there; a fill is one small kernel, no sync), by assignment when it is a float."""
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)
        else:
            group["lr"] = lr


def reset_optimizer_state(optimizer: torch.optim.Optimizer) -> None:
    """Put Adam back to its state before the first step, in place: moments and step counts zeroed
    (what lazy initialisation would create), the tensors themselves kept, so that graphs recorded
    later read and write them."""
    with torch.no_grad():
        for state in optimizer.state.values():
            for value in state.values():
                if isinstance(value, torch.Tensor):
                    value.zero_()


@dataclass
class _Recorded:
    graph: torch.cuda.CUDAGraph
    indices: torch.Tensor | None
    """(k,) int64 static buffer the graph gathers from (None: full batch)"""
    weights: torch.Tensor | None
    """(k,) static buffer of the per-point loss weights (None: equal weights)"""
    loss: torch.Tensor
    """0-d, written by each replay"""
    errors: torch.Tensor | None
    """(k,) per-point errors written by each replay (only when recorded with errors)"""


class _Recorder:
    """One memory pool and capture stream, the graphs by key, and when a key is worth recording."""

    def __init__(self, device: torch.device, max_graphs: int) -> None:
        self.device = device
        self.max_graphs = max_graphs
        self.graphs: dict[Key, _Recorded] = {}
        self.seen: set[Key] = set()
        self.prepared: set[Key] = set()
        self.pool: tuple[int, int] | None = None
        self.stream = capture_stream(device) if device.type == "cuda" else None
        self.replays = 0
        self.disabled: str | None = None
        """why recording stopped for this run (the error of a failed capture); None while it works"""

    def failed(self, exc: Exception, strict: bool, what: str) -> None:
        """A capture failed: raise (strict), or turn recording off for this run with a warning."""
        if strict:
            raise RuntimeError(f"CUDA graph capture of {what} failed (cuda_graphs 'on'): {exc}") from exc
        self.disabled = f"{type(exc).__name__}: {exc}"[:500]
        warnings.warn(f"CUDA graphs off for the rest of this run ({what} could not be recorded: {self.disabled})",
                      RuntimeWarning, stacklevel=3)

    def wants(self, key: Key) -> bool:
        """Record `key` now? Yes if prepared for, or met before, and there is room; marks it seen."""
        if key in self.graphs or self.disabled is not None:
            return False
        ready = key in self.prepared or key in self.seen
        self.seen.add(key)
        return ready and len(self.graphs) < self.max_graphs

    def capture(self) -> tuple[torch.cuda.CUDAGraph, ContextManager[None]]:
        """A new graph and the context that records into it (in this recorder's pool)."""
        graph = torch.cuda.CUDAGraph()

        @contextlib.contextmanager
        def recording() -> Iterator[None]:
            with CAPTURE_LOCK, torch.cuda.graph(graph, pool=self.pool, stream=self.stream,  # type: ignore[arg-type]
                                                capture_error_mode="thread_local"):
                yield

        return graph, recording()

    def keep(self, key: Key, recorded: _Recorded) -> None:
        if self.pool is None:
            self.pool = recorded.graph.pool()
        self.graphs[key] = recorded

    def close(self) -> None:
        """Drop every graph (their pool goes back to the allocator's cache)."""
        for recorded in self.graphs.values():
            recorded.graph.reset()
        self.graphs.clear()
        self.pool = None


class GraphedLearner:
    """The learner's step (gather, forward, loss, backward, `optimizer.step()`) by CUDA graph replay.

    `step(selected)` returns (loss, errors) from a replay, or None when this step must run eagerly
    (its k is met for the first time, or MAX_GRAPHS sizes are already recorded): the caller then runs
    its own eager step. The caller zeroes gradients as it always does; a replay writes the gradients
    into the graph's own buffers before reading them, whatever `.grad` holds.
    """

    def __init__(self, net: Callable[[torch.Tensor], torch.Tensor], optimizer: torch.optim.Optimizer,
                 coords: torch.Tensor, values: torch.Tensor,
                 loss: Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor],
                 error: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None,
                 autocast: Callable[[], ContextManager[None]], clip: Callable[[], None] | None = None,
                 max_graphs: int = MAX_GRAPHS, strict: bool = False) -> None:
        """`net` maps (k, d) coordinates to (k, c) predictions; `loss(pred, values, weights)` is the
        mean loss, weighted per point when `weights` (k,) is given (SelectionContext.weights);
        `error(pred, values)` the per-point errors a sampler observes (None: none is computed);
        `autocast()` opens the forward pass's precision context with its weight cache off; `clip()`
        rescales the gradients before the update (device work only); `strict`: a failed recording is
        an error rather than a warning and eager steps."""
        self.strict = strict
        self.clip = clip
        self.net, self.optimizer = net, optimizer
        self.coords, self.values = coords, values
        self.loss_fn, self.error_fn, self.autocast = loss, error, autocast
        self._recorder = _Recorder(coords.device, max_graphs)

    @property
    def graphs(self) -> int:
        """How many subset sizes are recorded."""
        return len(self._recorder.graphs)

    @property
    def replays(self) -> int:
        """Steps taken by replay so far."""
        return self._recorder.replays

    @property
    def disabled(self) -> str | None:
        """Why graphs were turned off in this run (a failed recording), or None."""
        return self._recorder.disabled

    def prepare(self, selected: torch.Tensor | None, weights: torch.Tensor | None = None) -> None:
        """Record the step for this selection's k now (off the clock, after the warm-up)."""
        key = _key(selected, weights)
        self._recorder.prepared.add(key)
        if self._recorder.wants(key):
            self._try_record(key, selected, weights)

    def step(self, selected: torch.Tensor | None,
             weights: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None] | None:
        """One training step by replay, or None (run it eagerly). The returned tensors belong to the
        graph and are overwritten by its next replay: copy what must outlive the step."""
        key = _key(selected, weights)
        recorded = self._recorder.graphs.get(key)
        if recorded is None:
            if not self._recorder.wants(key):
                return None
            recorded = self._try_record(key, selected, weights)
            if recorded is None:
                return None
        if recorded.indices is not None and selected is not None:  # a graph with indices was recorded with them
            recorded.indices.copy_(selected)
        if recorded.weights is not None and weights is not None:
            recorded.weights.copy_(weights)
        recorded.graph.replay()
        self._recorder.replays += 1
        return recorded.loss, recorded.errors

    def _try_record(self, key: Key, selected: torch.Tensor | None,
                    weights: torch.Tensor | None) -> _Recorded | None:
        try:
            return self._record(key, selected, weights)
        except Exception as exc:  # noqa: BLE001 (any refusal of the capture: the run goes on eagerly)
            self.optimizer.zero_grad(set_to_none=True)  # drop gradients the failed recording allocated
            self._recorder.failed(exc, self.strict, f"the learner's step (k = {key[0] if key else None})")
            return None

    def _record(self, key: Key, selected: torch.Tensor | None, weights: torch.Tensor | None) -> _Recorded:
        indices = None if selected is None else selected.clone()  # the graph's own index buffer
        weight_buffer = None if weights is None else weights.detach().clone()
        # No .grad at the start of the recording: the recorded backward then writes the gradients
        # (into the graph's buffers) instead of adding to whatever a replay finds there.
        self.optimizer.zero_grad(set_to_none=True)
        graph, recording = self._recorder.capture()
        with recording:
            if indices is None:
                x, y = self.coords, self.values
            else:
                x, y = self.coords[indices], self.values[indices]
            with self.autocast():
                pred = self.net(x)
            pred = pred.float()
            loss = self.loss_fn(pred, y, weight_buffer)
            loss.backward()
            errors = None if self.error_fn is None else self.error_fn(pred.detach(), y)
            if self.clip is not None:
                self.clip()
            self.optimizer.step()
        recorded = _Recorded(graph, indices, weight_buffer, loss.detach(), errors)
        self._recorder.keep(key, recorded)
        return recorded

    def close(self) -> None:
        """Release the graphs and their memory pool (the end of a run)."""
        self._recorder.close()


class GraphedScore:
    """The teacher's pass over all N coordinates (no grad) by CUDA graph replay: `score()` returns a
    fresh (N,) tensor of errors; recorded by `prepare` (after the warm-up has run the pass eagerly
    once), or else at the second call."""

    def __init__(self, errors: Callable[[], torch.Tensor], device: torch.device, strict: bool = False) -> None:
        """`errors()` computes the (N,) errors eagerly; it must open its autocast with the cache off."""
        self.errors = errors
        self.strict = strict
        self._recorder = _Recorder(device, max_graphs=1)
        self._out: torch.Tensor | None = None

    def prepare(self) -> None:
        """Record the pass now (off the clock)."""
        self._recorder.prepared.add(None)
        if self._recorder.wants(None):
            self._record()

    def score(self) -> torch.Tensor:
        recorder = self._recorder
        if None not in recorder.graphs and not (recorder.wants(None) and self._record()):
            return self.errors()
        recorder.graphs[None].graph.replay()
        recorder.replays += 1
        assert self._out is not None
        return self._out.clone()  # a sampler may keep it across steps; the next replay overwrites _out

    def _record(self) -> bool:
        """Record the pass; False if the capture failed (then the run goes on eagerly)."""
        try:
            graph, recording = self._recorder.capture()
            with torch.no_grad(), recording:
                self._out = self.errors()
        except Exception as exc:  # noqa: BLE001 (as in GraphedLearner)
            self._recorder.failed(exc, self.strict, "the teacher's pass")
            return False
        self._recorder.keep(None, _Recorded(graph, None, None, self._out, None))
        return True

    @property
    def replays(self) -> int:
        return self._recorder.replays

    @property
    def disabled(self) -> str | None:
        return self._recorder.disabled

    def close(self) -> None:
        self._recorder.close()
        self._out = None


def no_cache_autocast(device_type: str, enabled: bool) -> Callable[[], ContextManager[None]]:
    """A factory of bf16 autocast contexts with the weight-cast cache off (safe inside a capture)."""
    if not enabled:
        return contextlib.nullcontext
    return lambda: torch.autocast(device_type, dtype=torch.bfloat16, cache_enabled=False)


_CAPTURE_STREAMS: dict[torch.device, torch.cuda.Stream] = {}


def capture_stream(device: torch.device) -> torch.cuda.Stream:
    """The one stream every recording on `device` uses (recordings take turns under CAPTURE_LOCK).
    One, not one per learner: cuBLAS keeps a workspace per stream it has run on, for the process's life."""
    with CAPTURE_LOCK:
        if device not in _CAPTURE_STREAMS:
            _CAPTURE_STREAMS[device] = torch.cuda.Stream(device)
        return _CAPTURE_STREAMS[device]


def _key(selected: torch.Tensor | None, weights: torch.Tensor | None) -> Key:
    return (None if selected is None else int(selected.shape[0]), weights is not None)
