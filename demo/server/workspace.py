"""Where one server keeps its files, and how a start cleans up after servers that died: `Workspace`.

Every `python -m demo` of one user keeps its files under one root, `<temp>/int-studio-<uid>`, in a
folder of its own, `run-<pid>-<random>` (`sessions/`: the sessions' uploads, previews and downloads;
`uploads/`: Gradio's upload cache), and holds an exclusive lock (flock) on its `lock` file while it
lives. A clean exit (Ctrl+C, SIGTERM) deletes its folder, and the root once it is empty.

A server killed with SIGKILL, or a machine that lost power, cannot clean up. The kernel drops a dead
process's locks, so the next start takes the lock of every `run-*` folder it can and deletes those: a
folder whose lock is taken belongs to a live server and is left alone. Folder names are random, so
nothing a new server writes can meet a leftover, even before the leftovers are gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_NAME = "lock"
PREFIX = "run-"


class Workspace:
    """One server's folder under the user's root, locked while the server lives."""

    def __init__(self, root: Path, folder: Path, lock_fd: int) -> None:
        self.root = root
        self.folder = folder
        self.sessions = folder / "sessions"
        """the sessions' files (SessionTable's root)"""
        self.uploads = folder / "uploads"
        """Gradio's upload cache (GRADIO_TEMP_DIR)"""
        self.removed: list[Path] = []
        """the dead servers' folders this start deleted"""
        self._lock_fd: int | None = lock_fd

    @classmethod
    def claim(cls, base: Path | None = None) -> Workspace:
        """Make this process's folder under `base` (default: the system's temp folder, $TMPDIR), lock it,
        and delete the folders of servers that are gone."""
        root = user_root(Path(base or tempfile.gettempdir()))
        for _ in range(5):  # another server may delete the (empty) root between our mkdir and mkdtemp
            root.mkdir(mode=0o700, exist_ok=True)
            try:
                folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))
                break
            except FileNotFoundError:
                continue
        else:
            raise OSError(f"could not make a folder under {root}")
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh file nobody else knows: never blocks
        workspace = cls(root, folder, fd)
        workspace.sessions.mkdir()
        workspace.uploads.mkdir()
        workspace.removed = remove_dead(root, keep=folder)
        return workspace

    def release(self) -> None:
        """Delete this server's folder and give up its lock; delete the root if no other server uses it."""
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        with contextlib.suppress(OSError):  # not empty: another server's folder is in it
            self.root.rmdir()


def user_root(base: Path) -> Path:
    """`base/int-studio-<uid>`, if it is this user's own folder or does not exist yet. In a temp folder
    every user can write to, someone else may have made that name first (or a link there): then a fresh
    folder of this user's own is used instead (whose leftovers the next start cannot find)."""
    root = base / f"int-studio-{os.getuid()}"
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return root
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
        return root
    log.warning("%s is not this user's folder: using a new temporary folder instead", root)
    return Path(tempfile.mkdtemp(prefix=f"int-studio-{os.getuid()}-", dir=base))


def remove_dead(root: Path, keep: Path | None = None) -> list[Path]:
    """Delete every `run-*` folder under `root` whose server is gone (its lock can be taken, or it has no
    lock file and the process its name names is not running); returns the folders deleted."""
    removed = []
    for folder in sorted(root.glob(f"{PREFIX}*")):
        if folder == keep or not folder.is_dir() or folder.is_symlink():
            continue
        if _owner_alive(folder):
            continue
        log.info("deleting %s: left by a server that is no longer running", folder)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _owner_alive(folder: Path) -> bool:
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:  # killed between making the folder and its lock file, or half deleted
        return _pid_alive(folder.name[len(PREFIX) :].split("-", 1)[0])
    except OSError:
        return True  # cannot tell: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the lock we may have taken
    return False


def _pid_alive(text: str) -> bool:
    if not text.isdigit():
        return False
    try:
        os.kill(int(text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
