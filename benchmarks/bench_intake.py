"""Intake throughput against a plain copy + SHA-256 of the same files, measured in the same run.

Builds a site disc (``wristbme.study.minisite`` export, packaged with ``wristbme.study.site.package``), then
times (a) copying every disc file into a fresh folder with its SHA-256 computed and fsynced — the least any
careful receiver does — and (b) ``wristbme.study.intake.intake`` of the same disc into a fresh SQLite store
(manifest check, DICOM decode, identifier and burned-in text checks, QC, atomic store). Prints files/s,
MB/s and the ratio intake time / copy time (lower is better). Best of ``--repeat`` runs each.

    .venv/bin/python benchmarks/bench_intake.py [--patients 20] [--rows 1024] [--cols 896] [--repeat 3] [--json]

SYNTHETIC DATA - not for clinical use.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path


def copy_and_hash(disc: Path, dest: Path) -> int:
    total = 0
    for path in sorted(disc.rglob("*")):
        if not path.is_file():
            continue
        target = dest / path.relative_to(disc)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        with open(target, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        total += len(data)
    return total


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1024)
    parser.add_argument("--cols", type=int, default=896)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")

    from wristbme.study import create_store, default_config
    from wristbme.study.intake import intake
    from wristbme.study.minisite import make_site_export
    from wristbme.study.site import package

    work = Path(tempfile.mkdtemp(prefix="bench_intake_"))
    try:
        site = make_site_export(work / "site", n_patients=args.patients, defects=(), rows=args.rows, cols=args.cols)
        package(export=site.export, cases=site.cases, site="S03", out=work / "disc", site_dir=work / "sitedir")
        files = [p for p in (work / "disc").rglob("*") if p.is_file()]
        n_images = sum(1 for p in files if p.name.startswith("IM"))
        size_mb = sum(p.stat().st_size for p in files) / 1e6

        copy_s, intake_s = [], []
        for i in range(args.repeat):
            dest = work / f"copy{i}"
            t0 = time.perf_counter()
            copy_and_hash(work / "disc", dest)
            copy_s.append(time.perf_counter() - t0)
            shutil.rmtree(dest)
            store = create_store(work / f"study{i}", default_config())
            t0 = time.perf_counter()
            report = intake(store, work / "disc")
            intake_s.append(time.perf_counter() - t0)
            store.close()
            if report.accepted != n_images:
                print(f"intake accepted {report.accepted} of {n_images} images: {report.refused[:3]}",
                      file=sys.stderr)
                return 1
            shutil.rmtree(work / f"study{i}")
        best_copy, best_intake = min(copy_s), min(intake_s)
        result = {
            "images": n_images, "files": len(files), "disc_mb": round(size_mb, 1),
            "image_shape": [args.rows, args.cols],
            "copy_sha256_s": round(best_copy, 3), "intake_s": round(best_intake, 3),
            "copy_files_per_s": round(len(files) / best_copy, 1),
            "intake_images_per_s": round(n_images / best_intake, 1),
            "copy_mb_per_s": round(size_mb / best_copy, 1), "intake_mb_per_s": round(size_mb / best_intake, 1),
            "ratio_intake_over_copy": round(best_intake / best_copy, 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"disc: {result['images']} images, {result['files']} files, {result['disc_mb']} MB "
              f"({args.rows}x{args.cols} px)")
        print(f"copy + SHA-256 + fsync: {result['copy_sha256_s']} s ({result['copy_mb_per_s']} MB/s)")
        print(f"intake:                 {result['intake_s']} s ({result['intake_mb_per_s']} MB/s, "
              f"{result['intake_images_per_s']} images/s)")
        print(f"ratio intake / copy: {result['ratio_intake_over_copy']}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
