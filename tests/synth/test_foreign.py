"""Foreign material drawn onto phantoms (``wristbme.synth.foreign``): deterministic, local, in range."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy import ndimage as ndi

from wristbme.errors import ConfigError
from wristbme.synth import foreign
from wristbme.synth.phantom import HandSpec, render_phantom


@cache
def _phantom(laterality: str = "R", field: str = "wrist", rotation_deg: float = 0.0, seed: int = 5):
    spec = HandSpec.sample(np.random.default_rng(seed), laterality=laterality, field=field, spacing_mm=0.4,
                           rotation_deg=rotation_deg)
    return render_phantom(spec, seed=seed, site="S02")


@pytest.mark.parametrize("kind", foreign.KINDS)
def test_same_seed_same_image_and_other_seed_differs(kind):
    ph = _phantom()
    a, b = foreign.add_foreign(ph, kind, seed=1), foreign.add_foreign(ph, kind, seed=1)
    c = foreign.add_foreign(ph, kind, seed=2)
    assert a.kind == kind
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert not np.array_equal(a.pixels, c.pixels)
    assert a.pixels.shape == ph.radiograph.shape and a.mask.shape == ph.radiograph.shape
    assert a.pixels.min() >= 0 and a.pixels.max() <= ph.max_value
    assert a.mask.any()
    np.testing.assert_array_equal(ph.radiograph.pixels, _phantom().radiograph.pixels)  # input untouched


@pytest.mark.parametrize("kind", ["ring", "plate"])
def test_metal_is_opaque_white_and_only_changes_its_neighbourhood(kind):
    ph = _phantom("L", rotation_deg=15.0)
    f = foreign.add_foreign(ph, kind, seed=3)
    inner = ndi.binary_erosion(f.mask, iterations=2)
    assert inner.any()
    assert np.all(f.pixels[inner] == ph.max_value)
    # beyond the vendor processing's reach (3 sigma of its low pass) nothing changes
    far = ndi.distance_transform_edt(~f.mask) * ph.spacing_mm > 35.0
    np.testing.assert_array_equal(f.pixels[far], ph.radiograph.pixels[far])


def test_plate_lies_on_the_distal_radius():
    from wristbme.bones import Bone

    ph = _phantom()
    f = foreign.add_plate(ph, seed=0)
    radius = ph.bone_masks[Bone.RADIUS]
    assert (f.mask & radius).sum() > 0.5 * f.mask.sum()


@pytest.mark.parametrize("material", ["plaster", "fibreglass"])
def test_cast_brightens_the_forearm_and_wrist(material):
    ph = _phantom("L", field="full")
    f = foreign.add_cast(ph, seed=4, material=material)
    exposed = ph.radiograph.pixels < ph.max_value
    under = f.mask & exposed
    assert under.sum() > 0.1 * exposed.sum()
    # the cast covers the wrist (carpus) and not the fingertips
    y_cap = ph.landmarks_px["capitate_centre"]
    assert f.mask[int(y_cap[1]), int(y_cap[0])]
    assert f.pixels[under].mean() > ph.radiograph.pixels[under].mean()


def test_plaster_attenuates_more_than_fibreglass():
    ph = _phantom(field="full")
    p, g = foreign.add_cast(ph, seed=4, material="plaster"), foreign.add_cast(ph, seed=4, material="fibreglass")
    # air inside both casts (between skin and cast wall): only the cast itself shows there
    air = p.mask & g.mask & (ph.radiograph.pixels < 0.02 * ph.max_value)
    assert air.sum() > 100
    assert p.pixels[air].mean() > g.pixels[air].mean() > ph.radiograph.pixels[air].mean()


def test_with_pixels_keeps_the_geometry():
    ph = _phantom("L")
    rg = foreign.with_pixels(ph, foreign.add_ring(ph, seed=0).pixels)
    assert rg.spacing_mm == ph.radiograph.spacing_mm and rg.laterality == ph.radiograph.laterality
    assert rg.pixels.dtype == np.float32


def test_unknown_kind_and_material_are_config_errors():
    ph = _phantom()
    with pytest.raises(ConfigError, match="foreign kind"):
        foreign.add_foreign(ph, "screw", seed=0)
    with pytest.raises(ConfigError, match="plaster or fibreglass"):
        foreign.add_cast(ph, seed=0, material="wood")
