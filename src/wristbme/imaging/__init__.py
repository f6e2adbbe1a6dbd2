"""Reading radiographs (DICOM and plain images) into ``Radiograph`` and putting them in canonical orientation."""

from wristbme.imaging.canonical import CanonicalTransform, to_canonical
from wristbme.imaging.dicom import read_dicom_header_summary
from wristbme.imaging.files import iter_radiograph_files, sniff_format
from wristbme.imaging.radiograph import Laterality, Radiograph, SourceInfo, SpacingSource, View
from wristbme.imaging.reader import read_radiograph

__all__ = [
    "CanonicalTransform",
    "Laterality",
    "Radiograph",
    "SourceInfo",
    "SpacingSource",
    "View",
    "iter_radiograph_files",
    "read_dicom_header_summary",
    "read_radiograph",
    "sniff_format",
    "to_canonical",
]
