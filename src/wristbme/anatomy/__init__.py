"""Wrist anatomy: where the RAMRIS wrist bones are on a PA radiograph.

``locate(radiograph, corrections=None) -> WristAnatomy``; ``anatomy_to_json`` / ``anatomy_from_json``;
``anatomy_record`` (pixels and mm, for people and ``inspect --json``); ``overlay.render_overlay`` /
``overlay.save_overlay``. See ``docs/anatomy.md``.
"""

from wristbme.anatomy.io import anatomy_from_json, anatomy_record, anatomy_to_json
from wristbme.anatomy.locator import locate
from wristbme.anatomy.types import AXES, LANDMARKS, QC_FLAGS, Region, WristAnatomy, polygon_mask

__all__ = ["AXES", "LANDMARKS", "QC_FLAGS", "Region", "WristAnatomy", "anatomy_from_json", "anatomy_record",
           "anatomy_to_json", "locate", "polygon_mask"]
