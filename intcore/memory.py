"""Memory: how much a run will need, how much there is, and what to say when there is not enough.

The rule: a race whose estimated peak does not fit in the memory free now is refused before it starts,
with the estimate and the setting to lower (`check_memory`, a `NotEnoughMemoryError`, which is a
ValueError, so every handler of bad settings shows it). A race that runs out of memory anyway (another
job grew meanwhile, a queued race started later) ends with one sentence that names the setting
(`out_of_memory_message`), never with a traceback.

The estimate (`estimate_peak_bytes`) counts, from the spec and the signal's size alone, and times
SAFETY (1.1):

- per column, what lives for the whole run: the model, its gradients and Adam's two moments (and the
  warm-up's copy), the sampler's subset and the snapshot's copy of it, the N-long errors and the
  reconstruction it shows, and what each column's teacher's pass and evaluation leave on the heap between
  its turns (per row of the first `chunk` coordinates); on a GPU also the signal's own copy;
- once (the columns take turns, so their transients do not overlap): the largest training step
  (min(k, micro_batch) rows × width × hidden_layers), one no-grad pass over `chunk` rows × width, and
  the runtime's own first use (thread pools, allocator arenas).

Calibrated by `bench/memory_calibration.py` (VmHWM growth of a fresh process over the app's race, one
torch thread, CPU; the table of 11 cases is in docs/hardening.md, "Out of memory"): it erred high in
every calibration case, by 0–40 % at width 128 and up to 2.2× at width 256 (the measured peak hardly
grew from width 128 to 256: glibc keeps width 128's 16 MB activations on its heap but gives width 256's
32 MB ones back, docs/hardening.md says how it was measured). The refusal also leaves 10 % of the free
memory unused.

On a GPU the same terms count device memory (not calibrated there: the CUDA graphs' pools and cuBLAS's
workspaces come on top of what a CPU measures, so the GPU figure errs less on the high side).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import inspect
import math
import os
import resource
from pathlib import Path

import torch

from .device import resolve_device
from .modalities import MODALITIES, load_options
from .samplers import make_sampler
from .spec import SETTINGS, RunSpec
from .trainer import micro_batch_rows

FLOAT = 4  # bytes of a float32
INDEX = 8  # bytes of an int64 index
RUNTIME_BYTES = 100 * 10**6
"""what torch's first training step takes besides the tensors (thread pools, allocator arenas, oneDNN)"""
LEARNER_BYTES_PER_UNIT = 21
"""bytes per training row per hidden neuron per layer during a learner step: the linear output, the sine's
argument and output autograd keeps, and the gradients in flight (fitted: bench/memory_calibration.py)"""
EVAL_BYTES_PER_UNIT = 13
"""bytes per row per hidden neuron of a no-grad pass over `chunk` rows (the teacher's, the evaluation's):
a layer's input, product and sine, freed as it goes (fitted)"""
COLUMN_BYTES_PER_CHUNK_ROW = 480
"""per column, per row of the first `chunk` coordinates: what each column's teacher's pass and
evaluation leave on the heap between its turns (fitted; it stops growing at `chunk` rows)"""
COLUMN_BYTES_PER_POINT = 32
"""per column, per coordinate: its N-long errors and the reconstruction it shows (fitted)"""
SAFETY = 1.1
"""the estimate is the fitted sum times this, so that it errs high"""
MARGIN = 0.9
"""a race is refused when its estimate exceeds this fraction of the memory free now"""


class OutOfMemory(ValueError):
    """A run that ran out of memory, as one sentence (`out_of_memory_message`): a ValueError, so the
    command line's handler prints it as one line and exits with code 2."""


class NotEnoughMemoryError(ValueError):
    """A run refused before it started: its estimated peak is more than the memory free now. The
    message says the estimate, what is free, and the setting to lower."""

    def __init__(self, message: str, needed: int, available: int) -> None:
        super().__init__(message)
        self.needed = needed
        self.available = available


# ------------------------------------------------------------------ the estimate


def parameter_count(in_features: int, out_features: int, width: int, hidden_layers: int) -> int:
    """Weights and biases of a SIREN: hidden_layers sine layers of `width`, then one linear output layer."""
    return (in_features + 1) * width + (hidden_layers - 1) * (width + 1) * width + (width + 1) * out_features


