"""The locator's faster template matching gives ``skimage.feature.match_template``'s answers.

The coarse pose search reproduces skimage bit for bit, except on windows flatter than the rounding error of
skimage's float32 window sums, where skimage can score far above 1 and the bank gives 0 (see
``_match.SkimageBank``); the refinement matchers must agree to rounding and be exact on flat windows.
The whole-locator check (67 images) is ``benchmarks/locate_invariance.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.feature import match_template

from wristbme.anatomy._match import SkimageBank, ncc_bank, ncc_valid_stack


def _skimage_padded(image: np.ndarray, template: np.ndarray) -> tuple[np.ndarray, int, int]:
    """What the locator computed before: match_template over the image zero-padded by half the template."""
    pr, pc = template.shape[0] // 2, template.shape[1] // 2
    padded = np.pad(image, ((pr, pr), (pc, pc)))
    extra = (max(0, template.shape[0] - padded.shape[0]), max(0, template.shape[1] - padded.shape[1]))
    return match_template(np.pad(padded, ((0, extra[0]), (0, extra[1]))), template), pr, pc


def _smooth(rng: np.random.Generator, shape: tuple[int, int], sigma: float = 2.0) -> np.ndarray:
    return ndimage.gaussian_filter(rng.normal(size=shape), sigma).astype(np.float32)


@pytest.fixture
def templates() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [_smooth(rng, s, 1.5) for s in [(27, 31), (36, 41), (44, 52), (80, 10)]]


@pytest.mark.parametrize("shape", [(63, 61), (150, 171), (20, 30), (5, 60)])
def test_coarse_bank_is_bit_identical_to_skimage(shape, templates):
    rng = np.random.default_rng(sum(shape))
    img = _smooth(rng, shape)
    img[:, :7] = 0.0  # outside the image
    img[:4] *= 1e-3  # near-flat, yet above the rounding floor: still skimage's bits
    bank = SkimageBank()
    for _ in range(2):  # the second pass uses the cached spectra
        for t, (got, pr, pc) in zip(templates, bank.match(img, templates), strict=True):
            want, wpr, wpc = _skimage_padded(img, t)
            assert (pr, pc) == (wpr, wpc)
            assert got.shape == want.shape
            assert np.array_equal(got, want)


def test_bank_agrees_with_skimage_and_is_exact_on_flat_windows(templates):
    rng = np.random.default_rng(1)
    img = _smooth(rng, (120, 140))
    img[:, :60] = 0.0  # windows entirely in here are flat: NCC 0
    for t, (got, pr, pc) in zip(templates, ncc_bank(img, templates), strict=True):
        want, wpr, wpc = _skimage_padded(img, t)
        assert (pr, pc) == (wpr, wpc) and got.shape == want.shape and got.dtype == np.float32
        assert np.abs(got - want).max() < 1e-5
        assert np.all(np.abs(got) <= 1.0 + 1e-5)
        # map column j is the window over image columns j - pc ... j - pc + n - 1: all zero up to 60 - n + pc
        assert np.all(got[:, :61 - t.shape[1] + pc] == 0.0)


def test_bank_stays_bounded_where_skimage_does_not():
    """A near-flat window (values ~1e-3): skimage's float32 sums can give NCC far above 1; ours may not."""
    rng = np.random.default_rng(0)
    img = np.zeros((80, 80), np.float32)
    img[30:50, 30:50] = 1e-3 * rng.normal(size=(20, 20))
    img[:, 60:] = _smooth(rng, (80, 20)) * 5.0
    t = _smooth(rng, (27, 31), 1.5)
    (got, _, _), = ncc_bank(img, [t])
    assert np.abs(got).max() <= 1.0 + 1e-4


def test_valid_stack_matches_skimage_per_window():
    rng = np.random.default_rng(3)
    windows = np.stack([_smooth(rng, (53, 53)) for _ in range(6)])
    windows[1] = 0.0  # a window outside the image: NCC 0 everywhere
    windows[2, :, :30] = 0.0
    patches = np.stack([_smooth(rng, (29, 29), 1.5) for _ in range(6)])
    got = ncc_valid_stack(windows, patches)
    want = np.stack([match_template(w, p) for w, p in zip(windows, patches, strict=True)])
    assert got.shape == want.shape == (6, 25, 25)
    assert np.abs(got - want).max() < 1e-5
    assert np.all(got[1] == 0.0)


@pytest.mark.parametrize("low, high", [(0, 4096), (0, 65536), (-3000, 3000)])
def test_integer_downsample_has_the_bits_of_mean(low, high):
    from wristbme.anatomy import _geometry as geo

    rng = np.random.default_rng(high)
    px = rng.integers(low, high, (203, 317)).astype(np.float32)
    bound = geo.integer_bound(px)
    assert bound == max(-px.min(), px.max())
    for factor in (2, 3, 5, 10, 20):
        want, sp = geo.downsample(px, (0.1, 0.1), factor * 0.1 + 1e-9)
        got, sp2 = geo.downsample(px, (0.1, 0.1), factor * 0.1 + 1e-9, integer_max=bound)
        assert sp == sp2
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def test_integer_bound_refuses_fractions_and_nan():
    from wristbme.anatomy import _geometry as geo

    px = np.arange(40000, dtype=np.float32).reshape(200, 200)
    assert geo.integer_bound(px) == 39999.0
    px[150, 151] = 0.5  # off the subsample grid
    assert geo.integer_bound(px) is None
    px[150, 151] = np.nan
    assert geo.integer_bound(px) is None


def test_flat_windows_do_not_decide_the_coarse_pose():
    """A full-hand phantom (S03, 0.1 mm, rotated -13 deg) on which skimage's float32 window sums scored flat
    windows far above 1: the coarse search chose a pose 90 mm off and the hand was flagged
    ``not_identifiable``. With flat windows at NCC 0 it is located."""
    from wristbme.anatomy import evaluate, locate

    case = evaluate.synthetic_cases(3, 2026)[2]
    ph, rg = evaluate.render_case(case, 2026)
    anatomy = locate(rg)
    assert "not_identifiable" not in anatomy.qc_flags
    sp = rg.spacing_mm[0]
    errors = [np.hypot(anatomy.landmarks[k][0] - x * sp, anatomy.landmarks[k][1] - y * sp)
              for k, (x, y) in ph.landmarks_px.items() if k in anatomy.landmarks]
    assert np.median(errors) < 1.5
