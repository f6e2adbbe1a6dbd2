"""Which installed package decodes which transfer syntax (pydicom 3 pixel backends).

pydicom keeps the real registry (``pydicom.pixels.get_decoder``); this module only asks it and turns a
missing backend into an error that names the package to install. Checked with the pinned set:

=====================================  ===========================================================
transfer syntax                        backends that decode it (first available wins)
=====================================  ===========================================================
implicit/explicit LE, big endian,      pydicom itself (deflate via zlib)
deflated
RLE Lossless                           pydicom itself; pylibjpeg-rle
JPEG Baseline / Extended               pylibjpeg-libjpeg, python-gdcm, pillow (12-bit: pylibjpeg-libjpeg
                                       only; the python-gdcm and Pillow plugins refuse 12-bit samples)
JPEG Lossless process 14, SV1          pylibjpeg-libjpeg, python-gdcm
JPEG-LS lossless / near-lossless       pyjpegls, python-gdcm, pylibjpeg-libjpeg
JPEG 2000 lossless / lossy             pylibjpeg-openjpeg, python-gdcm, pillow
HTJ2K (all three)                      pylibjpeg-openjpeg (>= 2.0)
=====================================  ===========================================================

Fallback: when every pydicom backend fails on a JPEG (process 1, 2/4, 14, SV1) frame, and ``imagecodecs``
is installed, its libjpeg-turbo decoder is tried (``fallback_decode``). libjpeg-turbo 3 decodes 12-bit
lossy JPEG and tolerates some non-conformant scan headers that libjpeg rejects (pydicom's
``JPEG-lossy.dcm`` is such a file; the result matches pydicom's reference values for it).
"""

from __future__ import annotations

from pydicom.uid import UID

#: Package(s) to suggest when no backend is available, by transfer syntax UID prefix.
SUGGESTED_PACKAGES: dict[str, str] = {
    "1.2.840.10008.1.2.4.50": "pylibjpeg-libjpeg (or python-gdcm / pillow)",
    "1.2.840.10008.1.2.4.51": "pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.57": "pylibjpeg-libjpeg (or python-gdcm)",
    "1.2.840.10008.1.2.4.70": "pylibjpeg-libjpeg (or python-gdcm)",
    "1.2.840.10008.1.2.4.80": "pyjpegls (or python-gdcm)",
    "1.2.840.10008.1.2.4.81": "pyjpegls (or python-gdcm)",
    "1.2.840.10008.1.2.4.90": "pylibjpeg-openjpeg (or python-gdcm)",
    "1.2.840.10008.1.2.4.91": "pylibjpeg-openjpeg (or python-gdcm)",
    "1.2.840.10008.1.2.4.201": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.202": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.203": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.5": "pylibjpeg-rle",
}

NATIVE_SYNTAXES = frozenset({
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
})


def syntax_name(uid: str) -> str:
    """Human name of a transfer syntax UID (the UID itself when unknown)."""
    name = UID(uid).name
    return name if name and name != uid else uid


def available_plugins(uid: str) -> tuple[str, ...] | None:
    """Names of installed pydicom backends that decode ``uid``; None when pydicom has none for it at all."""
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(UID(uid))
    except NotImplementedError:
        return None
    return tuple(decoder.available_plugins)


def suggested_package(uid: str) -> str | None:
    """The package that would decode ``uid``, or None when no Python package does."""
    return SUGGESTED_PACKAGES.get(str(uid))


#: Transfer syntaxes the imagecodecs fallback may decode (one-sample JPEG only).
FALLBACK_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
                               "1.2.840.10008.1.2.4.70"})


def fallback_decode(ds, uid: str, frames: int, index: int, shape: tuple[int, int], bits_stored: int,
                    signed: bool):
    """One frame decoded by imagecodecs' libjpeg-turbo, or None when not applicable or it fails too.

    Only for unsigned single-sample JPEG whose decoded shape matches the header; values above Bits Stored
    are masked. The caller flags nothing: the pixels are the stored values, as from any other backend.
    """
    if uid not in FALLBACK_SYNTAXES or signed:
        return None
    try:
        import imagecodecs
        import numpy as np
        from pydicom.encaps import generate_frames

        for i, frame in enumerate(generate_frames(ds.PixelData, number_of_frames=frames)):
            if i == index:
                arr = np.asarray(imagecodecs.jpeg8_decode(frame))
                break
        else:
            return None
    except Exception:  # noqa: BLE001 - a failing fallback leaves the original error to be reported
        return None
    if arr.shape != tuple(shape) or arr.dtype.kind != "u":
        return None
    if bits_stored < arr.dtype.itemsize * 8:
        arr = arr & np.array((1 << bits_stored) - 1, dtype=arr.dtype)
    return arr
