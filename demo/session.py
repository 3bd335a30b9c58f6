"""One comparison job per browser session: its thread, pause/stop, the latest snapshots, the queue.

A `Job` races its samplers in ONE background thread that advances their `Trainer.run()` generators
round-robin. Each trainer's clock runs only inside its own steps and stops while its generator is
suspended at a yield (intcore.device.TrainingClock), so the race is fair on a shared machine: no
sampler's training time includes another's. Pause and stop are `threading.Event`s the trainers check
before every step, so both act within one step.

`SessionTable` is the app's only mutable global state: browser session -> `Session` (its job, its view
choices, its folder of files), plus the jobs waiting for one of the `max_jobs` slots. It also cleans up
after those who leave: a page's sessions close when Gradio reports the page gone (unload); a session
without a page (a script calling the API) closes `LEASE_SECONDS` after anyone last asked about it (its
stream polls it every `REFRESH_SECONDS` while the race runs); and when the files together (the sessions'
and, where the app owns it, Gradio's upload cache) pass `max_temp_bytes`, the uploads no session uses are
dropped first, oldest first, then the files of the sessions that finished longest ago.
"""
from __future__ import annotations

import collections
import contextlib
import copy
import dataclasses
import gc
import logging
import math
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from PIL import Image

from intcore.models import ModelConfig
from intcore.modalities import get_modality
from intcore.runs import RunResult, default_target, interleave, time_savings
from intcore.samplers import Sampler
from intcore.signals import Signal
from intcore.spec import RunSpec
from intcore.trainer import Snapshot, TrainConfig, Trainer

from .media import Media

log = logging.getLogger("demo.session")

REFRESH_SECONDS = 0.5
"""the live view's update period: 2 updates a second, the low end of the 2–5 a second that stay readable, because on a
2-core laptop every update's drawing (server and browser) takes CPU from training (bench/app_overhead.py)"""
MAX_GIF_FRAMES = 120
"""selection masks kept for the GIF; past this, every other one is dropped and the stride doubles"""
JOIN_SECONDS = 5.0
LEASE_SECONDS = 4.0
"""a session without a page is closed (job stopped, files deleted) once nobody has asked about it for this
long: an API client's race is cleaned up within seconds of its end, or of the client going away"""
SWEEP_SECONDS = 1.0
MAX_TEMP_BYTES = 2 * 2**30
"""default cap on the sessions' files (uploads, live frames, downloads) all together"""
UPLOAD_GRACE_SECONDS = 60.0
"""an upload in Gradio's cache younger than this is kept even if no session names it yet: the call that will
use it (the page's upload handler, an API client's race) may still be on its way"""


@dataclass
class JobSpec:
    """Everything one comparison needs, already validated."""

    signal: Signal
    samplers: dict[str, Sampler]
    """column order: method name -> sampler"""
    model: ModelConfig
    config: TrainConfig
    target: float | None = None
    """fixed quality target; None: the best quality both INT and full batch reached so far"""
    run: RunSpec | None = None
    """the run spec these were built from (written into the summary, so `intcore compare --config` reruns it)"""
    listeners: list[Callable[["Job", Snapshot], None]] = field(default_factory=list)
    """called with every snapshot in the job's thread (lecture mode's recorders); keep them quick"""


