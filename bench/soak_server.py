"""`python -m demo` as the soak starts it, plus one debugging aid: on SIGUSR1 the server writes the names
of all its threads to the file named by INT_SOAK_THREADS (JSON), so the soak can say which thread is
left over, not only how many.

Every native thread of the process is listed (from /proc/self/task): a Python thread by its
`threading` name, any other (torch's and OpenMP's workers, the allocator's) as `native:<comm>`. A worker
of anyio's thread pool (Gradio runs the handlers there) that waits for work is named
`AnyIO worker thread (idle)`: the pool keeps idle workers until a handler runs 10 s after they went idle,
so how many idle ones a quiet server holds depends on timing (one request leaves one or two), while a
busy one is a handler still running.
Nothing is served or opened to the network: the names go to a file of the soak's own choosing.

    INT_SOAK_THREADS=/tmp/t.json python bench/soak_server.py --port 7861 ...   # then: kill -USR1 <pid>
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


IDLE_ANYIO = "AnyIO worker thread (idle)"


def waiting_for_work(thread: threading.Thread) -> bool:
    """True for a worker of anyio's thread pool that sits in its loop waiting for the next job."""
    frame = sys._current_frames().get(thread.ident)
    stack = []
    while frame is not None:
        stack.append(frame.f_code)
        frame = frame.f_back
    stack.reverse()  # outermost first
    for outer, inner in zip(stack, stack[1:]):
        if outer.co_name == "run" and outer.co_filename.endswith(os.path.join("anyio", "_backends", "_asyncio.py")):
            return inner.co_name == "get" and inner.co_filename.endswith("queue.py")
    return False


def thread_names() -> list[str]:
    """Every native thread of this process, sorted: Python threads by name (an idle anyio worker as
    IDLE_ANYIO), others as `native:<comm>`."""
    python = {t.native_id: IDLE_ANYIO if t.name == "AnyIO worker thread" and waiting_for_work(t) else t.name
              for t in threading.enumerate()}
    names = []
    for tid in os.listdir("/proc/self/task"):
        try:
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:  # the thread ended while listing
            continue
        names.append(python.get(int(tid), f"native:{comm}"))
    return sorted(names)


def left_over(before: list[str], after: list[str]) -> list[str]:
    """The names in `after` beyond those in `before` (counted: two of a name against one is one)."""
    rest = list(before)
    extra = []
    for name in after:
        if name in rest:
            rest.remove(name)
        else:
            extra.append(name)
    return extra


def threads_left_over(before: list[str], after: list[str]) -> list[str]:
    """The server's threads at the end that were not there at the baseline, by name, leaving out idle
    workers of anyio's pool (Gradio's handlers run there). The pool keeps an idle worker until a handler
    runs 10 s after it went idle, and one request leaves one or two of them by timing alone (measured:
    six requests 11 s apart to an otherwise idle server left 2, 2, 1, 1, 2, 2), so their number says nothing about
    a leak; a worker still busy in a handler, a job's thread or any other thread does."""
    return left_over([n for n in before if n != IDLE_ANYIO], [n for n in after if n != IDLE_ANYIO])


def _write_names(signum: int, frame: object) -> None:
    path = Path(os.environ["INT_SOAK_THREADS"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(thread_names()))
    os.replace(tmp, path)  # the soak never reads half a file


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if os.environ.get("INT_SOAK_THREADS"):
        signal.signal(signal.SIGUSR1, _write_names)
    from demo.__main__ import main as demo_main

    return demo_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
