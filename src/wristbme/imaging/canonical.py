"""Canonical orientation: PA view of a right hand, fingers up; and the 2-D affine that maps back.

Points are ``(x, y) = (col, row)`` in pixels, (0, 0) at the centre of the top-left pixel (same as
``Radiograph``). ``CanonicalTransform.forward`` maps original-image points to canonical-image points,
``inverse`` maps canonical points back to the original image: every coordinate a user sees goes through
``inverse``.

What the header can tell is the hand (laterality) and the projection (view): a left hand, or a right hand
seen AP, is mirrored left-right. Whether the fingers point up cannot be read reliably from a header; the
anatomy stage may estimate a rotation and compose it with ``then(CanonicalTransform.rotation(...))``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from wristbme.imaging.radiograph import Laterality, Radiograph, View

CANONICAL_FLAG = "canonical"
"""QC flag set on a radiograph returned by ``to_canonical`` (a second call is then the identity)."""


@dataclass(frozen=True)
class CanonicalTransform:
    """A 2-D affine map of pixel points, original → canonical.

    Attributes
    ----------
    matrix : ndarray, shape (3, 3)
        Homogeneous matrix acting on column vectors ``(x, y, 1)``. Use the ``affine`` property for a copy.
    input_shape, output_shape : (rows, cols)
        Image shapes before and after.
    """

    matrix: np.ndarray
    input_shape: tuple[int, int]
    output_shape: tuple[int, int]

    def __post_init__(self) -> None:
        m = np.array(self.matrix, dtype=np.float64)
        if m.shape != (3, 3) or not np.allclose(m[2], (0.0, 0.0, 1.0)) or abs(np.linalg.det(m[:2, :2])) < 1e-12:
            raise ValueError(f"CanonicalTransform.matrix must be an invertible 3x3 affine, got {m.tolist()!r}")
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)
        object.__setattr__(self, "input_shape", tuple(int(v) for v in self.input_shape))
        object.__setattr__(self, "output_shape", tuple(int(v) for v in self.output_shape))

    # -- constructors
    @classmethod
    def identity(cls, shape: tuple[int, int]) -> CanonicalTransform:
        return cls(np.eye(3), shape, shape)

    @classmethod
    def mirror_x(cls, shape: tuple[int, int]) -> CanonicalTransform:
        """Left-right mirror of an image of ``shape`` (rows, cols): ``x' = cols - 1 - x``."""
        m = np.array([[-1.0, 0.0, shape[1] - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        return cls(m, shape, shape)

    @classmethod
    def rotation(cls, angle_rad: float, center_xy: tuple[float, float], shape: tuple[int, int]) -> CanonicalTransform:
        """Rotation by ``angle_rad`` (counter-clockwise as displayed, y pointing down) about ``center_xy``.

        The output keeps ``shape``; content rotated outside the frame is cut off by ``warp``.
        """
        c, s = np.cos(angle_rad), np.sin(angle_rad)
        cx, cy = center_xy
        # Displayed counter-clockwise with y down is (x, y) -> (c x + s y, -s x + c y) about the centre.
        rot = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
        shift = np.array([[1.0, 0.0, cx], [0.0, 1.0, cy], [0.0, 0.0, 1.0]])
        back = np.array([[1.0, 0.0, -cx], [0.0, 1.0, -cy], [0.0, 0.0, 1.0]])
        return cls(shift @ rot @ back, shape, shape)

    # -- use
    @property
    def affine(self) -> np.ndarray:
        """A writable copy of ``matrix``."""
        return np.array(self.matrix)

    @property
    def is_identity(self) -> bool:
        return bool(np.allclose(self.matrix, np.eye(3)))

    def forward(self, points_xy: np.ndarray) -> np.ndarray:
        """Original-image points (N, 2) as (x, y) → canonical-image points (N, 2)."""
        return _apply(self.matrix, points_xy)

    def inverse(self, points_xy: np.ndarray) -> np.ndarray:
        """Canonical-image points (N, 2) as (x, y) → original-image points (N, 2)."""
        return _apply(np.linalg.inv(self.matrix), points_xy)

    def inverted(self) -> CanonicalTransform:
        """The transform going the other way (canonical → original)."""
        return CanonicalTransform(np.linalg.inv(self.matrix), self.output_shape, self.input_shape)

    def then(self, other: CanonicalTransform) -> CanonicalTransform:
        """This transform followed by ``other``: ``(a.then(b)).forward(p) == b.forward(a.forward(p))``.

        Raises
        ------
        ValueError
            ``other`` does not start from this transform's output shape.
        """
        if tuple(other.input_shape) != tuple(self.output_shape):
            raise ValueError(f"cannot compose: output shape {self.output_shape} != next input shape "
                             f"{other.input_shape}")
        return CanonicalTransform(other.matrix @ self.matrix, self.input_shape, other.output_shape)

    def warp(self, pixels: np.ndarray, *, order: int = 1, fill: float = 0.0) -> np.ndarray:
        """Resample an original-image array into the canonical frame (exact for pure mirrors)."""
        if pixels.shape != tuple(self.input_shape):
            raise ValueError(f"warp: pixels shape {pixels.shape} != transform input shape {self.input_shape}")
        m = self.matrix
        if np.allclose(m, CanonicalTransform.mirror_x(self.input_shape).matrix):
            return np.ascontiguousarray(pixels[:, ::-1])
        if self.is_identity:
            return pixels.copy()
        from scipy.ndimage import affine_transform

        inv = np.linalg.inv(m)
        # scipy works on (row, col) index vectors: swap x/y in the matrix.
        swap = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
        inv_rc = swap @ inv @ swap
        return affine_transform(pixels, inv_rc[:2, :2], offset=inv_rc[:2, 2], output_shape=tuple(self.output_shape),
                                order=order, mode="constant", cval=fill)


def _apply(matrix: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
    pts = np.asarray(points_xy, dtype=np.float64)
    single = pts.ndim == 1
    pts = np.atleast_2d(pts)
    if pts.shape[-1] != 2:
        raise ValueError(f"points must have shape (N, 2) as (x, y), got {np.shape(points_xy)}")
    out = pts @ matrix[:2, :2].T + matrix[:2, 2]
    return out[0] if single else out


def needs_mirror(laterality: Laterality, view: View) -> bool:
    """True for a left hand seen PA (or unknown view) and for a right hand seen AP."""
    if laterality is Laterality.UNKNOWN:
        return False
    left = laterality is Laterality.LEFT
    return (not left) if view is View.AP else left


def to_canonical(radiograph: Radiograph) -> tuple[Radiograph, CanonicalTransform]:
    """The radiograph in canonical orientation (PA right hand) and the transform original → canonical.

    A left hand (or a right hand seen AP) is mirrored left-right. Unknown laterality is left as it is and
    flagged ``laterality_unknown``. The returned radiograph keeps its laterality (the fact about the hand),
    carries the QC flag ``"canonical"`` (and ``"mirrored"`` when it was), and a second call returns it
    unchanged with an identity transform.

    Examples
    --------
    >>> import numpy as np
    >>> from wristbme.imaging.radiograph import Radiograph
    >>> r = Radiograph(np.arange(6, dtype=np.float32).reshape(2, 3), (0.1, 0.1), laterality="L")
    >>> c, tf = to_canonical(r)
    >>> c.pixels[0].tolist(), tf.inverse(np.array([[0.0, 0.0]])).tolist()
    ([2.0, 1.0, 0.0], [[2.0, 0.0]])
    """
    shape = radiograph.shape
    if CANONICAL_FLAG in radiograph.qc_flags:
        return radiograph, CanonicalTransform.identity(shape)
    flags = list(radiograph.qc_flags) + [CANONICAL_FLAG]
    if radiograph.laterality is Laterality.UNKNOWN:
        flags.append("laterality_unknown")
    if needs_mirror(radiograph.laterality, radiograph.view):
        transform = CanonicalTransform.mirror_x(shape)
        pixels = transform.warp(radiograph.pixels)
        flags.append("mirrored")
        spacing = radiograph.spacing_mm
    else:
        transform = CanonicalTransform.identity(shape)
        pixels = radiograph.pixels
        spacing = radiograph.spacing_mm
    return replace(radiograph, pixels=pixels, spacing_mm=spacing, qc_flags=tuple(dict.fromkeys(flags))), transform
