"""The scored wrist bones (OMERACT RAMRIS wrist regions) and their names in English and Japanese."""

from __future__ import annotations

from enum import Enum


class Bone(str, Enum):
    """One RAMRIS wrist region. Values are stable identifiers used in files, the store and the API."""

    RADIUS = "radius"
    ULNA = "ulna"
    SCAPHOID = "scaphoid"
    LUNATE = "lunate"
    TRIQUETRUM = "triquetrum"
    PISIFORM = "pisiform"
    TRAPEZIUM = "trapezium"
    TRAPEZOID = "trapezoid"
    CAPITATE = "capitate"
    HAMATE = "hamate"
    MC1 = "mc1"
    MC2 = "mc2"
    MC3 = "mc3"
    MC4 = "mc4"
    MC5 = "mc5"

    @property
    def is_long_bone(self) -> bool:
        """Radius, ulna and metacarpal bases: RAMRIS scores only their first 10 mm from the joint."""
        return self in LONG_BONES

    @property
    def name_en(self) -> str:
        return _NAMES[self][0]

    @property
    def name_ja(self) -> str:
        return _NAMES[self][1]

    def label(self, lang: str = "en") -> str:
        return self.name_ja if lang == "ja" else self.name_en

    @classmethod
    def parse(cls, value: str | Bone) -> Bone:
        """Accept a Bone, its value, its English or Japanese name (case-insensitive)."""
        if isinstance(value, Bone):
            return value
        text = str(value).strip()
        for bone in cls:
            if text.lower() in (bone.value, bone.name_en.lower(), bone.name.lower()) or text == bone.name_ja:
                return bone
        for bone, aliases in _ALIASES.items():
            if text.lower() in aliases or text in aliases:
                return bone
        raise ValueError(f"unknown bone {value!r}; expected one of {', '.join(b.value for b in cls)}")


CARPALS = (Bone.SCAPHOID, Bone.LUNATE, Bone.TRIQUETRUM, Bone.PISIFORM,
           Bone.TRAPEZIUM, Bone.TRAPEZOID, Bone.CAPITATE, Bone.HAMATE)
METACARPAL_BASES = (Bone.MC1, Bone.MC2, Bone.MC3, Bone.MC4, Bone.MC5)
LONG_BONES = frozenset((Bone.RADIUS, Bone.ULNA, *METACARPAL_BASES))
RAMRIS_BONES = tuple(Bone)
LONG_BONE_SCORED_LENGTH_MM = 10.0
"""RAMRIS scores the first 10 mm of the radius, ulna and metacarpal bases from the articular surface."""

_NAMES = {
    Bone.RADIUS: ("Distal radius", "橈骨"),
    Bone.ULNA: ("Distal ulna", "尺骨"),
    Bone.SCAPHOID: ("Scaphoid", "舟状骨"),
    Bone.LUNATE: ("Lunate", "月状骨"),
    Bone.TRIQUETRUM: ("Triquetrum", "三角骨"),
    Bone.PISIFORM: ("Pisiform", "豆状骨"),
    Bone.TRAPEZIUM: ("Trapezium", "大菱形骨"),
    Bone.TRAPEZOID: ("Trapezoid", "小菱形骨"),
    Bone.CAPITATE: ("Capitate", "有頭骨"),
    Bone.HAMATE: ("Hamate", "有鈎骨"),
    Bone.MC1: ("Metacarpal 1 base", "第1中手骨基部"),
    Bone.MC2: ("Metacarpal 2 base", "第2中手骨基部"),
    Bone.MC3: ("Metacarpal 3 base", "第3中手骨基部"),
    Bone.MC4: ("Metacarpal 4 base", "第4中手骨基部"),
    Bone.MC5: ("Metacarpal 5 base", "第5中手骨基部"),
}

_ALIASES = {
    Bone.RADIUS: {"distal radius", "橈骨遠位", "橈骨遠位端"},
    Bone.ULNA: {"distal ulna", "尺骨遠位", "尺骨遠位端"},
    Bone.HAMATE: {"有鉤骨"},
    Bone.MC1: {"mc1 base", "metacarpal 1", "第一中手骨基部", "第1中手骨"},
    Bone.MC2: {"mc2 base", "metacarpal 2", "第二中手骨基部", "第2中手骨"},
    Bone.MC3: {"mc3 base", "metacarpal 3", "第三中手骨基部", "第3中手骨"},
    Bone.MC4: {"mc4 base", "metacarpal 4", "第四中手骨基部", "第4中手骨"},
    Bone.MC5: {"mc5 base", "metacarpal 5", "第五中手骨基部", "第5中手骨"},
}
