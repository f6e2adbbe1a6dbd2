"""Reading radiographs (DICOM and plain images) into ``Radiograph`` and putting them in canonical orientation."""

from wristbme.imaging.radiograph import Laterality, Radiograph, SourceInfo, SpacingSource, View

__all__ = ["Laterality", "Radiograph", "SourceInfo", "SpacingSource", "View"]
