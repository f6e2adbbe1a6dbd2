"""Benchmark of the synthetic cohort generator (``wristbme.synth``).

Measures, in one run:

- baseline: a NumPy float32 FFT round trip (``rfft2`` + ``irfft2``) of an image of the same size;
- one full-size hand (full field, 0.1 mm, 2000 x 2500 px): render only, and render + DICOM encoding
  (JPEG 2000 lossless, the slowest site flavour);
- one wrist image (wrist field, 0.15 mm): render + encoding;
- the default demo cohort (8 sites x 40 patients, both hands, wrist field, 0.15 mm) with 2 workers: wall
  time, CPU time and peak memory (largest resident set of this process and its children).

Prints absolute seconds and ratios against the baseline. ``--quick`` uses 8 sites x 4 patients.
Run: ``.venv/bin/python benchmarks/bench_synth.py [--quick] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _best(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _fft_baseline(shape: tuple[int, int]) -> float:
    img = np.random.default_rng(0).random(shape, dtype=np.float32)
    return _best(lambda: np.fft.irfft2(np.fft.rfft2(img), s=shape))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="synthetic cohort benchmark")
    ap.add_argument("--quick", action="store_true", help="8 sites x 4 patients instead of 8 x 40")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    from wristbme.synth.cohort import generate_cohort
    from wristbme.synth.dicomio import PatientInfo, StudyInfo, build_dataset, encode
    from wristbme.synth.phantom import HandSpec, render_phantom
    from wristbme.synth.sites import SITES

    res: dict[str, float | int | str] = {}
    rng = np.random.default_rng(0)
    full = HandSpec.sample(rng, field="full", spacing_mm=0.1)
    wrist = HandSpec.sample(rng, field="wrist", spacing_mm=0.15)
    site = SITES["S03"]  # JPEG 2000 lossless
    render_phantom(wrist, seed=0, site=site)  # warm caches / imports

    def one(spec: HandSpec, with_encode: bool):
        ph = render_phantom(spec, seed=1, site=site)
        if with_encode:
            ds = build_dataset(ph.radiograph.pixels, site=site, spacing_mm=spec.spacing_mm,
                               patient=PatientInfo("1", "SYNTH^BENCH"),
                               study=StudyInfo("1.2.3", "1.2.3.4", "1.2.3.4.5", "20200101"),
                               japanese_name=False, burned_in=False)
            encode(ds, site.transfer_syntax)
        return ph

    shape_full = one(full, False).radiograph.shape
    shape_wrist = one(wrist, False).radiograph.shape
    res["full_shape"] = f"{shape_full[1]}x{shape_full[0]}"
    res["wrist_shape"] = f"{shape_wrist[1]}x{shape_wrist[0]}"
    res["baseline_fft_full_s"] = _fft_baseline(shape_full)
    res["baseline_fft_wrist_s"] = _fft_baseline(shape_wrist)
    res["full_render_s"] = _best(lambda: one(full, False), 2)
    res["full_render_encode_s"] = _best(lambda: one(full, True), 2)
    res["wrist_render_encode_s"] = _best(lambda: one(wrist, True), 3)
    res["full_render_vs_fft"] = res["full_render_s"] / res["baseline_fft_full_s"]
    res["full_render_encode_vs_fft"] = res["full_render_encode_s"] / res["baseline_fft_full_s"]
    res["wrist_render_encode_vs_fft"] = res["wrist_render_encode_s"] / res["baseline_fft_wrist_s"]

    n = 4 if args.quick else 40
    with tempfile.TemporaryDirectory(prefix="wristbme-bench-synth-") as tmp:
        out = Path(tmp) / "cohort"
        cpu0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        summary = generate_cohort(out, sites=8, patients_per_site=n, seed=0, workers=args.workers)
        wall = time.perf_counter() - t
        cpu1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum((b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime) for a, b in zip(cpu0, cpu1, strict=True))
    peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    res.update(cohort_patients=summary.patients, cohort_images=summary.images, cohort_workers=args.workers,
               cohort_wall_s=wall, cohort_cpu_s=cpu, cohort_peak_rss_mb=peak_mb,
               cohort_wall_per_image_s=wall / summary.images,
               cohort_vs_fft=wall / (summary.images * res["baseline_fft_wrist_s"]))
    try:
        load = open("/proc/loadavg").read().split()[0]
    except OSError:
        load = "?"
    res["load_average_1min"] = load
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print(f"baseline: numpy float32 FFT round trip {res['full_shape']}: {res['baseline_fft_full_s']:.3f} s, "
          f"{res['wrist_shape']}: {res['baseline_fft_wrist_s']:.4f} s")
    print(f"full-size hand {res['full_shape']} (0.1 mm) render:            {res['full_render_s']:.2f} s "
          f"= {res['full_render_vs_fft']:.1f} x baseline")
    print(f"full-size hand render + JPEG 2000 lossless encode: {res['full_render_encode_s']:.2f} s "
          f"= {res['full_render_encode_vs_fft']:.1f} x baseline")
    print(f"wrist image {res['wrist_shape']} (0.15 mm) render + encode: {res['wrist_render_encode_s']:.3f} s "
          f"= {res['wrist_render_encode_vs_fft']:.1f} x baseline")
    print(f"cohort 8 sites x {n} patients, both hands, wrist 0.15 mm, {args.workers} workers: "
          f"{summary.images} images in {wall:.1f} s wall ({cpu:.1f} s CPU), peak RSS {peak_mb:.0f} MB, "
          f"{res['cohort_vs_fft']:.1f} x (images x wrist baseline); load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
