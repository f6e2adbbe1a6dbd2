"""read_radiograph against bare ``pydicom.dcmread(f).pixel_array`` on the same generated files.

Files of 2000 x 2500 pixels, 16 bits allocated, 12 stored:

- ``uncompressed``: Explicit VR Little Endian, MONOCHROME2, no rescale (the common DX export);
- ``uncompressed_mono1``: the same pixels as MONOCHROME1 (the common CR export; one inversion);
- ``uncompressed_mono1_rescale``: MONOCHROME1 with Rescale Slope 1.5 / Intercept -100, so every step of the
  reader runs (worst case: two extra passes over the float32 image);
- ``jpeg2000_lossless``: the MONOCHROME1 + rescale file, JPEG 2000 lossless.

Repetitions are interleaved (baseline, ours, baseline, ours ...) so drift hits both alike; the ratio is
median(ours) / median(baseline) of wall-clock time per file, with the ratio of minima and of median CPU
time (``time.process_time``) beside it: on a shared machine the CPU-time ratio is the least disturbed by
other load. Target: uncompressed median ratio <= 1.3. ``read_radiograph``
must return float32 (twice the bytes of the uint16 baseline), which sets the floor.

Run: ``.venv/bin/python benchmarks/bench_read.py [--repeat N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from _dicom import write_dx  # benchmarks/_dicom.py (the script folder is on sys.path)
from pydicom.uid import (
    JPEG2000Lossless,
)

from wristbme.imaging import read_radiograph

ROWS, COLS = 2000, 2500


def make_file(folder: Path, name: str, compress: str | None, *, mono1: bool = True, rescale: bool = True,
              seed: int = 0) -> Path:
    """A smooth 12-bit phantom with noise, written as a DX file."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:ROWS, 0:COLS].astype(np.float32)
    body = 2500 + 1200 * np.exp(-(((xx - COLS / 2) / 600) ** 2 + ((yy - ROWS / 2) / 800) ** 2))
    arr = np.clip(body + rng.normal(0, 40, (ROWS, COLS)), 0, 4095).astype(np.uint16)
    attributes = {"ImagerPixelSpacing": [0.15, 0.15], "EstimatedRadiographicMagnificationFactor": 1.1}
    if rescale:
        attributes.update(RescaleSlope=1.5, RescaleIntercept=-100)
    return write_dx(folder / name, arr, photometric="MONOCHROME1" if mono1 else "MONOCHROME2",
                    attributes=attributes, compress=compress)


def baseline(path: Path) -> np.ndarray:
    return pydicom.dcmread(path).pixel_array


def ours(path: Path) -> np.ndarray:
    return read_radiograph(path).pixels


def measure(path: Path, repeat: int) -> dict[str, float]:
    """Interleaved wall-clock and CPU timings; ratios of medians (and of minima, less sensitive to load)."""
    wall: dict[str, list[float]] = {"baseline": [], "ours": []}
    cpu: dict[str, list[float]] = {"baseline": [], "ours": []}
    funcs = {"baseline": baseline, "ours": ours}
    baseline(path), ours(path)  # warm-up (imports, page cache)
    for _ in range(repeat):
        for name, func in funcs.items():
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            func(path)
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start_wall)
    base, mine = statistics.median(wall["baseline"]), statistics.median(wall["ours"])
    cpu_base, cpu_mine = statistics.median(cpu["baseline"]), statistics.median(cpu["ours"])
    return {"baseline_median_s": base, "ours_median_s": mine, "ratio": mine / base,
            "ratio_of_minima": min(wall["ours"]) / min(wall["baseline"]),
            "cpu_ratio": cpu_mine / cpu_base if cpu_base > 0 else float("nan"), "repeat": repeat}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=31, help="interleaved repetitions per file (default 31)")
    parser.add_argument("--j2k-repeat", type=int, default=5, help="repetitions for JPEG 2000 (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = {
            "uncompressed": measure(make_file(folder, "n2.dcm", None, mono1=False, rescale=False), args.repeat),
            "uncompressed_mono1": measure(make_file(folder, "n1.dcm", None, rescale=False), args.repeat),
            "uncompressed_mono1_rescale": measure(make_file(folder, "n1r.dcm", None), args.repeat),
            "jpeg2000_lossless": measure(make_file(folder, "j2k.dcm", JPEG2000Lossless), args.j2k_repeat),
        }
    target = 1.3
    results["uncompressed"]["target"] = target
    results["uncompressed"]["meets_target"] = results["uncompressed"]["ratio"] <= target
    if args.json:
        print(json.dumps({"benchmark": "read", "shape": [ROWS, COLS], "results": results}, indent=2))
    else:
        print(f"bench_read: {ROWS}x{COLS} 16-bit, read_radiograph vs pydicom.dcmread().pixel_array")
        for name, r in results.items():
            print(f"  {name:27s} baseline {r['baseline_median_s'] * 1e3:8.1f} ms   ours {r['ours_median_s'] * 1e3:8.1f} ms"
                  f"   ratio {r['ratio']:.2f}  (median of {r['repeat']}; minima {r['ratio_of_minima']:.2f};"
                  f" CPU time {r['cpu_ratio']:.2f})")
        verdict = "met" if results["uncompressed"]["meets_target"] else "NOT met"
        print(f"  target: uncompressed ratio <= {target}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
