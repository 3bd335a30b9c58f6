"""The app's sessions: browser session -> `Session` (its race, its view choices, its folder of files),
and the queue of races waiting for one of the `max_jobs` slots.

`SessionTable` is the app's only mutable global state. It also cleans up after those who leave: a page's
sessions close when Gradio reports the page gone (unload); a session without a page (a script calling
the API) closes `LEASE_SECONDS` after anyone last asked about it (its stream polls it every
`REFRESH_SECONDS` while the race runs); and when the files together (the sessions' and, where the app
owns it, Gradio's upload cache) pass `max_temp_bytes`, the uploads no session uses are dropped first,
oldest first, then the files of the sessions that finished longest ago.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intcore.signals import Signal

from .frames import FrameStore
from .race import Race

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5
"""the live view's update period: 2 updates a second, the low end of the 2–5 a second that stay readable, because on a
2-core laptop every update's drawing (server and browser) takes CPU from training (bench/app_overhead.py)"""
JOIN_SECONDS = 5.0
LEASE_SECONDS = 4.0
"""a session without a page is closed (race stopped, files deleted) once nobody has asked about it for this
long: an API client's race is cleaned up within seconds of its end, or of the client going away"""
SWEEP_SECONDS = 1.0
MAX_TEMP_BYTES = 2 * 2**30
"""default cap on the sessions' files (uploads, live frames, downloads) all together"""
UPLOAD_GRACE_SECONDS = 60.0
"""an upload in Gradio's cache younger than this is kept while no session has named it yet: the call that
will use it (the page's upload handler, an API client's race) may still be on its way. One that a session
used and no longer uses can go at once, whatever its age."""


