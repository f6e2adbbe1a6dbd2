"""The BME model: training with honest validation, calibrated scores, and the artifact that carries them.

``train(table, ...) -> ModelArtifact``; ``ModelArtifact.score(BoneFeatures) -> BmeScore``;
``ModelArtifact.save/load``; ``load_demo()`` for the shipped *synthetic demonstration model — not for
clinical use*. See ``docs/model.md``.
"""

from wristbme.model.artifact import BmeScore, ModelArtifact, load_demo
from wristbme.model.combat import ComBat
from wristbme.model.train import cross_validate, leave_one_site_out, prepare, train

__all__ = ["BmeScore", "ComBat", "ModelArtifact", "cross_validate", "leave_one_site_out", "load_demo",
           "prepare", "train"]
