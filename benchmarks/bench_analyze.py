"""Benchmark: the full study report for 1,000 patients / 2,000 wrist images with 1,000 bootstrap replicates.

Target: analysed and rendered (HTML + PDF, both written) in <= 60 s on 2 cores.
Ratios are against baselines measured in the same run, on the same machine:

* ``vs_tiny_report``: the same pipeline on a 20-patient study with 50 replicates, after a warm-up run
  (the fixed cost of figures, templates and WeasyPrint);
* ``bootstrap_vs_delong``: the whole analysis against one DeLong AUC on the 2,000 wrists (how many "plain
  AUCs" the report costs).

Run: ``.venv/bin/python benchmarks/bench_analyze.py [--lang ja] [--patients 1000] [--bootstrap 1000]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=5)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--lang", default="ja", choices=["ja", "en"])
    parser.add_argument("--target-s", type=float, default=60.0)
    args = parser.parse_args(argv)

    from wristbme.report import build_report, synthetic_study_data
    from wristbme.report.analysis import _primary
    from wristbme.stats import roc_auc

    t0 = time.perf_counter()
    data = synthetic_study_data(args.patients, args.sites, seed=0)
    t_data = time.perf_counter() - t0
    n_images = int(data.scores.query("kind == 'primary' and bone == 'wrist'")["image_id"].nunique())

    with tempfile.TemporaryDirectory() as tmp:
        # warm-up (imports, font discovery, WeasyPrint font cache), then baseline 1: a tiny report
        tiny = synthetic_study_data(20, 2, seed=0)
        build_report(tiny, Path(tmp) / "warmup", args.lang, bootstrap=50, seed=0)
        t0 = time.perf_counter()
        build_report(tiny, Path(tmp) / "tiny", args.lang, bootstrap=50, seed=0)
        t_tiny = time.perf_counter() - t0
        # baseline 2: one DeLong AUC on all wrists
        prim = _primary(data.validated())
        t0 = time.perf_counter()
        for _ in range(20):
            roc_auc(prim["bme_present"].to_numpy(), prim["score"].to_numpy())
        t_auc = (time.perf_counter() - t0) / 20
        # the benchmark
        t0 = time.perf_counter()
        res = build_report(data, Path(tmp) / "full", args.lang, bootstrap=args.bootstrap, seed=0)
        t_full = time.perf_counter() - t0
        pdf_kb = res.pdf_path.stat().st_size / 1024
        html_kb = res.html_path.stat().st_size / 1024

    out = {
        "patients": args.patients, "images": n_images, "bootstrap": args.bootstrap, "lang": args.lang,
        "seconds_total": round(t_full, 2),
        "seconds_by_stage": {k: round(v, 2) for k, v in res.timings_s.items()},
        "seconds_make_synthetic_data": round(t_data, 2),
        "baseline_tiny_report_s": round(t_tiny, 2), "baseline_one_delong_auc_s": round(t_auc, 5),
        "vs_tiny_report": round(t_full / t_tiny, 2), "bootstrap_vs_delong": round(t_full / t_auc, 0),
        "html_kb": round(html_kb), "pdf_kb": round(pdf_kb),
        "target_s": args.target_s, "within_target": t_full <= args.target_s,
    }
    print(json.dumps(out, indent=1))
    return 0 if out["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
