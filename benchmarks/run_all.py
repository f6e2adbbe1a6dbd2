"""Run every ``benchmarks/bench_*.py`` script in turn (``make bench``); exit non-zero if one fails.

Each script prints its own ratios against a baseline measured in the same run. Extra arguments are passed
to every script (e.g. ``--json``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    failed: list[str] = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(script), *argv], cwd=HERE.parent)
        print(f"== {script.name}: exit {result.returncode} in {time.perf_counter() - start:.1f} s", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    if not scripts:
        print("no benchmarks/bench_*.py scripts found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
