"""Normalised cross-correlation (NCC) of templates over images, several at a time, for the locator.

``skimage.feature.match_template(image, template)`` (``pad_input=False``, zero padding, 0 where the image
window is flat) is what the locator was built and its demo model trained with. Here:

- ``SkimageBank`` (coarse pose search) reproduces it bit for bit, sharing what can be shared exactly, with
  one deliberate difference: skimage's float32 window sums are inexact on near-flat windows, where it can
  score far above 1, and on 2 of 67 test images such a window decided the coarse pose (a normal hand
  located 90-125 mm off and flagged ``not_identifiable``). Windows whose variance is below the rounding
  error of those sums (``FLAT_ROUNDING``) score 0 here.
- ``ncc_bank`` (pose refinement: many templates, one image) and ``ncc_valid_stack`` (landmarks: a stack of
  windows, each with its own template) give its values up to rounding, with one image FFT or one batched
  FFT; window sums are float64 column sums differenced along the columns first, so a window of zeros is
  exactly flat (NCC 0) and NCC stays within [-1, 1]. Maps are float32.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

FLAT_EPS = float(np.finfo(np.float32).eps)
"""Windows whose (variance × template sum of squares) is at most this get NCC 0 (as in ``match_template``)."""
FLAT_ROUNDING = 8.0 * FLAT_EPS
"""Coarse search: a window whose sum of squared deviations is below ``FLAT_ROUNDING`` × template width ×
the image's largest column sum of squares (the size of the float32 rounding error of its window sums) counts
as flat (NCC 0)."""


def _column_sums(img: np.ndarray, pad: tuple[int, int]) -> np.ndarray:
    """Cumulative sums down the columns (float64) of ``img`` zero-padded by ``pad`` (rows, cols) on each side,
    with a leading row of zeros: ``cs[r, c]`` = sum of padded[:r, c]."""
    h, w = img.shape[-2:]
    z = np.zeros(img.shape[:-2] + (h + 2 * pad[0] + 1, w + 2 * pad[1]))
    z[..., pad[0] + 1:pad[0] + 1 + h, pad[1]:pad[1] + w] = img
    return np.cumsum(z, axis=-2, out=z)


def _box(cs: np.ndarray, r0: int, c0: int, nr: int, nc: int, m: int, n: int) -> np.ndarray:
    """Sums over the (m, n) windows whose top-left corners are rows r0..r0+nr-1, cols c0..c0+nc-1 of the
    padded image whose column sums are ``cs``. Differences are taken along the columns first, then along the
    rows (as ``match_template`` does), so a window of zeros sums to exactly 0 and is seen as flat."""
    d = cs[..., r0 + m:r0 + m + nr, c0:c0 + nc + n - 1] - cs[..., r0:r0 + nr, c0:c0 + nc + n - 1]
    rc = np.zeros(d.shape[:-1] + (nc + n,))
    np.cumsum(d, axis=-1, out=rc[..., 1:])
    return rc[..., n:n + nc] - rc[..., :nc]


def _normalise(xcorr: np.ndarray, wsum: np.ndarray, wsum2: np.ndarray, template: np.ndarray) -> np.ndarray:
    t = template.astype(np.float64)
    axes = (-2, -1)
    tmean = t.mean(axis=axes, keepdims=True)
    tssd = ((t - tmean) ** 2).sum(axis=axes, keepdims=True)
    vol = t.shape[-2] * t.shape[-1]
    num = xcorr - wsum * tmean
    den = np.sqrt(np.maximum((wsum2 - wsum * wsum / vol) * tssd, 0.0))
    ok = den > FLAT_EPS
    out = np.zeros(num.shape, dtype=np.float32)
    np.divide(num, den, out=out, where=ok, casting="unsafe")
    return out


def ncc_bank(image: np.ndarray, templates: list[np.ndarray]) -> list[tuple[np.ndarray, int, int]]:
    """NCC maps of each template over ``image`` zero-padded by half the template on each side.

    Parameters
    ----------
    image : (H, W) float array
    templates : list of (m, n) float arrays

    Returns
    -------
    list of (map, pad_rows, pad_cols)
        As ``match_template(np.pad(image, ((m // 2,) * 2, (n // 2,) * 2)), template)``; a padded image smaller
        than the template is padded further at the end, so the map has at least one row and column.
    """
    if not templates:
        return []
    h, w = image.shape
    mmax = max(t.shape[0] for t in templates)
    nmax = max(t.shape[1] for t in templates)
    shape = (sfft.next_fast_len(h + mmax - 1, real=True), sfft.next_fast_len(w + nmax - 1, real=True))
    img32 = np.ascontiguousarray(image, dtype=np.float32)
    spec = sfft.rfft2(img32, s=shape)
    img64 = image.astype(np.float64)
    cs = _column_sums(np.stack([img64, img64 * img64]), (mmax, nmax))  # sums, sums of squares
    prods = np.stack([spec * sfft.rfft2(np.ascontiguousarray(t[::-1, ::-1], dtype=np.float32), s=shape)
                      for t in templates])
    conv = sfft.irfft2(prods, s=shape)
    out = []
    for k, t in enumerate(templates):
        m, n = t.shape
        pr, pc = m // 2, n // 2
        nr, nc = max(h + 2 * pr, m) - m + 1, max(w + 2 * pc, n) - n + 1
        # map row i is the window starting at image row i - pr: padded row i - pr + mmax, conv row i - pr + m - 1
        xcorr = conv[k, m - 1 - pr:m - 1 - pr + nr, n - 1 - pc:n - 1 - pc + nc].astype(np.float64)
        r0, c0 = mmax - pr, nmax - pc
        wsum, wsum2 = _box(cs, r0, c0, nr, nc, m, n)
        out.append((_normalise(xcorr, wsum, wsum2, t), pr, pc))
    return out


def ncc_valid_stack(windows: np.ndarray, templates: np.ndarray) -> np.ndarray:
    """NCC of ``templates[i]`` over ``windows[i]`` at every position where it fits inside.

    Parameters
    ----------
    windows : (N, H, W) float array
    templates : (N, m, n) float array, m ≤ H and n ≤ W

    Returns
    -------
    (N, H - m + 1, W - n + 1) float32
        ``out[i] == match_template(windows[i], templates[i])`` up to rounding.
    """
    n_win, h, w = windows.shape
    m, n = templates.shape[1:]
    shape = (sfft.next_fast_len(h, real=True), sfft.next_fast_len(w, real=True))
    # a circular correlation of size ≥ (H, W) does not wrap at the fully overlapping positions
    spec = sfft.rfft2(windows.astype(np.float32), s=shape)
    tspec = sfft.rfft2(np.ascontiguousarray(templates[:, ::-1, ::-1], dtype=np.float32), s=shape)
    conv = sfft.irfft2(spec * tspec, s=shape)
    nr, nc = h - m + 1, w - n + 1
    xcorr = conv[:, m - 1:m - 1 + nr, n - 1:n - 1 + nc].astype(np.float64)
    win64 = windows.astype(np.float64)
    wsum, wsum2 = _box(_column_sums(np.stack([win64, win64 * win64]), (0, 0)), 0, 0, nr, nc, m, n)
    return _normalise(xcorr, wsum, wsum2, templates)


class SkimageBank:
    """``match_template`` of several templates over one image, bit for bit as ``skimage.feature.match_template``
    computes it (float32 window sums and FFTs) on the image zero-padded by half of each template.

    It shares what can be shared exactly: the column sums of the image (leading zero rows add exact zeros)
    and the spectra of the templates. ``match_template``'s float32 window sums are inexact over near-flat
    windows (a window of tiny values can score far above 1); those windows (variance below the rounding
    floor, ``FLAT_ROUNDING``) score 0 instead.
    """

    def __init__(self) -> None:
        self._spectra: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
        self._stats: dict[int, tuple[np.ndarray, np.ndarray, int, np.ndarray]] = {}

    def _template(self, template: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """(mean, sum of squared deviations, size) of ``template``, float32 scalars as skimage has them."""
        key = id(template)
        if key not in self._stats:  # kept with the template, so its id is not reused
            tmean = template.mean()
            self._stats[key] = (template, tmean, int(np.prod(template.shape)), np.sum((template - tmean) ** 2))
        _, tmean, vol, ssd = self._stats[key]
        return tmean, ssd, vol

    def _spectrum(self, template: np.ndarray, fshape: tuple[int, int]) -> np.ndarray:
        key = (id(template), fshape[0], fshape[1])
        if key not in self._spectra:
            self._spectra[key] = (template, sfft.rfftn(template[::-1, ::-1], fshape, axes=[0, 1]))
        return self._spectra[key][1]

    def match(self, image: np.ndarray, templates: list[np.ndarray]) -> list[tuple[np.ndarray, int, int]]:
        """As ``[(match_template(np.pad(image, ((m // 2,) * 2, (n // 2,) * 2)), t), m // 2, n // 2) ...]``
        for float32 ``image`` and ``templates`` (padded further at the end when smaller than a template).

        Only the returned part of ``match_template``'s intermediate arrays is computed; every value in it goes
        through the same float32 operations in the same order (a running sum started inside a run of exact
        zeros gives the same bits as one started before it)."""
        image = np.asarray(image, dtype=np.float32)
        h, w = image.shape
        col = np.cumsum(np.stack([image, image ** 2]), axis=1)  # sums and sums of squares
        col_sq_max = float(col[1, -1].max()) if h else 0.0  # the largest column sum of squares
        out = []
        for t in templates:
            m, n = t.shape
            pr, pc = m // 2, n // 2
            # match_template pads (image zero-padded by half the template) by the template shape again
            top, left = pr + m, pc + n
            rows = h + 2 * pr + max(0, m - (h + 2 * pr)) + 2 * m
            cols = w + 2 * pc + max(0, n - (w + 2 * pc)) + 2 * n
            nr, nc = rows - 3 * m + 1, cols - 3 * n + 1
            wsum, wsum2 = _window_sums_f32(col, top, left, m, n, nr, nc)
            tmean, ssd, vol = self._template(t)
            full = (rows + m - 1, cols + n - 1)
            fshape = (sfft.next_fast_len(full[0], True), sfft.next_fast_len(full[1], True))
            # fftconvolve's 'valid' part starts at (m - 1, n - 1); match_template drops one more row and
            # column, then keeps its rows m - 1 ... and columns n - 1 ...
            r0 = (full[0] - (rows - m + 1)) // 2 + m
            c0 = (full[1] - (cols - n + 1)) // 2 + n
            xcorr = _correlate_rows(image, top, left, fshape, self._spectrum(t, fshape), r0, nr)[:, c0:c0 + nc]
            numerator = xcorr - wsum * tmean
            denominator = wsum2
            np.multiply(wsum, wsum, out=wsum)
            np.divide(wsum, vol, out=wsum)
            denominator -= wsum
            denominator *= ssd
            np.maximum(denominator, 0, out=denominator)
            np.sqrt(denominator, out=denominator)
            response = np.zeros(xcorr.shape, dtype=np.float32)
            # a window whose variance is below the rounding error of its float32 sums is flat, not a match:
            # match_template divides rounding noise there and can score far above 1
            flat_floor = float(np.sqrt(FLAT_ROUNDING * n * col_sq_max * float(ssd)))
            np.divide(numerator, denominator, out=response, where=denominator > max(FLAT_EPS, flat_floor))
            out.append((response, pr, pc))
        return out


def _correlate_rows(image: np.ndarray, top: int, left: int, fshape: tuple[int, int], spectrum: np.ndarray,
                    r0: int, nr: int) -> np.ndarray:
    """Rows r0 ... r0 + nr - 1 of ``irfftn(rfftn(frame, fshape) * spectrum, fshape)``, where ``frame`` is
    zeros with ``image`` at (top, left), with the bits ``scipy.fft`` gives (pocketfft transforms the last axis,
    then the first, and scales once at the end): the forward row transforms skip the rows of zeros, the
    inverse row transforms are done only for the rows asked for."""
    h, w = image.shape
    rowspec = np.zeros((fshape[0], fshape[1] // 2 + 1), dtype=np.complex64)
    row_in = np.zeros((h, left + w), dtype=np.float32)
    row_in[:, left:] = image
    rowspec[top:top + h] = sfft.rfft(row_in, fshape[1], axis=1)
    spec = sfft.fft(rowspec, fshape[0], axis=0, overwrite_x=True)
    spec *= spectrum
    cols = sfft.ifft(spec, fshape[0], axis=0, norm="forward", overwrite_x=True)
    out = sfft.irfft(cols[r0:r0 + nr], fshape[1], axis=1, norm="forward")
    out *= np.float32(1.0 / (fshape[0] * fshape[1]))
    return out


def _window_sums_f32(col: np.ndarray, top: int, left: int, m: int, n: int, nr: int, nc: int) -> np.ndarray:
    """The part of skimage's ``_window_sum_2d(frame, (m, n))`` that ``match_template`` returns (rows m - 1 ...
    m + nr - 2, columns n - 1 ... n + nc - 2), where ``frame`` is zeros with an image at (top, left), top ≥ m
    and left ≥ n; ``col`` (K, h, w) holds float32 column sums of K such images. Same float32 operations, so
    the same bits."""
    k, h, w = col.shape
    c_lo, c_hi = max(left - (n - 1), 0), min(left + w - (n - 1), n + nc)
    src = col[:, :, c_lo + (n - 1) - left:c_hi + (n - 1) - left]

    def frame_rows(r_from: int) -> np.ndarray:
        """Rows r_from ... r_from + nr - 1 of the frame's column sums, columns n - 1 ... 2n + nc - 2."""
        out = np.zeros((k, nr, n + nc), dtype=np.float32)
        a, b = r_from - top, r_from - top + nr  # image rows; below the image the sums stay at the last row
        lo, hi = max(a, 0), min(b, h)
        if hi > lo:
            out[:, lo - a:hi - a, c_lo:c_hi] = src[:, lo:hi]
        if b > h:
            out[:, max(h, a) - a:, c_lo:c_hi] = src[:, h - 1:h]
        return out

    d = frame_rows(2 * m - 1) - frame_rows(m - 1)
    c = np.cumsum(d, axis=2)  # column n - 1 < left: the running sum starts in zeros
    return c[:, :, n:n + nc] - c[:, :, :nc]
