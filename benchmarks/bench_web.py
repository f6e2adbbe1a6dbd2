"""The web viewer's image path against reading the image: what the first paint costs on the server.

On a 2000 x 2500, 12-bit DICOM (Explicit VR Little Endian), measured in the same run:

- ``read``: ``read_radiograph(path)`` (baseline);
- ``preview_cold``: the first ``GET /images/{id}/preview.png`` (read + window + area-downsample to a
  1024-px long side + PNG) through the app with TestClient;
- ``preview_cached``: the same request once the preview is cached in the image's derived folder;
- ``full_cold``: the first ``GET /images/{id}/full.png`` (read + window + full-size PNG);
- ``case_page``: ``GET /cases/{pseudonym}`` (the viewer page with its embedded anatomy and scores).

Ratios are medians against the median of ``read``. The browser-side first paint (≤ 1 s target) is measured
by ``tests/web/test_browser.py``.

Run: ``.venv/bin/python benchmarks/bench_web.py [--repeat N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)

    import numpy as np
    from fastapi.testclient import TestClient
    from webstudy import BASE, build_study, phantom_pixels

    from wristbme.imaging import read_radiograph
    from wristbme.study.models import Image
    from wristbme.study.store import open_store
    from wristbme.web.app import create_app
    from wristbme.web.config import WebSettings

    tmp = Path(tempfile.mkdtemp(prefix="bench_web_"))
    try:
        pixels = phantom_pixels((2500, 2000), seed=1).astype(np.float32)
        study = build_study(tmp / "study", pixels=pixels, spacing_mm=0.1)
        image_id = study.image_ids["S01-0001"]
        with open_store(study.root) as store, store.session() as s:
            path = store.image_file(s.get(Image, image_id))
        client = TestClient(create_app(WebSettings(study_dir=study.root)), base_url=BASE)
        derived = study.root / "derived" / str(image_id)
        times: dict[str, list[float]] = {k: [] for k in ("read", "preview_cold", "preview_cached", "full_cold",
                                                         "case_page")}

        def timed(key: str, fn) -> None:
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)

        def get_ok(url: str) -> None:
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)

        for _ in range(a.repeat):
            shutil.rmtree(derived, ignore_errors=True)
            timed("read", lambda: read_radiograph(path))
            timed("preview_cold", lambda: get_ok(f"/images/{image_id}/preview.png"))
            timed("preview_cached", lambda: get_ok(f"/images/{image_id}/preview.png"))
            timed("full_cold", lambda: get_ok(f"/images/{image_id}/full.png"))
            timed("case_page", lambda: get_ok("/cases/S01-0001"))
        base = statistics.median(times["read"])
        result = {k: {"median_ms": round(1000 * statistics.median(v), 1),
                      "ratio_to_read": round(statistics.median(v) / base, 2)} for k, v in times.items()}
        if a.json:
            print(json.dumps({"image": "2000x2500 12-bit", "repeat": a.repeat, "results": result}, indent=2))
        else:
            print(f"web image path, 2000x2500 12-bit DICOM, {a.repeat} repeats (median; ratio to read_radiograph)")
            for k, r in result.items():
                print(f"  {k:15s} {r['median_ms']:8.1f} ms   x{r['ratio_to_read']:.2f}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
