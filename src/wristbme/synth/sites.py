"""Eight synthetic site profiles: what differs between the hospitals' X-ray systems and their paperwork.

Every profile is fictitious (manufacturer and model strings are made up, with ``SYNTH`` in them, so no real
product is implied) but the *kinds* of difference are the ones real multicentre radiograph studies meet:
CR vs DX, pixel spacing carried by ``PixelSpacing``, by ``ImagerPixelSpacing`` with
``EstimatedRadiographicMagnificationFactor`` or by ``ImagerPixelSpacing`` alone, 10-16 bit, MONOCHROME1 or 2,
a VOI window or none, different noise, blur, scatter and image processing, four transfer syntaxes,
collimation, a lead L/R marker, burned-in name/ID text, and case sheets as xlsx (Japanese headers) or CSV
(English headers) with different date styles.

See ``docs/synth.md`` for the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
)

from wristbme.errors import ConfigError


@dataclass(frozen=True)
class SiteProfile:
    """One site's X-ray system, DICOM habits and paperwork habits.

    Physics attributes are used by ``render_phantom``; DICOM attributes by ``synth.dicomio``; sheet
    attributes by ``synth.cohort``.

    Attributes
    ----------
    site_id : str
        ``S01`` .. ``S08``.
    manufacturer, model : str
        (0008,0070) and (0008,1090).
    modality : str
        ``CR`` or ``DX``.
    detector_type : str
        (0018,7004) for DX (``SCINTILLATOR``, ``DIRECT``); ``STORAGE`` (phosphor plate) for CR.
    spacing_attribute : str
        ``PixelSpacing``, ``ImagerPixelSpacing+EstimatedRadiographicMagnificationFactor`` or
        ``ImagerPixelSpacing``.
    magnification : float
        Geometric magnification at the detector (source-image / source-object distance, ~1.02-1.06).
    bits_stored : int
        10..16.
    photometric : str
        ``MONOCHROME1`` (stored values inverted: high = dark, air white) or ``MONOCHROME2`` (high = bright).
    voi_window : bool
        Whether WindowCenter/WindowWidth are written.
    transfer_syntax : str
        Transfer syntax UID.
    quanta_per_mm2 : float
        Effective detected X-ray quanta per mm^2 in the open beam (after detective quantum efficiency).
    blur_mm : float
        Gaussian sigma of the detector point spread function (mm).
    blur_tail : float
        Share of a wide (Lorentz-like, CR light spread) tail in the point spread function, 0..0.3.
    scatter_fraction : float
        Scatter-to-primary ratio in the open field, 0..0.5.
    heel : float
        Relative intensity change from top to bottom of the image (anode heel effect), e.g. -0.12..0.12.
    edge_gain, range_compression, processing_sigma_mm : float
        Vendor image processing: ``P + edge_gain*(P - G) - range_compression*G``, G a Gaussian low pass
        of sigma ``processing_sigma_mm``.
    output_percentiles : (float, float)
        The log-exposure percentiles mapped to the bottom/top of the output range (auto-ranging).
    gamma : float
        Tone curve exponent applied after auto-ranging.
    collimation : bool
        Whether collimator blades cut the field.
    lr_marker : bool
        Lead L/R marker in the field.
    burned_in_text : bool
        Name/ID text burned into a corner of the pixels (BurnedInAnnotation YES).
    text_corner : str
        ``tl``, ``tr``, ``bl`` or ``br``.
    sheet_format : str
        ``xlsx`` (Japanese headers) or ``csv`` (English headers).
    date_style : str
        ``slash`` (2019/04/01), ``iso`` (2019-04-01), ``era`` (令和元年5月7日) or ``era_short`` (H30.1.15).
    rescale : (float, float) or None
        (slope, intercept) written as RescaleSlope/RescaleIntercept (stored values are the output values;
        the modality output is ``stored*slope + intercept``).
    japanese_names : bool
        PatientName with ideographic/phonetic groups (ISO 2022 IR 87); otherwise romaji only.
    sheet_encoding : str
        Text encoding of a CSV case sheet (``utf-8``, ``utf-8-sig``, ``cp932``).
    mrn_format : str
        ``str.format`` pattern of the site's medical record numbers.
    """

    site_id: str
    manufacturer: str
    model: str
    modality: str
    detector_type: str
    spacing_attribute: str
    magnification: float
    bits_stored: int
    photometric: str
    voi_window: bool
    transfer_syntax: str
    quanta_per_mm2: float
    blur_mm: float
    blur_tail: float
    scatter_fraction: float
    heel: float
    edge_gain: float
    range_compression: float
    processing_sigma_mm: float
    output_percentiles: tuple[float, float]
    gamma: float
    collimation: bool
    lr_marker: bool
    burned_in_text: bool
    text_corner: str
    sheet_format: str
    date_style: str
    rescale: tuple[float, float] | None = None
    institution: str = "Synthetic Hospital"
    japanese_names: bool = True
    sheet_encoding: str = "utf-8"
    mrn_format: str = "{:08d}"

    def __post_init__(self) -> None:
        if not 8 <= self.bits_stored <= 16:
            raise ConfigError(f"SiteProfile {self.site_id}: bits_stored must be 8..16, got {self.bits_stored}")
        if self.photometric not in ("MONOCHROME1", "MONOCHROME2"):
            raise ConfigError(f"SiteProfile {self.site_id}: photometric must be MONOCHROME1 or MONOCHROME2, "
                              f"got {self.photometric!r}")
        if self.sheet_format not in ("xlsx", "csv"):
            raise ConfigError(f"SiteProfile {self.site_id}: sheet_format must be xlsx or csv")
        if self.date_style not in ("slash", "iso", "era", "era_short"):
            raise ConfigError(f"SiteProfile {self.site_id}: date_style {self.date_style!r} is not one of "
                              "slash, iso, era, era_short")

    @property
    def max_value(self) -> int:
        return (1 << self.bits_stored) - 1


DEFAULT_PHYSICS = SiteProfile(
    site_id="S00", manufacturer="SYNTH Generic", model="Generic DX", modality="DX",
    detector_type="SCINTILLATOR", spacing_attribute="PixelSpacing", magnification=1.0, bits_stored=12,
    photometric="MONOCHROME2", voi_window=True, transfer_syntax=ExplicitVRLittleEndian,
    quanta_per_mm2=2.0e5, blur_mm=0.09, blur_tail=0.0, scatter_fraction=0.15, heel=0.06, edge_gain=0.6,
    range_compression=0.175, processing_sigma_mm=6.0, output_percentiles=(0.5, 99.8), gamma=1.0,
    collimation=False, lr_marker=False, burned_in_text=False, text_corner="tl", sheet_format="csv",
    date_style="iso",
)
"""Physics used when ``render_phantom`` gets no site."""


SITES: dict[str, SiteProfile] = {
    p.site_id: p for p in (
        SiteProfile(
            site_id="S01", manufacturer="SYNTH Kanto Medical", model="KM-DR 4343 synth", modality="DX",
            detector_type="SCINTILLATOR", spacing_attribute="PixelSpacing", magnification=1.03, bits_stored=12,
            photometric="MONOCHROME2", voi_window=True, transfer_syntax=ExplicitVRLittleEndian,
            quanta_per_mm2=2.5e5, blur_mm=0.085, blur_tail=0.02, scatter_fraction=0.12, heel=0.08,
            edge_gain=0.5, range_compression=0.15, processing_sigma_mm=6.0, output_percentiles=(0.5, 99.8),
            gamma=1.0, collimation=True, lr_marker=True, burned_in_text=False, text_corner="tl",
            sheet_format="xlsx", date_style="slash", mrn_format="{:08d}"),
        SiteProfile(
            site_id="S02", manufacturer="SYNTH Fujimi Imaging", model="FJ-CR 500 synth", modality="CR",
            detector_type="STORAGE", spacing_attribute="ImagerPixelSpacing", magnification=1.04, bits_stored=10,
            photometric="MONOCHROME1", voi_window=False, transfer_syntax=JPEGLosslessSV1,
            quanta_per_mm2=1.2e5, blur_mm=0.1, blur_tail=0.12, scatter_fraction=0.2, heel=-0.1,
            edge_gain=1.0, range_compression=0.225, processing_sigma_mm=4.0, output_percentiles=(1.0, 99.5),
            gamma=0.9, collimation=True, lr_marker=True, burned_in_text=True, text_corner="tr",
            sheet_format="xlsx", date_style="era", mrn_format="P{:06d}"),
        SiteProfile(
            site_id="S03", manufacturer="SYNTH Naniwa Systems", model="ND-3000 synth", modality="DX",
            detector_type="SCINTILLATOR",
            spacing_attribute="ImagerPixelSpacing+EstimatedRadiographicMagnificationFactor", magnification=1.05,
            bits_stored=12, photometric="MONOCHROME2", voi_window=True, transfer_syntax=JPEG2000Lossless,
            quanta_per_mm2=3.0e5, blur_mm=0.08, blur_tail=0.02, scatter_fraction=0.1, heel=0.05,
            edge_gain=0.3, range_compression=0.22, processing_sigma_mm=8.0, output_percentiles=(0.2, 99.9),
            gamma=1.1, collimation=False, lr_marker=True, burned_in_text=False, text_corner="tl",
            sheet_format="csv", date_style="iso", rescale=(1.0, -1024.0),
            japanese_names=False, mrn_format="{:07d}"),
        SiteProfile(
            site_id="S04", manufacturer="SYNTH Hokuto Denki", model="HX-CR 12 synth", modality="CR",
            detector_type="STORAGE", spacing_attribute="PixelSpacing", magnification=1.03, bits_stored=12,
            photometric="MONOCHROME1", voi_window=True, transfer_syntax=JPEGLSLossless,
            quanta_per_mm2=1.0e5, blur_mm=0.095, blur_tail=0.15, scatter_fraction=0.25, heel=0.12,
            edge_gain=0.8, range_compression=0.2, processing_sigma_mm=5.0, output_percentiles=(1.0, 99.0),
            gamma=1.0, collimation=True, lr_marker=False, burned_in_text=True, text_corner="bl",
            sheet_format="xlsx", date_style="era_short", mrn_format="K-{:05d}"),
        SiteProfile(
            site_id="S05", manufacturer="SYNTH Setouchi Medical", model="SM-FPD 16 synth", modality="DX",
            detector_type="DIRECT", spacing_attribute="PixelSpacing", magnification=1.02, bits_stored=16,
            photometric="MONOCHROME2", voi_window=False, transfer_syntax=ExplicitVRLittleEndian,
            quanta_per_mm2=4.0e5, blur_mm=0.085, blur_tail=0.03, scatter_fraction=0.08, heel=-0.05,
            edge_gain=0.35, range_compression=0.2, processing_sigma_mm=10.0, output_percentiles=(0.1, 99.9),
            gamma=1.0, collimation=False, lr_marker=True, burned_in_text=False, text_corner="tl",
            sheet_format="csv", date_style="slash", sheet_encoding="cp932",
            mrn_format="{:010d}"),
        SiteProfile(
            site_id="S06", manufacturer="SYNTH Kyushu Radiology", model="KR-DX 2 synth", modality="DX",
            detector_type="SCINTILLATOR", spacing_attribute="ImagerPixelSpacing", magnification=1.05,
            bits_stored=14, photometric="MONOCHROME2", voi_window=True, transfer_syntax=JPEGLSLossless,
            quanta_per_mm2=1.8e5, blur_mm=0.09, blur_tail=0.05, scatter_fraction=0.15, heel=0.1,
            edge_gain=0.7, range_compression=0.175, processing_sigma_mm=5.0, output_percentiles=(0.5, 99.5),
            gamma=0.95, collimation=True, lr_marker=True, burned_in_text=True, text_corner="tl",
            sheet_format="xlsx", date_style="iso", japanese_names=False,
            mrn_format="{:06d}"),
        SiteProfile(
            site_id="S07", manufacturer="SYNTH Tohoku Instruments", model="TI-CR 190 synth", modality="CR",
            detector_type="STORAGE",
            spacing_attribute="ImagerPixelSpacing+EstimatedRadiographicMagnificationFactor", magnification=1.04,
            bits_stored=10, photometric="MONOCHROME1", voi_window=True, transfer_syntax=JPEG2000Lossless,
            quanta_per_mm2=0.9e5, blur_mm=0.105, blur_tail=0.15, scatter_fraction=0.22, heel=-0.08,
            edge_gain=1.2, range_compression=0.25, processing_sigma_mm=3.5, output_percentiles=(1.5, 99.0),
            gamma=0.85, collimation=True, lr_marker=False, burned_in_text=False, text_corner="tl",
            sheet_format="csv", date_style="era_short", sheet_encoding="utf-8-sig",
            mrn_format="T{:07d}"),
        SiteProfile(
            site_id="S08", manufacturer="SYNTH Chubu Medical", model="CM-DR 35 synth", modality="DX",
            detector_type="SCINTILLATOR", spacing_attribute="PixelSpacing", magnification=1.03, bits_stored=15,
            photometric="MONOCHROME2", voi_window=True, transfer_syntax=JPEGLosslessSV1,
            quanta_per_mm2=2.2e5, blur_mm=0.085, blur_tail=0.05, scatter_fraction=0.13, heel=0.07,
            edge_gain=0.45, range_compression=0.22, processing_sigma_mm=7.0, output_percentiles=(0.3, 99.7),
            gamma=1.05, collimation=False, lr_marker=True, burned_in_text=True, text_corner="br",
            sheet_format="xlsx", date_style="era", mrn_format="{:09d}"),
    )
}
"""The eight default sites, S01..S08."""


def get_site(site: str | SiteProfile | None) -> SiteProfile:
    """A ``SiteProfile`` from its id (``S01``..``S08``), a profile, or None (default physics)."""
    if site is None:
        return DEFAULT_PHYSICS
    if isinstance(site, SiteProfile):
        return site
    key = str(site).strip().upper()
    if key not in SITES:
        raise ConfigError(f"site {site!r} is not defined; use one of {', '.join(SITES)}")
    return SITES[key]


def site_ids(n: int) -> list[str]:
    """Ids of ``n`` sites: S01..S08 reused cyclically beyond 8 (S09 gets S01's profile and so on)."""
    if n < 1:
        raise ConfigError(f"--sites must be at least 1, got {n}")
    return [f"S{i + 1:02d}" for i in range(n)]


def profile_for(site_id: str) -> SiteProfile:
    """The profile of ``site_id``; ids beyond S08 reuse S01..S08 cyclically under their own id."""
    base = SITES[f"S{(int(site_id[1:]) - 1) % len(SITES) + 1:02d}"]
    return base if base.site_id == site_id else replace(base, site_id=site_id)
