"""`oie campaign create` with 10,000 and 100,000 leads (and 1,000,000 with OIE_BENCH_1M=1): the CSV
streamed into a spool on disk, ids picked chunk by chunk, links, leads and profiles written in
batches, on the Firestore emulator and DuckDB. Time and peak RSS of each, the 10k run the anchor.

Each import runs in a fresh interpreter (tests/bench/child.py), so its peak RSS is its own, on
an emulator and warehouse of its own, empty; the floor is that interpreter with the command's
modules loaded and nothing imported.
The 1M run is opt-in: three million documents through the emulator take tens of minutes.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

from oie.devstack.emulator import FirestoreEmulator, free_port
from tests.bench import child
from tests.bench.bench_start import lead_lines
from tests.factories import create_acme

SIZES = {"import-10k": 10_000, "import-100k": 100_000}
MILLION = {"import-1M": 1_000_000}
PROJECT = "bench-create"
# The emulator holds every document in its heap: 1M leads are 3M documents, about 6 GB, the
# JVM's default maximum here (a quarter of RAM), where its collector thrashes and calls time out.
HEAP_MB = 12_288


def create_child(project: str, data_dir: Path, source: str, campaign: str) -> dict[str, Any]:
    """In the child: run the command as a user would, and time it."""
    from oie.cli.main import cli

    child.container(project, data_dir)
    out = data_dir / f"{campaign}-links.csv"
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet, redirect_stderr(quiet):
        try:
            cli.main(
                [
                    "campaign",
                    "create",
                    "--tenant",
                    "acme",
                    "--campaign",
                    campaign,
                    "--file",
                    source,
                    "--landing",
                    "https://www.acme.com/demo",
                    "--out",
                    str(out),
                    "--json",
                ],
                standalone_mode=False,
            )
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    seconds = time.perf_counter() - started
    with out.open() as links:
        rows = sum(1 for _ in links) - 1
    return {"exit_code": code, "leads": rows, "seconds": round(seconds, 1), "leads_per_s": round(rows / seconds, 1)}


def floor_child(project: str, data_dir: Path) -> dict[str, Any]:
    """In the child: the container and the command's modules, nothing imported."""
    import oie.cli.main
    import oie.links.service  # noqa: F401

    app = child.container(project, data_dir)
    app.links.get("none")
    return {}


def _stack(tmp: Path, name: str) -> tuple[FirestoreEmulator, Path]:
    """An empty emulator and warehouse with the tenant: every import starts from nothing."""
    emulator = FirestoreEmulator(free_port(), heap_mb=HEAP_MB)
    emulator.start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
    data_dir = tmp / name
    data_dir.mkdir()
    app = child.container(PROJECT, data_dir)
    app.warehouse.migrate()
    create_acme(app.tenants)
    app.close()
    return emulator, data_dir


def run() -> dict[str, object]:
    sizes = {**SIZES, **(MILLION if os.environ.get("OIE_BENCH_1M") == "1" else {})}
    results: dict[str, Any] = {}
    floor: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as raw_tmp:
        tmp = Path(raw_tmp)
        for name, count in {"floor": 0, **sizes}.items():
            emulator, data_dir = _stack(tmp, name)
            try:
                if not count:
                    floor = child.measure(__name__, "floor_child", PROJECT, data_dir)
                    continue
                source = data_dir / f"{name}.csv"
                with source.open("w") as handle:
                    handle.writelines(lead_lines(count, name))
                results[name] = child.measure(
                    __name__, "create_child", PROJECT, data_dir, source=str(source), campaign=name
                )
                results[name]["emulator_peak_rss_mb"] = child.peak_rss_mb(emulator.server_pid)
            finally:
                emulator.stop()
                os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
    anchor = results["import-10k"]
    print(f"floor (container and command loaded, nothing imported): peak RSS {floor['peak_rss_mb']} MB")
    for name, figures in results.items():
        print(
            f"{name:12s} {figures['leads']:>9,} leads in {figures['seconds']} s = {figures['leads_per_s']:,} /s "
            f"({figures['leads_per_s'] / anchor['leads_per_s']:.2f}x the 10k run), peak RSS {figures['peak_rss_mb']} MB "
            f"({figures['peak_rss_mb'] / anchor['peak_rss_mb']:.2f}x), exit {figures['exit_code']}; "
            f"the emulator's peak RSS {figures['emulator_peak_rss_mb']:,} MB"
        )
    if "import-1M" not in results:
        print("import-1M: opt-in (OIE_BENCH_1M=1 make bench)")
    return {"floor_rss_mb": floor["peak_rss_mb"], **results}
