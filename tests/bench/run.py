"""`make bench`: run every benchmark module here (bench_*.py) and print one report.

Benchmarks, not tests: they assert nothing about time. Figures are medians and
percentiles from one run; the machine is shared and noisy, so compare ratios within a run.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repo root, for `tests.*`


def main() -> int:
    # The local servers' request logs would bury the figures.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    only = set(sys.argv[1:])
    results: dict[str, object] = {}
    failed: list[str] = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        module = importlib.import_module(f"tests.bench.{path.stem}")
        print(f"\n== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            results[name] = module.run()
        except Exception as exc:  # one failed benchmark must not cost the figures of the others
            traceback.print_exc()
            results[name] = {"failed": f"{type(exc).__name__}: {exc}"}
            failed.append(name)
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    out = HERE.parents[1] / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nall figures: {out / 'latest.json'}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