class Job:
    """One race of several samplers on one signal, run by one background thread."""

    def __init__(self, spec: JobSpec) -> None:
        self.id = uuid.uuid4().hex[:8]
        self.spec = spec
        self.methods = list(spec.samplers)
        # Every snapshot carries the selection and a reconstruction: the columns draw both.
        self.config = dataclasses.replace(spec.config, record_selection=True, recon_every=spec.config.eval_every)
        self.device = torch.device(self.config.device)
        self.modality = get_modality(spec.signal.modality)
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self.results = {m: RunResult(method=m, description=s.describe()) for m, s in spec.samplers.items()}
        self.latest: dict[str, Snapshot] = {}
        self.tracked = next((m for m, s in spec.samplers.items() if s.uses_errors), self.methods[0])
        """the sampler whose selections the GIF shows (the first that scores errors: INT)"""
        self.selections: list[tuple[int, np.ndarray]] = []  # (step, packed (N,) bool mask)
        self._stride, self._seen = 1, 0
        self.version = 0
        """bumped at every snapshot, so a viewer can tell whether anything changed"""
        self.error: str | None = None
        self.trainers: dict[str, Trainer] = {}
        """while the job runs: method -> its Trainer (step mode asks them for single steps)"""
        self.thread: threading.Thread | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        """when it ended, by the session table's clock (set by the table)"""
        self.owner: str | None = None
        """the key of the session that submitted it (set by SessionTable.submit)"""
        self._finished = threading.Event()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ state seen from the UI thread

    @property
    def state(self) -> str:
        if self._finished.is_set():
            if self.error:
                return "error"
            return "stopped" if self.stop_event.is_set() else "done"
        if self.thread is None:
            return "queued"
        return "paused" if self.pause_event.is_set() else "running"

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (or `timeout` passes); True if it has."""
        return self._finished.wait(timeout)

    def snapshot_view(self) -> tuple[dict[str, Snapshot], int]:
        with self._lock:
            return dict(self.latest), self.version

    def results_view(self) -> dict[str, RunResult]:
        """A copy of every sampler's curve so far (safe to read while the job runs)."""
        with self._lock:
            return {m: RunResult(r.method, r.description, list(r.curve)) for m, r in self.results.items()}

    # ------------------------------------------------------------ control

    def stop(self) -> None:
        self.stop_event.set()

    def toggle_pause(self) -> bool:
        """Pause a running job or resume a paused one; returns True if it is now paused."""
        if self.pause_event.is_set() or self.finished:
            self.pause_event.clear()
            return False
        self.pause_event.set()
        return True

    def settled(self) -> bool:
        """Paused, and the pause has reached the training thread: every column's latest snapshot is
        where it stands (a pause that lands mid-interval first shows the step it stopped at)."""
        return self.state == "paused" and any(t.waiting.is_set() for t in list(self.trainers.values()))

    def step(self) -> bool:
        """Step mode: advance every column by exactly one training step. Only while paused (and
        running); returns whether the steps were requested."""
        trainers = list(self.trainers.values())
        if self.state != "paused" or not trainers:
            return False
        for trainer in trainers:
            trainer.request_steps(1)
        return True

    def start(self, on_exit: Callable[["Job"], None]) -> None:
        self.thread = threading.Thread(target=self._run, args=(on_exit,), name=f"int-job-{self.id}", daemon=True)
        self.started_at = time.time()
        self.thread.start()

    def finish_unstarted(self) -> None:
        """A queued job that will never run (its session closed or restarted)."""
        self.stop_event.set()
        self._finished.set()

    # ------------------------------------------------------------ the worker thread

    def _run(self, on_exit: Callable[["Job"], None]) -> None:
        spec = self.spec
        try:
            # Samplers keep device tensors between steps (INT's selection, EVOS's survivors): the race uses
            # copies, so nothing on the device outlives it through the spec this job keeps for its viewers.
            self.trainers = {
                method: Trainer(spec.signal, copy.deepcopy(sampler), model=spec.model, config=self.config,
                                method=method, stop_event=self.stop_event, pause_event=self.pause_event)
                for method, sampler in spec.samplers.items()
            }
            for snap in interleave(self.trainers.values()):  # fair race: only the running sampler's clock ticks
                self._record(snap)
        except Exception as exc:  # a crash (e.g. out of memory) must end the job, not the app
            log.exception("job %s failed", self.id)
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.trainers = {}  # drop the models, optimisers and samplers before freeing the device's cache
            free_device_memory(self.device)
            self._finished.set()
            on_exit(self)

    def _record(self, snap: Snapshot) -> None:
        light = dataclasses.replace(snap, reconstruction=None, selected=None)
        with self._lock:
            self.results[snap.method].curve.append(light)
            self.latest[snap.method] = snap
            if snap.method == self.tracked and snap.selected is not None:
                self._keep_selection(snap.step, snap.selected)
            self.version += 1
        for listener in self.spec.listeners:
            listener(self, snap)

    def _keep_selection(self, step: int, selected: np.ndarray) -> None:
        self._seen += 1
        if (self._seen - 1) % self._stride:
            return
        mask = np.zeros(self.spec.signal.n, dtype=bool)
        mask[selected] = True
        self.selections.append((step, np.packbits(mask)))
        if len(self.selections) > MAX_GIF_FRAMES:
            self.selections = self.selections[::2]
            self._stride *= 2

    def selection_masks(self) -> list[tuple[int, np.ndarray]]:
        """The tracked sampler's selections so far: (step, (N,) bool mask)."""
        with self._lock:
            kept = list(self.selections)
        n = self.spec.signal.n
        return [(step, np.unpackbits(packed, count=n).astype(bool)) for step, packed in kept]

    # ------------------------------------------------------------ reading the race

    def target(self) -> float | None:
        """The quality target: the fixed one, else the best quality both INT (the tracked sampler) and
        full batch reached (intcore.runs.default_target); None before any evaluation."""
        if self.spec.target is not None:
            return self.spec.target
        # Both INT and full batch when both race (else every sampler), each with at least one evaluation.
        keys = [self.tracked, "full"] if "full" in self.methods and self.tracked != "full" else self.methods
        with self._lock:
            if not all(self.results[m].curve for m in keys):
                return None
            value = default_target({m: self.results[m] for m in keys})
        return value if math.isfinite(value) else None

    def status(self, queue_position: int | None = None) -> dict[str, Any]:
        """The machine-readable status (the API's JSON output): per sampler step, training seconds,
        current and best quality, ratio, time to the target and the time saving against full batch."""
        metric = self.modality.metric
        target = self.target()
        latest, _ = self.snapshot_view()
        results = self.results_view()
        savings = time_savings({m: r for m, r in results.items() if r.curve}, target) if target is not None else {}
        samplers: dict[str, Any] = {}
        for column, m in enumerate(self.methods, start=1):
            snap, res = latest.get(m), results[m]
            samplers[m] = {
                "column": column,
                "description": res.description,
                "step": snap.step if snap else 0,
                "train_seconds": round(snap.train_seconds, 4) if snap else 0.0,
                metric: _num(snap.quality) if snap else None,
                f"best_{metric}": _num(snap.best_quality) if snap else None,
                "ratio": round(snap.ratio, 4) if snap else None,
                "seconds_to_target": _round(res.seconds_to(target)) if target is not None and res.curve else None,
                "time_saving_vs_full": savings.get(m),
                "done": bool(snap and snap.done),
            }
        signal = self.spec.signal
        budget = {"seconds": self.config.seconds} if self.config.seconds else {"steps": self.config.steps}
        return {
            "job": self.id,
            "state": self.state,
            "queue_position": queue_position,
            "signal": {"name": signal.name, "modality": signal.modality, "shape": list(signal.shape), "n": signal.n},
            "device": str(self.device),
            "budget": budget,
            "metric": metric,
            "unit": self.modality.metric_unit,
            "target": _round(target),
            "samplers": samplers,
            "error": self.error,
        }


