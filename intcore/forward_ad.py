"""One function-transform computation at a time in the whole process.

torch.func's transforms (grad, vjp, jvp) and forward-mode automatic differentiation keep their nesting
"levels" in state that the whole process shares, not each thread: two threads inside them at once (two
app sessions racing `nint`, a kernel-view click during another session's `nint` race) fail with
"Trying to access a forward AD level with an invalid index". Every intcore function built on them is
`serialised`, so such computations take turns; plain training steps are not affected.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

from torch.func import jvp as _torch_jvp

from .device import CAPTURE_LOCK

F = TypeVar("F", bound=Callable[..., Any])

LOCK = threading.RLock()
"""held while a torch.func computation runs (re-entrant: serialised functions may call each other)"""


def serialised(fn: F) -> F:
    """Run `fn` holding LOCK, and the device's CAPTURE_LOCK first (taken in that order everywhere): a
    lecture's computation on a GPU must not launch work while another session records a CUDA graph."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with CAPTURE_LOCK, LOCK:
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@serialised
def jvp(func: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any]:
    """(func(*primals), J·tangents), as torch.func.jvp."""
    # without has_aux, torch.func.jvp returns two outputs (its annotation allows a third)
    return _torch_jvp(func, primals, tangents)  # type: ignore[return-value]
