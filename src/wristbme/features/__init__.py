"""Bone features: density relative to a reference, trabecular texture at stated physical scales, and
subchondral plate sharpness, per scored region, with a schema (names, units, definitions, hash).

See ``docs/features.md`` for every definition.
"""

from wristbme.features.extract import BoneFeatures, extract
from wristbme.features.schema import (
           DEFAULT_SPACING_MM,
           FEATURE_NAMES,
           FEATURES,
           FeatureDef,
           FeatureSchema,
           feature_schema,
)

__all__ = ["BoneFeatures", "DEFAULT_SPACING_MM", "FEATURES", "FEATURE_NAMES", "FeatureDef", "FeatureSchema",
           "extract", "feature_schema"]
