"""One module per modality's tab; importing this package registers them all in `TABS`, in the order
the app shows them (image first: its elem_ids carry no prefix)."""

from . import image  # noqa: F401, I001  (registration order = tab order)
from . import audio  # noqa: F401
from . import shape  # noqa: F401
from .base import OVERLAY_MODES, TABS, Canvas, ModalityTab

__all__ = ["OVERLAY_MODES", "TABS", "Canvas", "ModalityTab"]
