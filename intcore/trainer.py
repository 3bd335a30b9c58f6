"""The fitting loop (Alg. 1 of the INT paper): teacher selects, learner steps, progress leaves as Snapshots.

The trainer knows nothing about the UI or the CLI. It is a generator: `for snap in trainer.run(): ...`.
Work that only a viewer needs (copying the selection to the host, reconstructions) happens at
evaluation points only, and only when asked for.
"""
from __future__ import annotations

import contextlib
import copy
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterator, cast

import numpy as np
import torch

from .device import CAPTURE_LOCK, TrainingClock, resolve_device, synchronize
from .graphs import (GRAPH_MODES, GraphedLearner, GraphedScore, graphs_wanted, make_optimizer, no_cache_autocast,
                     reset_optimizer_state, set_lr)
from .lr_schedules import LR_SCHEDULE_RULES, lr_factor
from .modalities import Modality, get_modality
from .models import ModelConfig, build_model
from .samplers import SelectionContext, Sampler, weighted_loss
from .signals import Signal


@dataclass
class TrainConfig:
    """How long and how to train, and how often to look."""

    steps: int | None = 300
    """step budget (ignored when `seconds` is set)"""
    seconds: float | None = None
    """training-time budget in seconds (only the training steps count: docs/measuring.md)"""
    lr: float = 1e-4
    lr_schedule: str = "constant"
    """"constant", "cosine" (decay to lr_min_factor·lr over the budget) or "late-cosine" (the full lr for the
    first half, then that decay): intcore.lr_schedules"""
    lr_min_factor: float = 0.1
    adam_beta2: float = 0.999
    """Adam's second-moment decay β2 (lower: the step size follows a change in the gradients' scale sooner)"""
    adam_eps: float = 1e-8
    """Adam's ε in θ −= lr·m / (√v + ε): where the gradients are far smaller than ε (near convergence) the
    steps shrink with them instead of staying lr-sized"""
    grad_clip: float = 0.0
    """clip the gradient's global L2 norm to at most this before every Adam step (0: no clipping)"""
    grad_clip_factor: float = 0.0
    """clip the gradient's global L2 norm to at most this multiple of its running mean (an exponential
    average over ~100 steps of the norms after clipping), so a sudden growth of the gradient, the start of
    Adam's feedback loop near convergence, is cut at any signal's scale (0: off)"""
    eval_every: int = 10
    """evaluate on the full signal every this many steps (and at the end); not counted as training time"""
    recon_every: int = 0
    """attach a reconstruction every this many steps (0: only to the final snapshot)"""
    record_selection: bool = False
    """attach the indices selected at each evaluated step (for viewers; costs a device->host copy)"""
    seed: int = 0
    """initial weights and the samplers' random draws"""
    device: str = "auto"
    chunk: int = 1 << 18
    """coordinates per forward pass when scoring or evaluating the full signal (bounds memory)"""
    micro_batch: int | None = None
    """coordinates per forward/backward in the learner step: a larger batch (full batch on a megapixel
    signal, a large INT subset) is split and its gradients accumulated, weighted so that the update is
    the one of the mean loss over all k (bounds activation memory; no effect when k <= micro_batch).
    None: 32768 on the CPU (2.4× less CPU time than 262144 on a 250k-pixel full batch: the activations
    stay in cache), 262144 on a GPU"""
    precision: str = "fp32"
    """"fp32", or "bf16": autocast the teacher's and learner's forward passes to bfloat16 (weights, Adam,
    losses and the evaluation stay fp32). Opt-in only where the benchmark shows PSNR parity: lower
    precision cost 0.7 dB with TF32 on a 5×256 SIREN in our GPU reference run"""
    teacher_precision: str = "fp32"
    """"fp32", or "bf16": run only the teacher's scoring pass (the errors a sampler ranks) under bf16
    autocast; the learner's step stays in `precision`. A ranking needs less precision than a gradient"""
    compile: str = "off"
    """"off" (eager), or a torch.compile mode for the model: "default", "max-autotune-no-cudagraphs", or
    "reduce-overhead" (CUDA graphs: one graph per distinct k, so INT schedules re-record at stage changes)"""
    cuda_graphs: str = "auto"
    """"auto": on a CUDA device, record the learner's step (one graph per subset size k) and the teacher's
    pass as CUDA graphs and replay them, the same numbers with one launch instead of a hundred
    (intcore.graphs; steps that cannot be recorded run eagerly); "on": the same, an error without CUDA;
    "off": always eager"""

    def __post_init__(self) -> None:
        if self.seconds is None and (self.steps is None or self.steps < 1):
            raise ValueError("give a positive number of steps or a time budget in seconds")
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError(f"the time budget must be positive, got {self.seconds} s")
        if self.lr <= 0:
            raise ValueError(f"learning rate must be positive, got {self.lr}")
        if self.lr_schedule not in LR_SCHEDULE_RULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULE_RULES)}, got {self.lr_schedule!r}")
        if not 0.0 < self.adam_beta2 < 1.0:
            raise ValueError(f"adam_beta2 must be in (0, 1), got {self.adam_beta2}")
        if not self.adam_eps > 0:
            raise ValueError(f"adam_eps must be positive, got {self.adam_eps}")
        if not self.grad_clip >= 0:
            raise ValueError(f"grad_clip must be ≥ 0 (0: no clipping), got {self.grad_clip}")
        if not self.grad_clip_factor >= 0:
            raise ValueError(f"grad_clip_factor must be ≥ 0 (0: off), got {self.grad_clip_factor}")
        if self.eval_every < 1:
            raise ValueError(f"eval_every must be at least 1, got {self.eval_every}")
        if self.chunk < 1 or (self.micro_batch is not None and self.micro_batch < 1):
            raise ValueError(f"chunk and micro_batch must be positive, got {self.chunk} and {self.micro_batch}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.teacher_precision not in PRECISIONS:
            raise ValueError(f"teacher_precision must be one of {', '.join(PRECISIONS)}, got {self.teacher_precision!r}")
        if self.compile not in COMPILE_MODES:
            raise ValueError(f"compile must be one of {', '.join(COMPILE_MODES)}, got {self.compile!r}")
        if self.cuda_graphs not in GRAPH_MODES:
            raise ValueError(f"cuda_graphs must be one of {', '.join(GRAPH_MODES)}, got {self.cuda_graphs!r}")


PRECISIONS = ("fp32", "bf16")
GRAD_NORM_DECAY = 0.99
"""the running mean of the gradient norm that grad_clip_factor scales: an exponential average, ~100 steps"""
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune-no-cudagraphs")


@dataclass
class Snapshot:
    """The state of one run at an evaluation point."""

    method: str
    step: int
    train_seconds: float
    loss: float
    quality: float
    """PSNR in dB (images, audio) or IoU in [0, 1] (shapes) on the full signal at the current weights"""
    best_quality: float
    metric: str
    ratio: float
    """fraction of N trained on in this step"""
    progress: float
    done: bool = False
    selected: np.ndarray | None = None
    """(k,) int64 indices of this step's training coordinates; None for full batch or when not recorded"""
    reconstruction: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The plain numbers, for CSV and JSON."""
        return {
            "method": self.method,
            "step": self.step,
            "train_seconds": round(self.train_seconds, 6),
            "loss": self.loss,
            self.metric: self.quality,
            f"best_{self.metric}": self.best_quality,
            "ratio": round(self.ratio, 6),
        }


def micro_batch_rows(config: TrainConfig, device: torch.device) -> int:
    """The most coordinates one forward/backward of the learner takes: `config.micro_batch`, else 32,768
    on a CPU and 262,144 on a GPU."""
    return config.micro_batch or (1 << 15 if device.type == "cpu" else 1 << 18)


class Trainer:
    """Fits one model to one signal with one sampler. Same seed ⇒ same initial weights for every sampler."""

    def __init__(
        self,
        signal: Signal,
        sampler: Sampler,
        model: ModelConfig | None = None,
        config: TrainConfig | None = None,
        method: str | None = None,
        stop_event: threading.Event | None = None,
        pause_event: threading.Event | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.signal = signal
        self.sampler = sampler
        self.modality: Modality = get_modality(signal.modality)
        self.model_config = model or ModelConfig(**type(self.modality).default_model)
        self.config = config or TrainConfig()
        self.method = method or sampler.name
        self.device = resolve_device(self.config.device)
        self.stop_event = stop_event or threading.Event()
        self.pause_event = pause_event or threading.Event()
        self.clock_source = clock
        """what the training clock reads (time.perf_counter; tests inject a fake clock)"""
        if "bf16" in (self.config.precision, self.config.teacher_precision) and self.device.type not in ("cuda", "cpu"):
            raise ValueError(f"bf16 needs a cuda or cpu device, not {self.device.type}")
        self.graphs = graphs_wanted(self.config.cuda_graphs, self.device, self.config.compile)
        """whether this run records and replays CUDA graphs (TrainConfig.cuda_graphs)"""
        self._learner: GraphedLearner | None = None
        self._scorer: GraphedScore | None = None
        self._graph_stats: dict[str, Any] = {"graphs": 0, "replays": 0, "score_replays": 0, "disabled": None}
        self.model: torch.nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self._grad_norm_mean = torch.zeros((), device=self.device)  # grad_clip_factor's running mean
        self._net: Any = None  # self.model, or its torch.compile wrapper (config.compile)
        self._step_permits = threading.Semaphore(0)  # steps granted while paused (request_steps)
        self.waiting = threading.Event()
        """set while the run waits in a pause (its last snapshot is where it stands)"""

    # Control from another thread: each takes effect before the next step.
    def stop(self) -> None:
        self.stop_event.set()

    def pause(self) -> None:
        self.pause_event.set()

    def resume(self) -> None:
        self.pause_event.clear()

    def request_steps(self, n: int = 1) -> None:
        """Step mode: while paused, let exactly n more training steps run, each followed by a Snapshot;
        then the run waits again. Requests still unused when the run resumes are dropped."""
        if n < 1:
            raise ValueError(f"request at least one step, got {n}")
        self._step_permits.release(n)

    def _wait_while_paused(self) -> bool:
        """Block while paused. True: one requested step may run now; False: resumed or stopped."""
        self.waiting.set()
        try:
            while self.pause_event.is_set() and not self.stop_event.is_set():
                if self._step_permits.acquire(timeout=0.05):
                    return True
            while self._step_permits.acquire(blocking=False):  # resumed: forget unused step requests
                pass
            return False
        finally:
            self.waiting.clear()

    @torch.no_grad()
    def predict(self, coords: torch.Tensor) -> torch.Tensor:
        """Model output at all coords, in chunks of `config.chunk` to bound memory: (N, c)."""
        assert self.model is not None
        chunk = self.config.chunk
        if coords.shape[0] <= chunk:
            return self.model(coords)
        # Written into one preallocated (N, c) tensor: no list of chunks + cat (2× the memory), and no
        # long-lived small blocks between the chunks' freed activations (heap fragmentation on the CPU).
        out = torch.empty(coords.shape[0], self.signal.out_features, device=coords.device)
        for start in range(0, coords.shape[0], chunk):
            out[start:start + chunk] = self.model(coords[start:start + chunk])
        return out

    def _autocast(self, precision: str | None = None) -> torch.autocast:
        """bf16 autocast around a forward pass when `precision` (default config.precision) is "bf16"
        (a no-op for fp32). With CUDA graphs its weight cache is off in every step, recorded or not: a
        graph must not read a cast made outside it, and a compiled model must see one autocast state."""
        precision = precision or self.config.precision
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=precision == "bf16",
                              cache_enabled=not self.graphs)

    @property
    def graph_stats(self) -> dict[str, Any]:
        """CUDA graphs of the latest run: subset sizes recorded, learner steps and teacher passes
        replayed, and why recording was turned off mid-run (None: it was not)."""
        stats = dict(self._graph_stats)
        if self._learner is not None:
            stats.update(graphs=self._learner.graphs, replays=self._learner.replays)
            stats["disabled"] = self._learner.disabled
        if self._scorer is not None:
            stats["score_replays"] = self._scorer.replays
            stats["disabled"] = stats["disabled"] or self._scorer.disabled
        return stats

    @torch.no_grad()
    def _errors(self, coords: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Teacher's pass: |f(x_i) − f*(x_i)| for all N, chunked; the caller's top-k over the
        concatenated errors is global across chunks: (N,)."""
        chunk = self.config.chunk
        teacher = "bf16" if "bf16" in (self.config.precision, self.config.teacher_precision) else "fp32"
        with self._autocast(teacher):
            if coords.shape[0] <= chunk:
                return self.modality.error(self._net(coords).float(), values)
            errors = torch.empty(coords.shape[0], device=coords.device)  # (N,), filled chunk by chunk
            for start in range(0, coords.shape[0], chunk):
                part = slice(start, start + chunk)
                errors[part] = self.modality.error(self._net(coords[part]).float(), values[part])
            return errors

    def _learn(self, coords: torch.Tensor, values: torch.Tensor, selected: torch.Tensor | None,
               weights: torch.Tensor | None = None) -> torch.Tensor:
        """Learner's forward + backward of the mean loss over the k training coordinates (all N when
        `selected` is None), in micro-batches of at most config.micro_batch. Gradients accumulate in
        .grad; returns the loss as a 0-d tensor on the device (no host sync). With `weights` (k,) (set by
        the sampler in its SelectionContext) the loss is mean_j(weights_j · loss_j). A sampler that
        `observes` is handed the k points' errors from these same predictions (Sampler.observe)."""
        k = coords.shape[0] if selected is None else selected.shape[0]
        mb = self._micro_batch()
        observes = self.sampler.observes
        if k <= mb:  # one pass: (k, d) -> (k, c)
            x, y = (coords, values) if selected is None else (coords[selected], values[selected])
            with self._autocast():
                pred = self._net(x)
            loss = self._loss(pred.float(), y, weights)
            loss.backward()
            if observes:
                self.sampler.observe(selected, self.modality.error(pred.detach().float(), y))
            return loss.detach()
        # mean over k = Σ_j (k_j / k) · (mean over micro-batch j): the same gradient as one pass.
        total = torch.zeros((), device=coords.device)
        observed = torch.empty(k, device=coords.device) if observes else None  # (k,) errors, filled per part
        for start in range(0, k, mb):
            part = slice(start, min(start + mb, k))
            if selected is None:
                x, y = coords[part], values[part]  # views, no copy
            else:
                idx = selected[part]
                x, y = coords[idx], values[idx]
            with self._autocast():
                pred = self._net(x)
            loss = self._loss(pred.float(), y, None if weights is None else weights[part]) * (x.shape[0] / k)
            loss.backward()
            total += loss.detach()
            if observed is not None:
                observed[part] = self.modality.error(pred.detach().float(), y)
        if observed is not None:
            self.sampler.observe(selected, observed)
        return total

    def _clips(self) -> bool:
        """Whether a step rescales its gradients (grad_clip or grad_clip_factor)."""
        return self.config.grad_clip > 0 or self.config.grad_clip_factor > 0

    def _clip(self) -> None:
        """Scale the gradients so their global L2 norm is at most config.grad_clip and at most
        config.grad_clip_factor × its running mean; all on the device (no norm is read on the host)."""
        cfg = self.config
        if cfg.grad_clip <= 0 and cfg.grad_clip_factor <= 0:
            return
        assert self.model is not None
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip, foreach=True)
        if cfg.grad_clip_factor > 0:
            mean = self._grad_norm_mean  # 0-d; 0 until the first step
            norm = torch.nn.utils.get_total_norm(grads, foreach=True)
            limit = torch.where(mean > 0, cfg.grad_clip_factor * mean, norm)
            torch._foreach_mul_(grads, (limit / (norm + 1e-12)).clamp(max=1.0))
            kept = torch.minimum(norm, limit)
            mean.copy_(torch.where(mean > 0, GRAD_NORM_DECAY * mean + (1 - GRAD_NORM_DECAY) * kept, kept))

    def _loss(self, pred: torch.Tensor, values: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
        return self.modality.loss(pred, values) if weights is None else weighted_loss(self.modality.loss, pred, values, weights)

    def _context(self, step: int, progress: float, coords: torch.Tensor, values: torch.Tensor,
                 generator: torch.Generator) -> SelectionContext:
        """What the sampler may look at for step `step` (see SelectionContext)."""
        score = self._scorer.score if self._scorer is not None else lambda: self._errors(coords, values)
        return SelectionContext(step=step, progress=progress, n=coords.shape[0], score=score,
                                generator=generator, device=self.device, coords=coords, values=values,
                                grid_shape=tuple(self.signal.shape), modality=self.signal.modality, model=self.model,
                                score_at=lambda idx: self._errors(coords[idx], values[idx]))

    def _warm_up(self, coords: torch.Tensor, values: torch.Tensor, generator: torch.Generator,
                 optimizer: torch.optim.Optimizer) -> None:
        """One untimed step before the clock starts, for every run: lazy initialisation (allocator
        pools, kernel selection, fused Adam's state, torch.compile's tracing) would otherwise land on the
        first sampler's clock only. Then the weights, the optimiser, the sampler and the random stream are
        put back, so the run is the one it would have been. (Later recompiles, at new k, count.)"""
        assert self.model is not None
        weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        optimizer_state = None if self.graphs else copy.deepcopy(optimizer.state_dict())
        ctx = self._context(0, 0.0, coords, values, generator)
        selected = self.sampler.select(ctx)
        self._learn(coords, values, selected, ctx.weights)
        self._clip()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        self.model.load_state_dict(weights)  # copies into the same tensors
        self._grad_norm_mean.zero_()
        if optimizer_state is None:
            # Graphs read and write the optimiser's own state tensors: zero them in place (the state
            # before the first step) rather than replace them.
            reset_optimizer_state(optimizer)
            # Record step 0's graphs now, off the clock (the eager step above did the lazy set-up).
            if self._scorer is not None:
                self._scorer.prepare()
            if self._learner is not None and self._single_pass(selected, coords):
                self._learner.prepare(selected, ctx.weights)
        else:
            optimizer.load_state_dict(optimizer_state)
        self.sampler.reset()
        generator.manual_seed(self.config.seed)
        synchronize(self.device)

    def _exclusive(self) -> Any:
        """With CUDA graphs, a step's device work, an evaluation and a clock's sync hold the device's
        CAPTURE_LOCK, which a recording holds too: while one run records a graph, no other run in the
        process launches or waits on work (CUDA refuses both during a capture). A no-op without graphs."""
        return CAPTURE_LOCK if self.graphs else contextlib.nullcontext()

    def _micro_batch(self) -> int:
        return micro_batch_rows(self.config, self.device)

    def _single_pass(self, selected: torch.Tensor | None, coords: torch.Tensor) -> bool:
        """Whether the learner's step for this selection is one forward/backward (no micro-batches)."""
        return (coords.shape[0] if selected is None else selected.shape[0]) <= self._micro_batch()

    def _make_graphs(self, coords: torch.Tensor, values: torch.Tensor) -> None:
        """The graphed learner (and teacher's pass, for a sampler that scores) of this run."""
        assert self.optimizer is not None
        autocast = no_cache_autocast(self.device.type, self.config.precision == "bf16")
        strict = self.config.cuda_graphs == "on"
        self._learner = GraphedLearner(self._net, self.optimizer, coords, values, self._loss,
                                       self.modality.error if self.sampler.observes else None, autocast,
                                       clip=self._clip if self._clips() else None, strict=strict)
        if self.sampler.uses_errors:
            self._scorer = GraphedScore(lambda: self._errors(coords, values), self.device, strict=strict)

    def _close_graphs(self) -> None:
        self._graph_stats = self.graph_stats
        for part in (self._learner, self._scorer):
            if part is not None:
                part.close()
        self._learner = self._scorer = None

    def run(self) -> Generator[Snapshot, None, None]:
        """Train to the end of the budget (or a stop), yielding a Snapshot at every evaluation point and
        a last one with done=True."""
        try:
            yield from self._run()
        finally:
            self._close_graphs()  # also when the caller stops iterating (a closed generator)

    def _run(self) -> Iterator[Snapshot]:
        cfg, dev, signal = self.config, self.device, self.signal
        coords = signal.coords.to(dev)  # (N, d)
        values = signal.values.to(dev)  # (N, c)
        n = signal.n
        self.model = model = build_model(self.model_config, signal.in_features, signal.out_features, cfg.seed).to(dev)
        # dynamic=True: one graph for every k, so INT's schedule changing k never recompiles on the clock.
        self._net = model if cfg.compile == "off" else torch.compile(model, mode=cfg.compile, dynamic=True)
        graphs = cfg.compile == "reduce-overhead" and dev.type == "cuda"
        # Fused Adam: one kernel for all parameters (CUDA), 3× less optimiser time on the CPU preset.
        self.optimizer = optimizer = make_optimizer(list(model.parameters()), cfg.lr, dev, self.graphs,
                                                    betas=(0.9, cfg.adam_beta2), eps=cfg.adam_eps)
        self._graph_stats = {"graphs": 0, "replays": 0, "score_replays": 0, "disabled": None}
        if self.graphs:
            self._make_graphs(coords, values)
        generator = torch.Generator(device=dev).manual_seed(cfg.seed)
        self.sampler.reset()
        clock = TrainingClock(dev, now=self.clock_source)
        best = -math.inf
        step = 0
        loss = torch.zeros((), device=dev)
        ratio = 1.0
        selected: torch.Tensor | None = None
        shown = 0  # the step of the latest snapshot
        single = False  # the current step was requested in step mode

        def progress() -> float:
            if cfg.seconds is not None:
                return min(clock.estimate() / cfg.seconds, 1.0)
            return step / cast(int, cfg.steps)  # a TrainConfig has a step budget when it has no seconds

        def evaluate(done: bool, stepped: bool = False) -> Snapshot:
            with self._exclusive():
                return look(done, stepped)

        def stop_clock() -> None:
            with self._exclusive():
                clock.stop()

        def look(done: bool, stepped: bool) -> Snapshot:
            nonlocal best, shown
            shown = step
            pred = self.predict(coords)
            quality = float(self.modality.quality(pred, signal, values))
            best = max(best, quality)
            # Off the evaluation schedule (a pause, a requested step) a viewer wants the picture too.
            off_schedule = step % cfg.eval_every != 0
            want_recon = done or (cfg.recon_every > 0 and (step % cfg.recon_every == 0 or off_schedule))
            return Snapshot(
                method=self.method,
                step=step,
                train_seconds=clock.seconds,
                loss=float(loss.detach()),
                quality=quality,
                best_quality=best,
                metric=self.modality.metric,
                ratio=ratio,
                progress=progress(),
                done=done,
                selected=selected.cpu().numpy() if cfg.record_selection and selected is not None else None,
                reconstruction=self.modality.reconstruct(pred, signal) if want_recon else None,
                extra={"stepped": True} if stepped else {},
            )

        with self._exclusive():
            self._warm_up(coords, values, generator, optimizer)
        clock.start()
        while not self.stop_event.is_set():
            single = False
            if self.pause_event.is_set():
                stop_clock()
                if step > shown:  # show where the pause caught the run
                    yield evaluate(done=False)
                single = self._wait_while_paused()
                clock.start()
                if not single:
                    continue
            p = progress()
            if p >= 1.0:
                break
            if graphs:
                torch.compiler.cudagraph_mark_step_begin()  # earlier steps' graph outputs may be overwritten
            # 1. Teacher: the sampler picks this step's coordinates (INT scores all N without grad).
            #    Nothing in steps 1-2 reads a device value on the host: k comes from Python floats, top-k
            #    and the indexing run on the device, so a GPU step never waits on a sync.
            with self._exclusive():
                ctx = self._context(step, p, coords, values, generator)
                selected = self.sampler.select(ctx)
                if cfg.lr_schedule != "constant":
                    set_lr(optimizer, cfg.lr * lr_factor(cfg.lr_schedule, p, cfg.lr_min_factor))
                # 2. Learner: one Adam step on the mean loss over the k selected coordinates (micro-batched
                #    when k > micro_batch, e.g. full batch on a megapixel signal).
                ratio = 1.0 if selected is None else selected.shape[0] / n
                optimizer.zero_grad(set_to_none=True)
                replayed = None
                if self._learner is not None and self._single_pass(selected, coords):
                    replayed = self._learner.step(selected, ctx.weights)  # None: this k runs eagerly
                if replayed is None:
                    loss = self._learn(coords, values, selected, ctx.weights)
                    self._clip()
                    optimizer.step()
                else:
                    loss, errors = replayed
                    if errors is not None:  # the graph's buffer: the sampler gets a tensor of its own
                        self.sampler.observe(selected, errors.clone())
            step += 1
            if progress() >= 1.0:
                break
            # 3. Look (off the clock) every eval_every steps, and after every step taken in step mode.
            if single or step % cfg.eval_every == 0:
                stop_clock()
                yield evaluate(done=False, stepped=single)
                clock.start()
        stop_clock()
        yield evaluate(done=True, stepped=single and step > shown)  # a requested last step not yet shown