def largest_subset(spec: RunSpec, n: int) -> list[int]:
    """Per column, the largest number of coordinates its sampler trains on in one step over the budget
    (a ratio schedule's largest point; a sampler without a ratio: all N)."""
    sizes = []
    for s in spec.samplers:
        sampler = make_sampler(s.name, **s.options)
        ratio = max(sampler.ratio_at(p / 20) for p in range(21))
        sizes.append(min(n, max(1, math.ceil(ratio * n))))
    return sizes


def estimate_peak_bytes(spec: RunSpec, n: int, in_features: int, out_features: int) -> int:
    """The estimated peak memory in bytes that racing `spec` on a signal of n coordinates (in_features →
    out_features) adds to the process, on the spec's device (CPU RAM, or the GPU's memory): see the module
    docstring for what it counts and how close it came to measured peaks (it erred high in every one)."""
    cfg, model = spec.train, spec.model
    device = resolve_device(cfg.device)
    gpu = device.type != "cpu"
    micro_batch = micro_batch_rows(cfg, device)
    width, layers, c = model.width, model.hidden_layers, out_features
    params = parameter_count(in_features, out_features, width, layers)
    subsets = largest_subset(spec, n)

    per_column = 0
    for k in subsets:
        per_column += 6 * params * FLOAT  # weights, gradients, Adam's m and v, the warm-up's copy of both
        per_column += 2 * k * INDEX  # the sampler's subset and the snapshot's copy of it
        per_column += min(n, cfg.chunk) * COLUMN_BYTES_PER_CHUNK_ROW + n * COLUMN_BYTES_PER_POINT
        if gpu:
            per_column += n * (in_features + c) * FLOAT  # the signal's copy on the device
    rows = min(max(subsets), micro_batch)
    learner = rows * width * layers * LEARNER_BYTES_PER_UNIT
    evaluation = min(cfg.chunk, n) * width * EVAL_BYTES_PER_UNIT
    return int(SAFETY * (RUNTIME_BYTES + per_column + learner + evaluation))


# ------------------------------------------------------------------ the memory free now


def process_status_bytes(field: str) -> int | None:
    """A size field of this process's /proc/self/status (VmRSS, VmHWM, VmSize) in bytes; None where
    there is no such file (not Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _address_space_headroom() -> int | None:
    """RLIMIT_AS (`ulimit -v`, `prlimit --as`) minus the address space the process maps now."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    mapped = process_status_bytes("VmSize")
    return None if mapped is None else max(0, soft - mapped)


def _cgroup_headroom() -> int | None:
    """The tightest cgroup v2 memory.max minus memory.current on the way from this process's cgroup to
    the root; the cgroup's reclaimable page cache (inactive_file) counts as free."""
    try:
        line = next(x for x in Path("/proc/self/cgroup").read_text().splitlines() if x.startswith("0::"))
    except (OSError, StopIteration):
        return None
    root = Path("/sys/fs/cgroup")
    folder = root / line[3:].lstrip("/")
    best: int | None = None
    while True:
        try:
            limit = (folder / "memory.max").read_text().strip()
            if limit != "max":
                current = int((folder / "memory.current").read_text())
                stat = dict(x.split() for x in (folder / "memory.stat").read_text().splitlines())
                free = int(limit) - current + int(stat.get("inactive_file", 0))
                best = free if best is None else min(best, free)
        except (OSError, ValueError):
            pass
        if folder == root or folder.parent == folder:
            return best
        folder = folder.parent


def available_bytes(device: torch.device | str = "cpu") -> int:
    """Memory a new run may take now. CPU: the least of MemAvailable (/proc/meminfo), the RLIMIT_AS
    headroom (limit minus the current VmSize) and the cgroup v2 headroom (memory.max minus memory.current),
    each where it exists. CUDA: the device's free memory plus what torch's cache holds unused."""
    dev = torch.device(device)
    if dev.type == "cuda":
        free, _ = torch.cuda.mem_get_info(dev)
        return int(free + torch.cuda.memory_reserved(dev) - torch.cuda.memory_allocated(dev))
    found = [x for x in (_meminfo_available(), _address_space_headroom(), _cgroup_headroom()) if x is not None]
    return min(found) if found else 1 << 62