@dataclass
class Session:
    """One browser session's tab: its race, its view choices and its folder (uploads, frames, downloads)."""

    key: str
    folder: Path
    race: Race | None = None
    overlay: str = "selection"
    x_axis: str = "training seconds"
    frames: FrameStore = field(init=False)
    view: dict[str, Any] = field(default_factory=dict)
    """the live view's memory of what this page shows (demo.ui.live)"""
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

    def __init__(
        self,
        max_jobs: int = 2,
        root: Path | None = None,
        max_temp_bytes: int = MAX_TEMP_BYTES,
        lease_seconds: float = LEASE_SECONDS,
        sweep_seconds: float | None = SWEEP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        upload_dir: Path | None = None,
    ) -> None:
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
        self._running: set[Race] = set()
        self._waiting: list[Race] = []
        self.on_browser_gone: list[Callable[[str], None]] = []
        """called with a browser session's hash once it has no page and no session left (the app drops
        Gradio's own state of that session there)"""
        self._claimed: set[Path] = set()
        """uploads some session has used: once none uses them, their call has come and gone"""
        self._lock = threading.RLock()
        self._closed = threading.Event()
        if sweep_seconds is not None:
            threading.Thread(
                target=self._sweep_forever, args=(sweep_seconds,), name="int-session-sweep", daemon=True
            ).start()

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

    def submit(self, key: str, race: Race) -> Race:
        """Start (or queue) `race` for this session; its previous race, if any, is stopped."""
        session = self.session(key)
        race.owner = key
        with self._lock:
            old = session.race
            session.race = race
            if old is not None:
                self._retire(old)
            self._waiting.append(race)
            self._schedule()
        return race

    def queue_position(self, race: Race) -> int | None:
        """1 for the next race to start, None if it is not waiting. Asking counts as using the race's
        session (a stream that polls this keeps its session alive)."""
        with self._lock:
            owner = self._sessions.get(race.owner) if race.owner else None
            if owner is not None and owner.race is race:
                owner.seen = self.clock()
            return self._waiting.index(race) + 1 if race in self._waiting else None

    def running(self) -> list[Race]:
        with self._lock:
            return list(self._running)

    def reset(self, key: str) -> None:
        """Stop and forget the session's race (the session itself stays)."""
        with self._lock:
            session = self._sessions.get(key)
            race = session.race if session else None
            if session:
                session.race = None
        if race:
            self._retire(race)
            race.wait(JOIN_SECONDS)

    def close(self, key: str) -> None:
        """The tab was closed: stop its race, wait for its thread, free its memory and delete its files."""
        with self._lock:
            session = self._sessions.pop(key, None)
        if session is None:
            return
        if session.race is not None:
            self._retire(session.race)
            if session.race.thread is not None:
                session.race.thread.join(JOIN_SECONDS)
        # A stream still writing its results (SessionTable.in_use) finishes first: deleting under it would
        # fail its write, or let it recreate a folder nobody deletes.
        end = time.monotonic() + JOIN_SECONDS
        while session.busy and time.monotonic() < end:
            time.sleep(0.05)
        shutil.rmtree(session.folder, ignore_errors=True)
        self._forget_if_gone(key.split("/", 1)[0])

    def close_browser(self, session_hash: str | None) -> None:
        """Close every tab's session of one browser session (Gradio's unload event)."""
        prefix = f"{session_hash or 'anonymous'}/"
        with self._lock:
            self._pages.discard(session_hash or "anonymous")
            keys = [k for k in self._sessions if k.startswith(prefix)]
        for k in keys:
            self.close(k)  # the last one tells on_browser_gone
        if not keys:
            self._forget_if_gone(session_hash or "anonymous")

    def _forget_if_gone(self, browser: str) -> None:
        """Once a browser session has no page and no session left, tell `on_browser_gone`."""
        with self._lock:
            if browser in self._pages or any(k.startswith(f"{browser}/") for k in self._sessions):
                return
        for hook in list(self.on_browser_gone):
            try:
                hook(browser)
            except Exception:  # a hook's failure must not stop the clean-up
                log.exception("forgetting browser session %s failed", browser)

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
            gone = [
                s.key
                for s in self._sessions.values()
                if s.key.split("/", 1)[0] not in self._pages and not s.busy and now - _last_use(s) > self.lease_seconds
            ]
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
            race = session.race
            if race is not None and race.run.signal.path:
                paths.append(race.run.signal.path)
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

    def make_room(self, incoming: int) -> bool:
        """Make room for `incoming` more bytes under `max_temp_bytes` (dropping what the sweep would drop:
        unused uploads, then finished sessions' files); whether they fit now."""
        return self._cap_temp_bytes(incoming) + incoming <= self.max_temp_bytes

    def _cap_temp_bytes(self, incoming: int = 0) -> int:
        """Drop files until they and `incoming` more bytes fit under the cap, or nothing more can go;
        the bytes left."""
        cap = self.max_temp_bytes - incoming
        sizes = _folder_bytes(self.root)
        uploads = _files_by_age(self.upload_dir)
        used = self.uploads_in_use()
        with self._lock:  # remember what was used; forget uploads that are gone (Gradio's cleaner deletes too)
            self._claimed = (self._claimed | used) & {path.resolve() for _, path, _ in uploads}
        total = sum(sizes.values()) + sum(size for _, _, size in uploads)
        if total <= cap:
            return total
        total = self._drop_uploads(uploads, total, cap, used)
        with self._lock:
            idle = [s for s in self._sessions.values() if (s.race is None or s.race.finished) and not s.busy]
        idle.sort(key=lambda s: s.race.finished_at if s.race is not None and s.race.finished_at is not None else s.seen)
        for session in idle:
            if total <= cap:
                break
            held = sizes.get(session.folder.name, 0)
            if held == 0:
                continue
            log.warning(
                "temp files over %d bytes: dropping the %d bytes of finished session %s",
                self.max_temp_bytes,
                held,
                session.key,
            )
            shutil.rmtree(session.folder, ignore_errors=True)
            session.folder.mkdir(parents=True, exist_ok=True)
            session.loaded.clear()
            total -= held
        return total

    def _drop_uploads(self, uploads: list[tuple[float, Path, int]], total: int, cap: int, used: set[Path]) -> int:
        """Delete uploads no session uses, oldest first, until `total` is under `cap`; the new total.
        Uploads younger than UPLOAD_GRACE_SECONDS stay unless a session has used them already (their call
        may still be coming)."""
        with self._lock:
            claimed = set(self._claimed)
        now = time.time()
        for mtime, path, size in uploads:
            if total <= cap:
                break
            resolved = path.resolve()
            if resolved in used or (now - mtime < UPLOAD_GRACE_SECONDS and resolved not in claimed):
                continue
            with self._lock:
                self._claimed.discard(resolved)
            log.warning(
                "temp files over %d bytes: dropping the unused upload %s (%d bytes)", self.max_temp_bytes, path, size
            )
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

    def _retire(self, race: Race) -> None:
        with self._lock:
            if race in self._waiting:
                self._waiting.remove(race)
                race.finish_unstarted()
                return
        race.stop()

    def _schedule(self) -> None:
        with self._lock:
            while self._waiting and len(self._running) < self.max_jobs:
                race = self._waiting.pop(0)
                self._running.add(race)
                race.start(on_exit=self._on_exit)

    def _on_exit(self, race: Race) -> None:
        with self._lock:
            race.finished_at = self.clock()
            self._running.discard(race)
            self._schedule()


def _last_use(session: Session) -> float:
    """When the session was last asked about, or its race ended if that came later (table clock)."""
    ended = session.race.finished_at if session.race is not None else None
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
