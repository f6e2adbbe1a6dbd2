"""End-to-end scoring speed on a 2000 x 2500 synthetic radiograph, as ratios to reading the file alone.

    python benchmarks/bench_score.py [--repeat 3] [--json]

Stages timed on one core (OMP/BLAS threads = 1): read (baseline), locate, features, score. Also the peak
resident memory of a fresh worker process that scores the image once (the per-worker memory bound).
The image is a full-hand phantom at 0.1 mm (field 200 x 250 mm), written as uncompressed DICOM.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def make_image(folder: Path) -> Path:
    from test_pipeline import write_dicom
    from wristbme.synth.phantom import HandSpec, render_phantom

    spec = HandSpec.sample(np.random.default_rng(7), field="full", spacing_mm=0.1)
    ph = render_phantom(spec, seed=7)
    return write_dicom(folder / "big.dcm", ph.radiograph.pixels, 0.1)


WORKER = """
import resource, sys
from wristbme.imaging import read_radiograph
from wristbme.model.artifact import load_demo
from wristbme.pipeline import score_radiograph
art = load_demo()
s = score_radiograph(read_radiograph(sys.argv[1]), art)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from wristbme.features import extract
    from wristbme.imaging import read_radiograph
    from wristbme.model.artifact import load_demo
    from wristbme.pipeline import locate_anatomy

    art = load_demo()
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(1):
        path = make_image(Path(tmp))
        times: dict[str, list[float]] = {"read": [], "locate": [], "features": [], "score": [], "total": []}
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            rg = read_radiograph(path)
            t1 = time.perf_counter()
            anat = locate_anatomy(rg)
            t2 = time.perf_counter()
            feats = extract(rg, anat, spacing_mm=art.spacing_mm)
            t3 = time.perf_counter()
            art.score(feats)
            t4 = time.perf_counter()
            for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
                times[k].append(v)
        rss = subprocess.run([sys.executable, "-c", WORKER, str(path)], capture_output=True, text=True,
                             env={**os.environ}, timeout=600)
        peak_mb = float(rss.stdout.strip().splitlines()[-1]) if rss.returncode == 0 else float("nan")
        shape = rg.shape
    med = {k: float(np.median(v)) for k, v in times.items()}
    out = {"image_shape": list(shape), "seconds_median": med,
           "ratio_to_read": {k: med[k] / med["read"] for k in med},
           "worker_peak_rss_mb": peak_mb, "target_total_s": 2.0, "target_rss_mb": 1024}
    if a.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"image {shape[0]}x{shape[1]}; median of {a.repeat} runs, one core")
        for k in ("read", "locate", "features", "score", "total"):
            print(f"  {k:9s} {med[k]:7.3f} s   x{out['ratio_to_read'][k]:6.1f} of read")
        print(f"  worker peak RSS {peak_mb:.0f} MB (target < 1024 MB); total target <= 2 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
