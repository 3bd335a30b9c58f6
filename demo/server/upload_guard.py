"""Uploads the server has no room for are refused at the door: `UploadGuard`.

Gradio writes every upload into its upload cache before any handler of the app sees it. On a full disk
that write fails half way with an error that names nothing; and a burst of uploads would pass
`--max-temp-mb` before the session table's sweep (once a second) trims the files. So, before an upload's
body is read, this ASGI middleware checks its declared size (Content-Length) against the free space of
the cache's disk and, where the app counts the cache, against the cap, counting the uploads still on
their way; the cap first drops files nobody needs (SessionTable.make_room). An upload without room gets
HTTP 507 and one sentence, which the page shows in its error toast.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.middleware import Middleware

from .sessions import SessionTable

DISK_MARGIN_BYTES = 8 * 2**20
"""free space kept beyond an upload: the sessions still write previews, media and downloads"""
DISK_FULL = "could not keep the upload: the server's disk is full"
CAP_FULL = (
    "could not keep the upload: the server's space for files (--max-temp-mb) is full; "
    "try again once a race has finished"
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class UploadGuard:
    """ASGI middleware: refuses (507) an upload POST whose declared size does not fit."""

    def __init__(self, app: Any, table: SessionTable) -> None:
        self.app, self.table = app, table
        self.reserved = 0
        """bytes of uploads admitted and still being received"""
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope["path"].endswith("/upload"):
            await self.app(scope, receive, send)
            return
        size = _content_length(scope)
        problem = await anyio.to_thread.run_sync(self.admit, size)
        if problem is not None:
            body = problem.encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 507, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.reserved -= size

    def admit(self, size: int) -> str | None:
        """Reserve `size` bytes for an upload; None if admitted, else the sentence saying why not."""
        folder = self.table.upload_dir or Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir())
        try:
            free = shutil.disk_usage(folder if folder.exists() else folder.parent).free
        except OSError:
            free = None
        with self._lock:
            incoming = self.reserved + size
            if free is not None and free < incoming + DISK_MARGIN_BYTES:
                return DISK_FULL
            if self.table.upload_dir is not None and not self.table.make_room(incoming):
                return CAP_FULL
            self.reserved += size
        return None


def _content_length(scope: Scope) -> int:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return 0
    return 0


def upload_guard_middleware(table: SessionTable) -> Middleware:
    """The middleware as FastAPI's constructor takes it (launch(app_kwargs={"middleware": [...]}))."""
    return Middleware(UploadGuard, table=table)
