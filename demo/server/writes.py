"""A failed write, said in one sentence: "could not write the downloads: the disk is full".

The server writes uploads, previews, media for the players and downloads into the sessions' folders. When
one of those writes fails (no space left, a quota, too little memory, a read-only folder), the race goes
on, the page shows this sentence, and the next write tries again: nothing remembers the failure, so the
server recovers as soon as space returns.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

DISK_FULL = "the disk is full"
REASONS = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: "the disk quota is used up",
    errno.ENOMEM: "the server ran out of memory",
    errno.EROFS: "the folder is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def is_write_failure(exc: BaseException) -> bool:
    """True for the failures a write can meet on a full or broken disk (OSError, MemoryError); a folder
    deleted under the write (its session closed) is not one: the caller already handles that."""
    return isinstance(exc, MemoryError) or (isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError))


def write_failure(what: str, exc: BaseException) -> str:
    """`what` ("the downloads") and the failure -> one sentence for the user, without a module or an
    exception's name: "could not write the downloads: the disk is full"."""
    if isinstance(exc, MemoryError):
        reason = REASONS[errno.ENOMEM]
    elif isinstance(exc, OSError) and exc.errno in REASONS:
        reason = REASONS[exc.errno]
    elif isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror[0].lower() + exc.strerror[1:]
    else:
        reason = "the write failed"
    return f"could not write {what}: {reason}"


def attempt(what: str, write: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run `write()`: (its result, None), or (None, the sentence) when it fails as a write on a full or
    broken disk does (`is_write_failure`); any other error is raised as it is."""
    try:
        return write(), None
    except Exception as exc:
        if not is_write_failure(exc):
            raise
        return None, write_failure(what, exc)


def as_sentence(text: str) -> str:
    """ "could not write x: y" -> "Could not write x: y." (for a toast)."""
    return f"{text[0].upper()}{text[1:]}."


def write_whole(path: Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all: a write that fails (a full disk) leaves no partial file
    under the name (one that a later "written already?" check would take for the real thing)."""
    part = path.with_name(path.name + ".part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path
