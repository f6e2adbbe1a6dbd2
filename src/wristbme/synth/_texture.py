"""Trabecular texture: anisotropic fractal (power-law spectrum) Gaussian fields, made with one FFT."""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft
from scipy import ndimage as ndi


def fractal_field(shape: tuple[int, int], spacing_mm: float, rng: np.random.Generator, *, beta: float = 3.0,
                  corr_mm: float = 1.0, angle_rad: float = 0.0, anisotropy: float = 1.0,
                  ridge: float = 0.5) -> np.ndarray:
    """A zero-mean, unit-variance float32 field with power spectrum ``~ (k^2 + k0^2)^(-beta/2)``.

    Parameters
    ----------
    shape : (rows, cols)
    spacing_mm : float
        Pixel spacing (mm).
    rng : numpy Generator
        Source of the white noise (exactly ``rows*cols`` normal draws).
    beta : float
        Spectral exponent of the power spectrum (fBm: ``beta = 2H + 2``).
    corr_mm : float
        Roll-off scale: frequencies below ``1/(2*pi*corr_mm)`` cycles/mm are flattened (no blotches larger
        than a few trabecular spacings).
    angle_rad : float
        Direction (in the image x/y frame, y down) along which the texture is elongated.
    anisotropy : float
        >= 1; ratio of correlation lengths along and across ``angle_rad``.
    ridge : float
        0..1 share of a ridged transform (``exp(-g^2/0.245)``, bounded) mixed in, giving network-like bright lines
        reminiscent of trabeculae rather than a Gaussian cloud.
    """
    rows, cols = shape
    fr = sfft.next_fast_len(max(rows, 8), real=True)
    fc = sfft.next_fast_len(max(cols, 8), real=True)
    noise = rng.standard_normal((rows, cols), dtype=np.float32)
    spec = sfft.rfft2(noise, s=(fr, fc), workers=1)
    ky = sfft.fftfreq(fr, d=spacing_mm).astype(np.float32)[:, None]
    kx = sfft.rfftfreq(fc, d=spacing_mm).astype(np.float32)[None, :]
    c, s = np.float32(np.cos(angle_rad)), np.float32(np.sin(angle_rad))
    ku = kx * c + ky * s
    kv = -kx * s + ky * c
    a = np.float32(max(anisotropy, 1.0))
    k2 = (ku * a) ** 2 + (kv / a) ** 2
    k0 = np.float32(1.0 / (2.0 * np.pi * corr_mm))
    filt = (k2 + k0 * k0) ** np.float32(-beta / 4.0)
    filt[0, 0] = 0.0
    out = sfft.irfft2(spec * filt, s=(fr, fc), workers=1)[:rows, :cols]
    out = out.astype(np.float32, copy=False)
    out -= out.mean()
    sd = out.std()
    if sd > 0:
        out /= sd
    if ridge > 0:
        # bright lines along the zero crossings of a smoothed copy: a network ~0.2-0.4 mm wide
        sm = ndi.gaussian_filter(out, 0.2 / spacing_mm, truncate=2.5)
        sm /= max(float(sm.std()), 1e-6)
        r = np.exp(-(sm * sm) * np.float32(1.0 / (2 * 0.3 * 0.3)))
        r -= r.mean()
        rs = r.std()
        if rs > 0:
            r /= rs
        out = (1.0 - ridge) * out + ridge * r
        out /= np.sqrt((1.0 - ridge) ** 2 + ridge ** 2)
    return out.astype(np.float32, copy=False)
