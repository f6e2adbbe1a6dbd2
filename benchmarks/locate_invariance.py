"""Does ``wristbme.anatomy.locate`` still give the same answers? (a check for speed work on the locator)

``--save FILE`` locates a fixed set of images and stores every answer; ``--check FILE`` locates them again
and compares: landmarks, region polygons, the reference region and the axes (max difference, mm), region and
image confidences, image and region QC flags (must be identical), and the QC cues (reported). The set:

- 32 phantoms (``--synthetic``; ``evaluate.synthetic_cases``: sites S01-S08, right and left, full-hand and wrist fields,
  rotation ±45°, spacing 0.10-0.20 mm, 1 in 7 with laterality hidden);
- the 2000 x 2650 full-hand phantom of ``bench_anatomy.py`` (0.1 mm);
- an uncalibrated phantom, a phantom with operator corrections, and a ring, a plate, a plaster and a
  fibreglass cast on two phantoms (``synth.foreign``);
- every real radiograph in ``../shared/data/radiographs`` at its assumed spacing, and the real CR file
  ``../shared/data/dicom/pydicom-data/RG3_J2KR.dcm`` (uncalibrated) (skipped when absent).

Pass: max landmark/polygon difference ≤ ``--tol-mm`` (0.01 mm), confidences within 1e-4, flags identical.
Phantom inputs are cached (``--cache``) so repeated checks do not re-render them.

Run: ``.venv/bin/python benchmarks/locate_invariance.py --save /tmp/locate_ref.json`` before a change, then
``.venv/bin/python benchmarks/locate_invariance.py --check /tmp/locate_ref.json`` after it (exit code 1 on a
difference).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL_ROOT = ROOT.parent / "shared" / "data" / "radiographs"
REAL_DICOM = ROOT.parent / "shared" / "data" / "dicom" / "pydicom-data" / "RG3_J2KR.dcm"
REAL_SPACING_MM = {"ramw600": 0.16, "shsnet": 0.2, "dha": 0.12, "radinformatics": 0.15}
"""Assumed spacings, as in ``anatomy_eval.py``."""


def _phantom_inputs(cache: Path, n_synthetic: int = 32, seed: int = 2026) -> list[tuple[str, object, dict | None]]:
    """(name, radiograph, corrections) of the synthetic cases, rendered once and cached as .npz."""
    from wristbme.anatomy import evaluate
    from wristbme.imaging.radiograph import Radiograph, SpacingSource
    from wristbme.synth import foreign as fm
    from wristbme.synth.phantom import HandSpec, render_phantom

    cache.mkdir(parents=True, exist_ok=True)

    def cached(name: str, make):
        f = cache / f"{name}.npz"
        if f.exists():
            z = np.load(f)
            sp = tuple(z["spacing"]) if z["spacing"].size else None
            return Radiograph(z["pixels"], sp, SpacingSource.USER if sp else SpacingSource.UNCALIBRATED,
                              laterality=str(z["laterality"]))
        rg = make()
        np.savez(f, pixels=rg.pixels, spacing=np.asarray(rg.spacing_mm or (), dtype=float),
                 laterality=rg.laterality.value)
        return rg

    out: list[tuple[str, object, dict | None]] = []
    for case in evaluate.synthetic_cases(n_synthetic, seed):
        name = f"synth{case.index:02d}_{case.site}_{case.laterality}_{case.field}_{case.rotation_deg:+.0f}"
        if seed != 2026:
            name += f"_seed{seed}"
        out.append((name, cached(name, lambda c=case: evaluate.render_case(c, seed)[1]), None))

    def bench_image():
        rng = np.random.default_rng(3)
        spec = HandSpec.sample(rng, laterality="R", field="full", spacing_mm=0.1, rotation_deg=12.0)
        return render_phantom(spec, seed=3, site="S01").radiograph

    bench = cached("bench_full_0.1mm", bench_image)
    out.append(("bench_full_0.1mm", bench, None))
    out.append(("bench_uncalibrated", replace(bench, spacing_mm=None,
                                              spacing_source=SpacingSource.UNCALIBRATED), None))
    out.append(("bench_corrected", bench, {"landmarks": {"capitate_centre": [101.0, 131.0]},
                                           "regions": {"lunate": [[90, 140], [96, 140], [96, 146], [90, 146]]}}))
    for i, (lat, field) in enumerate((("R", "full"), ("L", "wrist"))):
        rng = np.random.default_rng([77, i])
        spec = HandSpec.sample(rng, laterality=lat, field=field, spacing_mm=0.2, rotation_deg=float(10 - 20 * i))
        holder: dict = {}

        def phantom(spec=spec, i=i, holder=holder):
            if "ph" not in holder:
                holder["ph"] = render_phantom(spec, seed=100 + i, site=f"S0{3 + 2 * i}")
            return holder["ph"]

        for kind in fm.KINDS:
            name = f"foreign{i}_{lat}_{field}_{kind}"
            out.append((name, cached(name, lambda p=phantom, k=kind, i=i: fm.with_pixels(
                p(), fm.add_foreign(p(), k, seed=i).pixels)), None))
    return out


def _real_inputs() -> list[tuple[str, object, dict | None]]:
    from PIL import Image

    from wristbme.anatomy import evaluate
    from wristbme.imaging.radiograph import Radiograph, SpacingSource

    if not REAL_ROOT.exists():
        return []
    out: list[tuple[str, object, dict | None]] = []
    for dataset, path, lat in evaluate.iter_real_images(REAL_ROOT):
        img = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
        sp = REAL_SPACING_MM[dataset]
        out.append((f"real_{dataset}_{path.stem}", Radiograph(img, (sp, sp), SpacingSource.USER, laterality=lat),
                    None))
    if REAL_DICOM.exists():  # a real CR extremity radiograph, uncalibrated, read by wristbme's reader
        from wristbme.imaging import read_radiograph

        out.append(("real_dicom_RG3_J2KR", read_radiograph(REAL_DICOM), None))
    return out


def _record(an, cues: dict) -> dict:
    def arr(a):
        return None if a is None else np.asarray(a, dtype=float).tolist()

    return {
        "landmarks": {k: list(v) for k, v in an.landmarks.items()},
        "regions": {b.value: {"polygon": arr(r.polygon_mm), "confidence": float(r.confidence),
                              "flags": list(r.qc_flags)} for b, r in an.regions.items()},
        "reference": arr(an.reference_region),
        "axes": {k: arr(v) for k, v in an.axes.items()},
        "flags": list(an.qc_flags),
        "confidence": float(an.confidence),
        "cues": {k: v for k, v in cues.items() if isinstance(v, (int, float))},
    }


def _maxdiff(a, b) -> float:
    if a is None or b is None:
        return 0.0 if a is None and b is None else float("inf")
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def compare(ref: dict, new: dict, tol_mm: float, tol_conf: float = 1e-4) -> list[str]:
    """Problems of ``new`` against ``ref`` (one case); empty when invariant."""
    bad = []
    lm = max((float(np.hypot(*(np.subtract(new["landmarks"].get(k, (np.inf, np.inf)), v))))
              for k, v in ref["landmarks"].items()), default=0.0)
    if lm > tol_mm:
        bad.append(f"landmarks differ by {lm:.4g} mm")
    if new["flags"] != ref["flags"]:
        bad.append(f"image flags {ref['flags']} -> {new['flags']}")
    if abs(new["confidence"] - ref["confidence"]) > tol_conf:
        bad.append(f"image confidence {ref['confidence']:.4f} -> {new['confidence']:.4f}")
    if set(new["regions"]) != set(ref["regions"]):
        bad.append("region set differs")
    for b, r in ref["regions"].items():
        n = new["regions"].get(b)
        if n is None:
            continue
        d = _maxdiff(r["polygon"], n["polygon"])
        if d > tol_mm:
            bad.append(f"{b} polygon differs by {d:.4g} mm")
        if abs(r["confidence"] - n["confidence"]) > tol_conf:
            bad.append(f"{b} confidence {r['confidence']:.4f} -> {n['confidence']:.4f}")
        if r["flags"] != n["flags"]:
            bad.append(f"{b} flags {r['flags']} -> {n['flags']}")
    d = _maxdiff(ref["reference"], new["reference"])
    if d > tol_mm:
        bad.append(f"reference region differs by {d:.4g} mm")
    for k, v in ref["axes"].items():
        d = _maxdiff(v, new["axes"].get(k))
        if d > tol_mm:
            bad.append(f"axis {k} differs by {d:.4g} mm")
    return bad


def run(inputs) -> tuple[dict, dict]:
    from wristbme.anatomy import locate

    results, seconds = {}, {}
    for name, rg, corr in inputs:
        cues: dict = {}
        c0 = time.process_time()
        an = locate(rg, corrections=corr, diagnostics=cues)
        seconds[name] = time.process_time() - c0
        results[name] = _record(an, cues)
    return results, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", type=Path, help="locate the set and store the answers here")
    g.add_argument("--check", type=Path, help="locate the set and compare with the answers stored here")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/wristbme_locate_invariance"),
                    help="folder for the rendered phantoms (default %(default)s)")
    ap.add_argument("--tol-mm", type=float, default=0.01)
    ap.add_argument("--only", default="", help="substring: run only the cases whose name contains it")
    ap.add_argument("--synthetic", type=int, default=32, help="number of synthetic cases (default %(default)s)")
    ap.add_argument("--seed", type=int, default=2026, help="seed of the synthetic cases (default %(default)s)")
    args = ap.parse_args()

    inputs = [x for x in _phantom_inputs(args.cache, args.synthetic, args.seed) + _real_inputs() if args.only in x[0]]
    print(f"{len(inputs)} cases", file=sys.stderr)
    results, seconds = run(inputs)
    total = sum(seconds.values())
    if args.save:
        args.save.write_text(json.dumps({"results": results, "cpu_s": seconds}), encoding="utf-8")
        print(f"saved {len(results)} cases to {args.save}; locate CPU total {total:.1f} s")
        return
    ref = json.loads(args.check.read_text(encoding="utf-8"))
    n_bad, worst_lm, worst_cue = 0, 0.0, {}
    for name, new in results.items():
        old = ref["results"].get(name)
        if old is None:
            print(f"{name}: not in the reference")
            continue
        problems = compare(old, new, args.tol_mm)
        lm = max(float(np.hypot(*np.subtract(new["landmarks"][k], v))) for k, v in old["landmarks"].items())
        worst_lm = max(worst_lm, lm)
        for k, v in old["cues"].items():
            d = abs(new["cues"].get(k, np.nan) - v)
            worst_cue[k] = max(worst_cue.get(k, 0.0), d) if np.isfinite(d) else np.inf
        if problems:
            n_bad += 1
            print(f"DIFF {name}: " + "; ".join(problems))
    ref_total = sum(ref["cpu_s"].get(n, np.nan) for n in results)
    print(f"{len(results)} cases; max landmark difference {worst_lm:.2e} mm (tolerance {args.tol_mm} mm); "
          f"{n_bad} case(s) differ")
    print("max |cue difference|: " + ", ".join(f"{k} {v:.2e}" for k, v in sorted(worst_cue.items())))
    print(f"locate CPU total: {total:.1f} s now, {ref_total:.1f} s when saved "
          f"(ratio {total / ref_total:.2f}; machine load differs between runs)")
    big = [n for n in results if n.startswith("bench_full")]
    for n in big:
        print(f"  {n}: {seconds[n]:.2f} s now, {ref['cpu_s'].get(n, np.nan):.2f} s when saved")
    sys.exit(1 if n_bad else 0)


if __name__ == "__main__":
    main()
