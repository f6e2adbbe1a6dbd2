"""Expected properties of the real DICOM files in ``../shared/data/dicom`` (one entry per file).

Paths are relative to ``shared/data/dicom``. ``error`` is the expected exception class name, else the file
must read. Regions are (row slice, col slice) in the original image; ``brighter`` lists pairs
(bright region, dark region) that must hold in ``Radiograph.pixels`` (bone-bright convention). The RG3
regions were placed by looking at a rendering of the file (tibia shaft, air between the leg and the
collimation edge, soft tissue beside the tibia).
"""

from __future__ import annotations

CR_DIR = "pydicom/dicomdirtests/77654033"

REFERENCE: dict[str, dict] = {
    "pydicom-data/RG3_J2KR.dcm": dict(
        rows=1760, cols=1760, photometric="MONOCHROME1", transfer_syntax="1.2.840.10008.1.2.4.90", modality="CR",
        spacing_source="uncalibrated", laterality="R", view="AP", bits_stored=10,
        regions={"tibia": (slice(293, 733), slice(806, 880)), "air": (slice(440, 880), slice(485, 570)),
                 "soft_tissue": (slice(293, 733), slice(640, 720)),
                 "collimated": (slice(200, 1500), slice(50, 300))},
        brighter=[("tibia", "soft_tissue"), ("soft_tissue", "air"), ("collimated", "air")],
    ),
    f"{CR_DIR}/CR1/6154": dict(rows=16, cols=16, photometric="MONOCHROME1", modality="CR", view="LAT",
                               spacing_source="ImagerPixelSpacing", spacing_mm=(0.1, 0.1), rescale_type="OD"),
    f"{CR_DIR}/CR2/6247": dict(rows=16, cols=16, photometric="MONOCHROME1", modality="CR", view="AP",
                               spacing_source="ImagerPixelSpacing", spacing_mm=(0.1, 0.1), rescale_type="OD"),
    f"{CR_DIR}/CR3/6278": dict(rows=16, cols=16, photometric="MONOCHROME1", modality="CR", view="AP",
                               spacing_source="ImagerPixelSpacing", spacing_mm=(0.1, 0.1), rescale_type="OD"),
    "pydicom/no_meta.dcm": dict(rows=128, cols=128, modality="CT", flags=("no_file_meta", "leading_bytes_skipped")),
    "pydicom/MR_small_bigendian.dcm": dict(rows=64, cols=64, transfer_syntax="1.2.840.10008.1.2.2", modality="MR"),
    "pydicom/image_dfl.dcm": dict(rows=512, cols=512, transfer_syntax="1.2.840.10008.1.2.1.99"),
    "pydicom/J2K_pixelrep_mismatch.dcm": dict(rows=512, cols=512, transfer_syntax="1.2.840.10008.1.2.4.90"),
    "pydicom/JPEGLSNearLossless_16.dcm": dict(transfer_syntax="1.2.840.10008.1.2.4.81", flags=("lossy",)),
    "pydicom/examples_overlay.dcm": dict(rows=300, cols=484, modality="MR"),
    # Non-conformant 12-bit JPEG Extended: libjpeg rejects its scan header; the gdcm and Pillow plugins refuse
    # 12-bit lossy JPEG. With imagecodecs installed its libjpeg-turbo decodes it (values are pydicom's
    # reference values for this file); without it, a specific refusal is the right outcome.
    "pydicom/JPEG-lossy.dcm": dict(rows=1024, cols=256, transfer_syntax="1.2.840.10008.1.2.4.51", modality="NM",
                                   values={(420, 140): 244, (230, 120): 95},
                                   flags=("lossy", "decoded_by_imagecodecs_fallback"),
                                   needs="imagecodecs", error_without="CorruptImageError"),
    "pydicom/MR_truncated.dcm": dict(error="CorruptImageError", message="truncated"),
    "pydicom/UN_sequence.dcm": dict(error="NotAnImageError"),
    "pydicom/priv_SQ.dcm": dict(error="NotAnImageError"),
    "pydicom/meta_missing_tsyntax.dcm": dict(error="NotAnImageError"),
    "pydicom/badVR.dcm": dict(error="NotAnImageError", message="Radiotherapy"),
}

#: Error classes an inspect record may carry for a file in the shared folder.
SPECIFIC_ERRORS = {"CorruptImageError", "NotAnImageError", "UnsupportedImageError", "DecoderMissingError",
                   "InputError"}
