"""wristbme: estimate MRI bone marrow edema from plain wrist radiographs, and run the study that tests it.

Layers (imports point down only): face (``cli``, ``web``) → orchestration (``pipeline``, ``report``)
→ study (``study``, ``deid``) → core (``imaging``, ``anatomy``, ``features``, ``model``, ``stats``, ``synth``).
"""

__version__ = "0.1.0"

SYNTHETIC_LABEL_EN = "SYNTHETIC DATA - not for clinical use"
SYNTHETIC_LABEL_JA = "合成データ - 臨床使用不可"
