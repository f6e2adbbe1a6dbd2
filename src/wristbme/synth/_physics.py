"""X-ray image formation: thickness maps → Beer–Lambert → heel, scatter, quantum noise, detector blur →
log transform → vendor processing → auto-ranging and quantisation."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from wristbme.synth.sites import SiteProfile

MU_WATER_PER_MM = 0.038
"""Linear attenuation of water/soft tissue at ~30 keV effective (NIST XCOM 0.376 cm^2/g), per mm."""
MU_BONE_PER_MM = 0.2
"""Linear attenuation of cortical bone (ICRU, 1.92 g/cm^3) per mm: between the XCOM values at 30 and 40 keV
(0.256 and 0.128 /mm), a beam-hardening compromise chosen with ``benchmarks/realism.py``."""
MU_LEAD_PER_MM = 20.0
"""Lead marker: effectively opaque."""


def lowpass(img: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian low pass; large sigmas are done on a block-averaged copy (error << the noise)."""
    if sigma_px <= 0:
        return img
    if sigma_px < 6:
        return ndi.gaussian_filter(img, sigma_px, mode="nearest", truncate=3.0)
    f = max(1, int(sigma_px // 3))
    rows, cols = img.shape
    pr, pc = (-rows) % f, (-cols) % f
    padded = np.pad(img, ((0, pr), (0, pc)), mode="edge")
    small = padded.reshape(padded.shape[0] // f, f, padded.shape[1] // f, f).mean(axis=(1, 3))
    small = ndi.gaussian_filter(small, sigma_px / f, mode="nearest", truncate=3.0)
    return upsample_linear(small, f, (rows, cols)).astype(img.dtype, copy=False)


def upsample_linear(small: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling by an integer factor ``f`` of a block-averaged grid (block centres aligned)."""
    out = small.astype(np.float32, copy=False)
    for axis, n in ((0, shape[0]), (1, shape[1])):
        m = out.shape[axis]
        pos = (np.arange(n, dtype=np.float32) + 0.5) / f - 0.5
        i0 = np.clip(np.floor(pos).astype(np.intp), 0, m - 1)
        i1 = np.clip(i0 + 1, 0, m - 1)
        w = np.clip(pos - i0, 0.0, 1.0).astype(np.float32)
        a = np.take(out, i0, axis=axis)
        b = np.take(out, i1, axis=axis)
        wshape = [1, 1]
        wshape[axis] = n
        w = w.reshape(wshape)
        out = a + (b - a) * w
    return out


def expose(soft_mm: np.ndarray, bone_mm: np.ndarray, lead_mm: np.ndarray | None, field_mask: np.ndarray,
           spacing_mm: float, site: SiteProfile, rng: np.random.Generator) -> np.ndarray:
    """Detected quanta per pixel (float32), noise and detector blur included.

    Parameters
    ----------
    soft_mm : float32 (rows, cols)
        Soft-tissue (water-equivalent) path length, bone space included.
    bone_mm : float32 (rows, cols)
        Cortical-bone-equivalent path length (trabecular bone counted at its volume fraction).
    lead_mm : float32 (rows, cols) or None
        Lead (marker) path length.
    field_mask : float32 (rows, cols)
        1 inside the collimated field, 0 outside (soft edges allowed).
    site : SiteProfile
        Dose, scatter, heel and blur.
    rng : Generator
        Quantum noise source (rows*cols normal draws).
    """
    rows, cols = soft_mm.shape
    att = MU_WATER_PER_MM * soft_mm + np.float32(MU_BONE_PER_MM - MU_WATER_PER_MM) * bone_mm
    if lead_mm is not None:
        att += np.float32(MU_LEAD_PER_MM) * lead_mm
    primary = np.exp(-att, dtype=np.float32)
    heel = (1.0 + site.heel * (np.linspace(-0.5, 0.5, rows, dtype=np.float32))).astype(np.float32)[:, None]
    primary *= heel
    primary *= field_mask
    scatter = lowpass(primary, 25.0 / spacing_mm) * np.float32(site.scatter_fraction)
    quanta = np.float32(site.quanta_per_mm2 * spacing_mm * spacing_mm)
    signal = (primary + scatter) * quanta
    noise = rng.standard_normal((rows, cols), dtype=np.float32)
    signal += np.sqrt(np.maximum(signal, 0.0)) * noise
    sigma_px = site.blur_mm / spacing_mm
    blurred = ndi.gaussian_filter(signal, sigma_px, mode="nearest", truncate=3.0)
    if site.blur_tail > 0:
        tail = lowpass(signal, 6.0 * sigma_px + 2.0)
        blurred = (1.0 - site.blur_tail) * blurred + np.float32(site.blur_tail) * tail
    return blurred.astype(np.float32, copy=False)


def to_display(quanta_img: np.ndarray, spacing_mm: float, site: SiteProfile, field_mask: np.ndarray) -> np.ndarray:
    """Log transform, vendor processing, auto-ranging, tone curve and quantisation.

    Returns float32 integer values in ``0 .. 2**bits_stored - 1``, bone bright (MONOCHROME2 sense).
    """
    quanta = np.float32(site.quanta_per_mm2 * spacing_mm * spacing_mm)
    raw = -np.log(np.maximum(quanta_img, 1.0) / quanta)
    g = lowpass(raw, site.processing_sigma_mm / spacing_mm)
    p = raw + np.float32(site.edge_gain) * (raw - g) - np.float32(site.range_compression) * g
    inside = field_mask > 0.5
    step = max(1, int(inside.sum() // 200_000))
    sample = p[inside][::step]
    lo, hi = np.percentile(sample, site.output_percentiles)
    # exposure recognition: direct exposure (air) is shown black and the
    # edge-enhancement undershoot next to the skin clipped
    air = (raw < 0.08)[inside][::step]
    if air.mean() > 0.02:
        lo = max(lo, float(np.median(sample[air])))
    if not hi > lo:
        hi = lo + 1.0
    v = np.clip((p - lo) / np.float32(hi - lo), 0.0, 1.0)
    if site.gamma != 1.0:
        v = v ** np.float32(site.gamma)
    out = np.rint(v * np.float32(site.max_value))
    out[~inside] = site.max_value  # collimated: unexposed, shown white
    return out.astype(np.float32, copy=False)