# ------------------------------------------------------------------ the words


def working_size_setting(modality: str) -> str | None:
    """The modality's setting for the size of the problem (images max_side, audio max_seconds, shapes
    grid): the first signal setting its loader takes."""
    loader = load_options(modality)
    return next((n for n, s in SETTINGS.items() if s.section == "signal" and n in loader), None)


def _size_value(spec: RunSpec, name: str) -> str:
    if name in spec.signal.options:
        value = spec.signal.options[name]
    else:
        param = inspect.signature(MODALITIES[spec.modality].load).parameters.get(name)
        value = None if param is None or param.default is inspect.Parameter.empty else param.default
    return "full size" if value is None else f"{value:g}"


def advice(spec: RunSpec) -> str:
    """What to lower, each setting with its current value: the working size, the width and (for a race of
    several) the number of samplers."""
    parts = []
    size = working_size_setting(spec.modality)
    if size is not None:
        parts.append(f"{size} (now {_size_value(spec, size)})")
    parts.append(f"width (now {spec.model.width})")
    text = "lower " + " or ".join(parts)
    return text + (", or race fewer samplers" if len(spec.samplers) > 1 else "")


def format_bytes(n: float) -> str:
    """1.2 GB, 350 MB (decimal units, as /proc and most tools round them for people)."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{max(n, 0) / 1e6:.0f} MB"


def _where(device: torch.device | str) -> str:
    return "CPU" if torch.device(device).type == "cpu" else "GPU"


def check_memory(spec: RunSpec, n: int, in_features: int, out_features: int, available: int | None = None) -> int:
    """The estimate for racing `spec` on this signal, or a NotEnoughMemoryError when it exceeds MARGIN of
    the memory free now (`available`, default `available_bytes` of the spec's device). The message:
    "this race needs about 7.9 GB of CPU memory and 3.1 GB is free: lower max_side (now full size) or
    width (now 256), or race fewer samplers"."""
    needed = estimate_peak_bytes(spec, n, in_features, out_features)
    free = available_bytes(spec.train.device) if available is None else available
    if needed > MARGIN * free:
        what = "race" if len(spec.samplers) > 1 else "run"
        raise NotEnoughMemoryError(
            f"this {what} needs about {format_bytes(needed)} of {_where(spec.train.device)} memory and "
            f"{format_bytes(free)} is free: {advice(spec)}", needed, free)
    return needed


# ------------------------------------------------------------------ running out anyway


OUT_OF_MEMORY_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory",
                       "failed to allocate")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` says an allocation failed: MemoryError, torch's OutOfMemoryError, or a RuntimeError
    whose text says so (torch's CPU allocator: "DefaultCPUAllocator: can't allocate memory")."""
    if isinstance(exc, (MemoryError, torch.OutOfMemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(w in text for w in OUT_OF_MEMORY_WORDS)


def out_of_memory_message(exc: BaseException, spec: RunSpec, steps: int | None = None) -> str | None:
    """One sentence for an out-of-memory exception ("the race ran out of GPU memory after 40 steps: lower
    max_side (now full size) or width (now 256), or race fewer samplers"); None for any other exception.
    CPU or GPU: a MemoryError or torch's CPU allocator is the CPU; otherwise the spec's device."""
    if not is_out_of_memory(exc):
        return None
    text = str(exc)
    cpu = isinstance(exc, MemoryError) or "CPUAllocator" in text or (
        not isinstance(exc, torch.OutOfMemoryError) and "CUDA" not in text and torch.device(spec.train.device).type == "cpu")
    when = "" if steps is None else f" after {steps} step{'s' if steps != 1 else ''}"
    return f"the race ran out of {'CPU' if cpu else 'GPU'} memory{when}: {advice(spec)}"


def trim_host_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim), so a finished race's host
    memory leaves the process's RSS instead of staying reserved for later allocations. A no-op where
    the C library has no malloc_trim (macOS, musl, Windows)."""
    if os.name != "posix":
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
