"""A script that must run before Gradio's own front end (demo/static/quiet_tracker.js says why), put
inside the page's HTML itself.

The status tracker's module keeps its own reference to `window.requestAnimationFrame` from the moment it
loads, which is before anything Gradio lets an app add to the page (`head=`, `js=` and components'
scripts all arrive later, with the app's config). So this ASGI middleware puts the script at the top of
the page's `<head>`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.middleware import Middleware

from .assets import read

QUIET_STATUS_TRACKER = "<script>" + read("quiet_tracker.js") + "</script>"
"""inlined, not loaded by URL: it must run before anything else in the page, without a request first"""


Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class PageHead:
    """ASGI middleware: inserts `html` right after `<head>` in every HTML page the app serves (the app's
    pages are small; other responses pass through untouched, streamed as they come)."""

    def __init__(self, app: ASGIApp, html: str) -> None:
        self.app, self.html = app, html.encode()

    async def __call__(
        self, scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                is_html = headers.get(b"content-type", b"").startswith(b"text/html")
                if not is_html or b"content-encoding" in headers:
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(body)
            at = page.find(b"<head>")
            if at >= 0:
                page = page[: at + 6] + self.html + page[at + 6 :]
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(page)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, wrapped)


def page_head_middleware() -> Middleware:
    """The middleware as FastAPI's constructor takes it (launch(app_kwargs={"middleware": [...]}))."""
    return Middleware(PageHead, html=QUIET_STATUS_TRACKER)
