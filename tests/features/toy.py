"""A tiny stand-in wrist: elliptical 'bones' with fractal-ish texture, a shaft reference, soft tissue.

Used by the feature tests so they do not depend on the synthetic phantom; the model tests use the phantom.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from wristbme.anatomy.types import Region, WristAnatomy
from wristbme.bones import Bone
from wristbme.imaging.radiograph import Radiograph, SpacingSource


def ellipse(cx, cy, a, b, n=48, angle=0.0):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x, y = a * np.cos(t), b * np.sin(t)
    ca, sa = np.cos(angle), np.sin(angle)
    return np.stack([cx + ca * x - sa * y, cy + sa * x + ca * y], axis=1)


BONES = {Bone.LUNATE: (20.0, 22.0, 5.0, 4.5), Bone.SCAPHOID: (10.0, 22.0, 4.5, 6.0),
         Bone.CAPITATE: (16.0, 12.0, 4.0, 6.0)}
REFERENCE = np.array([[26.0, 4.0], [30.0, 4.0], [30.0, 30.0], [26.0, 30.0]])


def toy(spacing_mm=0.3, seed=0, edema=0.0, gain=1.0, offset=0.0, size_mm=(36.0, 36.0)):
    rng = np.random.default_rng(seed)
    rows, cols = int(size_mm[0] / spacing_mm), int(size_mm[1] / spacing_mm)
    y, x = np.mgrid[0:rows, 0:cols] * spacing_mm
    img = np.full((rows, cols), 0.2)
    regions = {}
    tex = ndi.gaussian_filter(rng.normal(size=(rows, cols)), 0.4 / spacing_mm) * 3.0
    for bone, (cx, cy, a, b) in BONES.items():
        inside = ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1
        img[inside] = 0.8 - 0.15 * edema + 0.08 * tex[inside] * (1 - 0.5 * edema)
        regions[bone] = Region(bone, ellipse(cx, cy, a, b), 0.9)
    shaft = (x >= 26) & (x <= 30) & (y >= 4) & (y <= 30)
    img[shaft] = 0.9
    img = img + rng.normal(scale=0.01, size=img.shape)
    img = gain * img + offset
    rg = Radiograph(img.astype(np.float32), (spacing_mm, spacing_mm), SpacingSource.PIXEL_SPACING, "R", "PA")
    anat = WristAnatomy((spacing_mm, spacing_mm), (rows, cols), {}, regions, reference_region=REFERENCE,
                        method="toy")
    return rg, anat
