"""Run one benchmark measurement in a fresh interpreter, so its peak RSS is that measurement's alone.

The parent keeps the Firestore emulator and the seeded data; the child attaches to them
(the emulator's host, the Firestore project, the DuckDB file), runs one function of a
bench module and prints its figures as one JSON line, with `peak_rss_mb` added.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from oie import wiring
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


def measure(module: str, function: str, project: str, data_dir: Path, **args: Any) -> dict[str, Any]:
    """Run `module.function(container, **args)` in a child process; its figures and peak RSS."""
    spec = json.dumps({"module": module, "function": function, "project": project, "dir": str(data_dir), "args": args})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.child", spec],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module}.{function} failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def container(project: str, data_dir: Path, **overrides: Any) -> wiring.Container:
    """The process container on the parent's emulator project and DuckDB file."""
    app = wiring.Container(make_settings(data_dir, gcp_project=project), **overrides)
    wiring.use(app)
    return app


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's own peak RSS: VmHWM (ru_maxrss would include the parent's, kept across fork and exec)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _main(spec: dict[str, Any]) -> None:
    run = getattr(importlib.import_module(spec["module"]), spec["function"])
    figures = run(spec["project"], Path(spec["dir"]), **spec["args"])
    figures["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    _main(json.loads(sys.argv[1]))