def free_device_memory(device: torch.device) -> None:
    """Give the memory of finished trainers back: collect them (models and optimisers can sit in reference
    cycles), then hand the caching allocator's free blocks back to the GPU."""
    gc.collect()
    if device.type == "cuda" and torch.cuda.is_available():
        with torch.cuda.device(device):
            torch.cuda.synchronize()  # kernels still queued may use blocks the cache would release
            torch.cuda.empty_cache()


class FrameStore:
    """The live pictures, written as lossless PNGs into the session's folder (which the app serves as
    static files, so they never enter Gradio's cache) and deleted once `keep` newer ones exist for
    the same slot (every picture Gradio is given becomes a file: clean them)."""

    def __init__(self, folder: Path, keep: int = 6) -> None:
        self.folder = folder
        self.keep = keep
        self._files: dict[str, collections.deque[Path]] = collections.defaultdict(collections.deque)
        self._count = 0
        self._lock = threading.Lock()

    def write(self, slot: str, array: np.ndarray | Media) -> str:
        """A picture array as PNG, or a `Media` file (WAV, GLB) as its bytes; returns the path."""
        with self._lock:
            self._count += 1
            path = self.folder / f"{slot}-{self._count}{array.suffix if isinstance(array, Media) else '.png'}"
            old = self._files[slot]
            old.append(path)
            stale = [old.popleft() for _ in range(max(0, len(old) - self.keep))]
        if isinstance(array, Media):
            path.write_bytes(array.data)
        else:
            Image.fromarray(array).save(path, compress_level=1)
        for p in stale:
            p.unlink(missing_ok=True)
        return str(path)


