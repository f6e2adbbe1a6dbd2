"""Size limits checked on the *declared* size, before any pixel buffer is allocated."""

MAX_FRAME_PIXELS = 1 << 27
"""Largest accepted rows x columns of one frame (134 M pixels; a 43 cm plate at 0.05 mm is 74 M)."""

MAX_DECLARED_BYTES = 1 << 31
"""Largest accepted declared pixel data size over all frames (2 GiB)."""

MAX_FRAMES = 10_000
"""Largest accepted Number of Frames."""
