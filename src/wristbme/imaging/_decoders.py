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