@dataclass
class Session:
    """One browser session's tab: its job, its view choices and its folder (uploads, frames, downloads)."""

    key: str
    folder: Path
    job: Job | None = None
    overlay: str = "selection"
    x_axis: str = "training seconds"
    frames: FrameStore = field(init=False)
    view: dict[str, Any] = field(default_factory=dict)
    """the live view's memory of what this page shows (demo.live)"""
    loaded: dict[tuple, Signal] = field(default_factory=dict)
    """the chosen signal, loaded once: (file, loader options) -> Signal (only the latest is kept)"""
    seen: float = 0.0
    """when anyone last asked about this session (the table's clock)"""
    lecture: Any = None
    """lecture mode's state for this page's latest race (demo.lecture)"""
    busy: int = 0
    """requests working in its folder right now (SessionTable.in_use); the sweep leaves it alone"""

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.frames = FrameStore(self.folder)


class SessionTable:
    """browser session -> Session, and the queue: at most `max_jobs` jobs train at once, the others
    wait in arrival order. A background sweep (every `sweep_seconds`; None: only when `sweep()` is
    called) closes sessions nobody uses any more and keeps the files under `max_temp_bytes`."""

    def __init__(self, max_jobs: int = 2, root: Path | None = None, max_temp_bytes: int = MAX_TEMP_BYTES,
                 lease_seconds: float = LEASE_SECONDS, sweep_seconds: float | None = SWEEP_SECONDS,
                 clock: Callable[[], float] = time.monotonic, upload_dir: Path | None = None) -> None:
        if max_jobs < 1:
            raise ValueError(f"max_jobs must be at least 1, got {max_jobs}")
        self.max_jobs = max_jobs
        self.root = Path(root or tempfile.mkdtemp(prefix="int-studio-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_temp_bytes = max_temp_bytes
        self.lease_seconds = lease_seconds
        self.upload_dir = upload_dir
        """Gradio's upload cache when this app alone uses it (`python -m demo`): counted in `max_temp_bytes`
        and trimmed by it; None (a cache other apps may share): neither"""
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._pages: set[str] = set()
        self._running: set[Job] = set()
        self._waiting: list[Job] = []
        self._lock = threading.RLock()
        self._closed = threading.Event()
        if sweep_seconds is not None:
            threading.Thread(target=self._sweep_forever, args=(sweep_seconds,), name="int-session-sweep",
                             daemon=True).start()

    @staticmethod
    def key(session_hash: str | None, tab: str) -> str:
        return f"{session_hash or 'anonymous'}/{tab}"

    def session(self, key: str) -> Session:
        with self._lock:
            if key not in self._sessions:
                # A random folder name: the folder is served statically, so it must not be guessable.
                self._sessions[key] = Session(key=key, folder=self.root / uuid.uuid4().hex)
            session = self._sessions[key]
            session.seen = self.clock()
            return session

    def get(self, key: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(key)
            if session is not None:
                session.seen = self.clock()
            return session

    def sessions(self) -> list[Session]:
        with self._lock:
            return list(self._sessions.values())

    @contextlib.contextmanager
    def in_use(self, session: Session) -> Iterator[Session]:
        """While inside, the sweep neither closes the session nor drops its files (e.g. results being
        written after the race ended)."""
        with self._lock:
            session.busy += 1
        try:
            yield session
        finally:
            with self._lock:
                session.busy -= 1
                session.seen = self.clock()

    def attach_page(self, session_hash: str | None) -> None:
        """A browser page opened (Gradio's load event): its sessions live until the page goes (unload),
        however long it sits idle."""
        with self._lock:
            self._pages.add(session_hash or "anonymous")

    def submit(self, key: str, spec: JobSpec) -> Job:
        """Start (or queue) a new job for this session; its previous job, if any, is stopped."""
        session = self.session(key)
        job = Job(spec)
        job.owner = key
        with self._lock:
            old = session.job
            session.job = job
            if old is not None:
                self._retire(old)
            self._waiting.append(job)
            self._schedule()
        return job

    def queue_position(self, job: Job) -> int | None:
        """1 for the next job to start, None if it is not waiting. Asking counts as using the job's
        session (a stream that polls this keeps its session alive)."""
        with self._lock:
            owner = self._sessions.get(job.owner) if job.owner else None
            if owner is not None and owner.job is job:
                owner.seen = self.clock()
            return self._waiting.index(job) + 1 if job in self._waiting else None

    def running(self) -> list[Job]:
        with self._lock:
            return list(self._running)

    def reset(self, key: str) -> None:
        """Stop and forget the session's job (the session itself stays)."""
        with self._lock:
            session = self._sessions.get(key)
            job = session.job if session else None
            if session:
                session.job = None
        if job:
            self._retire(job)
            job.wait(JOIN_SECONDS)

    def close(self, key: str) -> None:
        """The tab was closed: stop its job, wait for its thread, free its memory and delete its files."""
        with self._lock:
            session = self._sessions.pop(key, None)
        if session is None:
            return
        if session.job is not None:
            self._retire(session.job)
            if session.job.thread is not None:
                session.job.thread.join(JOIN_SECONDS)
        # A stream still writing its results (SessionTable.in_use) finishes first: deleting under it would
        # fail its write, or let it recreate a folder nobody deletes.
        end = time.monotonic() + JOIN_SECONDS
        while session.busy and time.monotonic() < end:
            time.sleep(0.05)
        shutil.rmtree(session.folder, ignore_errors=True)

    def close_browser(self, session_hash: str | None) -> None:
        """Close every tab's session of one browser session (Gradio's unload event)."""
        prefix = f"{session_hash or 'anonymous'}/"
        with self._lock:
            self._pages.discard(session_hash or "anonymous")
            keys = [k for k in self._sessions if k.startswith(prefix)]
        for k in keys:
            self.close(k)

    def shutdown(self) -> None:
        self._closed.set()
        with self._lock:
            keys = list(self._sessions)
        for k in keys:
            self.close(k)
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------ cleaning up after those who left

    def sweep(self) -> None:
        """Close the sessions without a page that nobody asked about for `lease_seconds`, then, while
        the files pass `max_temp_bytes`, drop the files of finished sessions, longest finished first."""
        now = self.clock()
        with self._lock:
            gone = [s.key for s in self._sessions.values()
                    if s.key.split("/", 1)[0] not in self._pages and not s.busy and now - _last_use(s) > self.lease_seconds]
        for key in gone:
            log.info("closing session %s: no page, unused for %.0f s", key, self.lease_seconds)
            self.close(key)
        self._drop_orphans()
        self._cap_temp_bytes()

    def temp_bytes(self) -> int:
        """Bytes of every file under the table's folder (sessions, previews, thumbnails) and, where it is
        counted, in the upload cache."""
        return sum(_folder_bytes(self.root).values()) + sum(size for _, _, size in _files_by_age(self.upload_dir))

    def uploads_in_use(self) -> set[Path]:
        """The files the sessions still use: each one's loaded signal and its race's signal file (an API
        client's race reads its picture straight from the upload cache)."""
        with self._lock:
            sessions = list(self._sessions.values())
        used = set()
        for session in sessions:
            paths = [key[0] for key in list(session.loaded)]
            job = session.job
            if job is not None and job.spec.run is not None and job.spec.run.signal.path:
                paths.append(job.spec.run.signal.path)
            used.update(Path(p).resolve() for p in paths)
        return used

    def _drop_orphans(self) -> None:
        """Delete session folders (random 32-hex names) that no session owns any more and that nothing
        wrote to for `lease_seconds` (e.g. a late write after a session closed)."""
        with self._lock:
            owned = {s.folder.name for s in self._sessions.values()}
        for folder in self.root.iterdir() if self.root.exists() else []:
            if len(folder.name) != 32 or folder.name in owned or not folder.is_dir():
                continue
            try:
                idle = time.time() - max((p.stat().st_mtime for p in [folder, *folder.rglob("*")]), default=0)
            except OSError:
                continue
            if idle > self.lease_seconds:
                log.warning("deleting %s: a session folder no session owns", folder)
                shutil.rmtree(folder, ignore_errors=True)

    def _cap_temp_bytes(self) -> None:
        sizes = _folder_bytes(self.root)
        uploads = _files_by_age(self.upload_dir)
        total = sum(sizes.values()) + sum(size for _, _, size in uploads)
        if total <= self.max_temp_bytes:
            return
        total = self._drop_uploads(uploads, total)
        with self._lock:
            idle = [s for s in self._sessions.values() if (s.job is None or s.job.finished) and not s.busy]
        idle.sort(key=lambda s: s.job.finished_at if s.job is not None and s.job.finished_at is not None else s.seen)
        for session in idle:
            if total <= self.max_temp_bytes:
                break
            held = sizes.get(session.folder.name, 0)
            if held == 0:
                continue
            log.warning("temp files over %d bytes: dropping the %d bytes of finished session %s",
                        self.max_temp_bytes, held, session.key)
            shutil.rmtree(session.folder, ignore_errors=True)
            session.folder.mkdir(parents=True, exist_ok=True)
            session.loaded.clear()
            total -= held

    def _drop_uploads(self, uploads: list[tuple[float, Path, int]], total: int) -> int:
        """Delete uploads no session uses, oldest first, until `total` is under the cap; the new total.
        Uploads younger than UPLOAD_GRACE_SECONDS stay (their call may still be coming)."""
        used = self.uploads_in_use()
        now = time.time()
        for mtime, path, size in uploads:
            if total <= self.max_temp_bytes:
                break
            if now - mtime < UPLOAD_GRACE_SECONDS or path.resolve() in used:
                continue
            log.warning("temp files over %d bytes: dropping the unused upload %s (%d bytes)",
                        self.max_temp_bytes, path, size)
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # Gradio keeps each upload in a folder of its own
                if path.parent != self.upload_dir:
                    path.parent.rmdir()
            total -= size
        return total

    def _sweep_forever(self, every: float) -> None:
        while not self._closed.wait(every):
            try:
                self.sweep()
            except Exception:  # the sweep must outlive any one bad folder
                log.exception("session sweep failed")

    def _retire(self, job: Job) -> None:
        with self._lock:
            if job in self._waiting:
                self._waiting.remove(job)
                job.finish_unstarted()
                return
        job.stop()

    def _schedule(self) -> None:
        with self._lock:
            while self._waiting and len(self._running) < self.max_jobs:
                job = self._waiting.pop(0)
                self._running.add(job)
                job.start(on_exit=self._on_exit)

    def _on_exit(self, job: Job) -> None:
        with self._lock:
            job.finished_at = self.clock()
            self._running.discard(job)
            self._schedule()


def _last_use(session: Session) -> float:
    """When the session was last asked about, or its job ended if that came later (table clock)."""
    ended = session.job.finished_at if session.job is not None else None
    return session.seen if ended is None else max(session.seen, ended)


def _folder_bytes(root: Path) -> dict[str, int]:
    """Bytes under each top-level entry of `root` (files that vanish while counting are skipped)."""
    sizes: dict[str, int] = {}
    for top in list(root.iterdir()) if root.exists() else []:
        total = 0
        for path in top.rglob("*") if top.is_dir() else [top]:
            try:
                if path.is_file():
                    total += path.stat().st_size
            except OSError:
                pass
        sizes[top.name] = total
    return sizes


def _files_by_age(root: Path | None) -> list[tuple[float, Path, int]]:
    """(mtime, path, bytes) of every file under `root`, oldest first (none for None; files that vanish
    while listing are skipped)."""
    files = []
    for path in root.rglob("*") if root is not None and root.exists() else []:
        try:
            st = path.stat()
        except OSError:
            continue
        if path.is_file():
            files.append((st.st_mtime, path, st.st_size))
    return sorted(files, key=lambda f: f[0])


def _num(x: float) -> float | None:
    """JSON has no inf/nan: NaN -> null, a perfect fit's infinite PSNR -> 999."""
    if math.isnan(x):
        return None
    return round(x, 4) if math.isfinite(x) else (999.0 if x > 0 else -999.0)


def _round(x: float | None) -> float | None:
    return None if x is None else _num(x)
