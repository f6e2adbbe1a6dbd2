"""Simulated re-acquisitions of one radiograph, for reproducibility work (issue #5's ICC, the robustness screen).

A re-acquisition changes how the wrist was imaged, not the wrist: small rotation on the detector, another
exposure, another pixel size, other quantum noise. Two kinds of copies:

``perturbed_copies``
    Pixel-level perturbations of any radiograph (also a real one): rotation about the image centre,
    additive Gaussian noise, resampling to another pixel spacing and, optionally, a gain change.
``phantom_reacquisitions``
    For a synthetic phantom: the exposure copies are *re-rendered* with the photon count scaled (same
    anatomy and trabecular texture, new quantum noise: a true re-exposure), the geometric and noise copies
    come from ``perturbed_copies`` of the base image (a re-render at another angle or pixel size would
    draw a new trabecular texture, i.e. another bone).

Every copy is seeded; the same arguments give the same pixels.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import ndimage as ndi

from wristbme.imaging.radiograph import Radiograph

ROTATION_DEG = 5.0
"""Rotation of the rotated copies (both signs)."""
NOISE_FRACTION = 0.01
"""SD of the added noise as a share of the 1st–99th percentile range of the image."""
INTERPOLATION_ORDER = 3
"""Spline order of the geometric copies. A detector at another angle or pixel size does not blur the wrist;
linear interpolation does (it attenuates detail near the pixel scale, the scale of trabecular texture), so
cubic splines are the closer stand-in for a re-acquisition. ``engine_eval --interpolation-order 1`` gives
the linear-interpolation figures as well."""
EXPOSURE_CHANGE = 0.2
"""Relative exposure change of the exposure copies (both signs)."""

PHANTOM_CONDITIONS = ("base", "rot+5", "rot-5", "noise", "spacing0.10", "exposure-20%", "exposure+20%")
"""Condition names of ``phantom_reacquisitions``, in order."""


def perturbed_copies(radiograph: Radiograph, *, seed: int, spacings_mm: tuple[float, ...] = (0.10,),
                     gain: bool = False, order: int = INTERPOLATION_ORDER) -> dict[str, Radiograph]:
    """The radiograph and its perturbed copies, by condition name.

    Parameters
    ----------
    radiograph : Radiograph
        Needs a pixel spacing (the resampled copies are defined in mm).
    seed : int
        Seeds the added noise.
    spacings_mm : tuple of float
        One resampled copy per spacing (linear interpolation), named ``spacing0.10`` etc.
    gain : bool
        Also ``exposure-20%`` / ``exposure+20%`` as a pure gain on the pixels (for images that cannot be
        re-rendered; a gain is exactly what the density normalisation cancels, so it tests the pipeline's
        arithmetic rather than the physics).
    order : int
        Spline order of the rotation and resampling (``INTERPOLATION_ORDER``; 1 = linear).

    Returns
    -------
    dict of str → Radiograph
        ``base``, ``rot+5``, ``rot-5``, ``noise``, the spacing copies and, with ``gain``, the exposure copies.
    """
    if radiograph.spacing_mm is None:
        raise ValueError("perturbed_copies: the radiograph has no pixel spacing; resampled copies need one")
    px = np.asarray(radiograph.pixels, dtype=np.float32)
    sp = radiograph.spacing_mm
    lo, hi = np.percentile(px, [1, 99])
    out = {"base": radiograph}
    for sign, name in ((1, "rot+5"), (-1, "rot-5")):
        out[name] = radiograph.with_pixels(
            ndi.rotate(px, sign * ROTATION_DEG, reshape=False, order=order, mode="nearest").astype(np.float32))
    noise = np.random.default_rng(seed).normal(0.0, NOISE_FRACTION * (hi - lo), px.shape)
    out["noise"] = radiograph.with_pixels((px + noise).astype(np.float32))
    for target in spacings_mm:
        zoom = (sp[0] / target, sp[1] / target)
        out[f"spacing{target:.2f}"] = radiograph.with_pixels(ndi.zoom(px, zoom, order=order).astype(np.float32),
                                                             (target, target))
    if gain:
        for q, name in ((1 - EXPOSURE_CHANGE, "exposure-20%"), (1 + EXPOSURE_CHANGE, "exposure+20%")):
            out[name] = radiograph.with_pixels((px * np.float32(q)).astype(np.float32))
    return out


def phantom_reacquisitions(spec, *, seed: int, site=None, order: int = INTERPOLATION_ORDER) -> dict[str, Radiograph]:
    """The phantom ``spec`` rendered with ``seed`` at ``site`` and its re-acquisitions (``PHANTOM_CONDITIONS``).

    ``spec`` is a ``HandSpec`` (its pixel spacing should be coarser than 0.10 mm, the resampled copy);
    ``site`` a site id, a ``SiteProfile`` or None (default physics).
    """
    from wristbme.synth.phantom import render_phantom
    from wristbme.synth.sites import get_site

    site = get_site(site)
    base = render_phantom(spec, seed=seed, site=site).radiograph
    out = perturbed_copies(base, seed=seed + 1, spacings_mm=(0.10,), order=order)
    for q, name in ((1 - EXPOSURE_CHANGE, "exposure-20%"), (1 + EXPOSURE_CHANGE, "exposure+20%")):
        ph = render_phantom(spec, seed=seed, site=replace(site, quanta_per_mm2=site.quanta_per_mm2 * q))
        out[name] = base.with_pixels((ph.radiograph.pixels * np.float32(q)).astype(np.float32))
    return {name: out[name] for name in PHANTOM_CONDITIONS}


__all__ = ["PHANTOM_CONDITIONS", "perturbed_copies", "phantom_reacquisitions"]
