"""``locate`` on a 2000 x 2650 radiograph, as a ratio against reading that radiograph.

The image is a full-hand phantom (``wristbme.synth``) at 0.1 mm (2000 columns x 2650 rows), written as an
uncompressed 16-bit DICOM file. Repetitions are interleaved (read, locate, read, locate ...); printed are the
median wall-clock and CPU (``time.process_time``) seconds of each, and ratio = median(locate) /
median(read). Target (issue 4): locate ≤ 1 s per image on one core; on a shared machine the CPU-time is the
least disturbed figure. BLAS/OpenMP pools are limited to one thread (unless set in the environment), so the
CPU time is one core's.

Run: ``.venv/bin/python benchmarks/bench_anatomy.py [--repeat N] [--json]``.
Measured 2026-11-27 on the shared 2-core machine (load 3-5): locate CPU 1.01-1.09 s before the speed-up,
0.57-0.60 s after (``benchmarks/locate_invariance.py`` checks that the answers did not change).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core: before numpy loads its BLAS

import numpy as np  # noqa: E402
from _dicom import write_dx  # noqa: E402  (benchmarks/_dicom.py; the script folder is on sys.path)


def make_file(folder: Path, seed: int = 3) -> Path:
    from wristbme.synth.phantom import HandSpec, render_phantom

    rng = np.random.default_rng(seed)
    spec = HandSpec.sample(rng, laterality="R", field="full", spacing_mm=0.1, rotation_deg=12.0)
    ph = render_phantom(spec, seed=seed, site="S01")
    px = ph.radiograph.pixels
    arr = np.clip((px - px.min()) / (px.max() - px.min()) * 4095, 0, 4095).astype(np.uint16)
    return write_dx(folder / "hand_2000x2500.dcm", arr, attributes={
        "PixelSpacing": [0.1, 0.1], "ImageLaterality": "R", "ViewPosition": "PA"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from wristbme.anatomy import locate
    from wristbme.imaging import read_radiograph

    with tempfile.TemporaryDirectory() as tmp:
        path = make_file(Path(tmp))
        rg = read_radiograph(path)
        locate(rg)  # warm-up: atlas load, imports
        times: dict[str, list[tuple[float, float]]] = {"read": [], "locate": []}
        for _ in range(args.repeat):
            for name, fn in (("read", lambda: read_radiograph(path)), ("locate", lambda: locate(rg))):
                w0, c0 = time.perf_counter(), time.process_time()
                fn()
                times[name].append((time.perf_counter() - w0, time.process_time() - c0))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    out = {
        "image": f"{rg.shape[1]} x {rg.shape[0]} px at 0.1 mm (full-hand phantom)",
        "read_wall_s": round(med["read"][0], 3), "read_cpu_s": round(med["read"][1], 3),
        "locate_wall_s": round(med["locate"][0], 3), "locate_cpu_s": round(med["locate"][1], 3),
        "ratio_wall": round(med["locate"][0] / med["read"][0], 2),
        "ratio_cpu": round(med["locate"][1] / med["read"][1], 2),
        "target": "locate <= 1 s per image on one core",
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:15s} {v}")


if __name__ == "__main__":
    main()
