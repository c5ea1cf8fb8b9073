"""Shared fixtures: one Firestore emulator per test session, a fresh DuckDB and project per test."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from playwright.sync_api import Browser, sync_playwright

from oie import wiring
from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.devstack.emulator import FirestoreEmulator, free_port
from oie.settings import Settings, get_settings
from tests.fakes import FakeClock

# Speed is measured by `make bench`, never by a test: Hypothesis's per-example deadline would make
# a loaded CI machine fail tests whose behaviour is right.
hypothesis_settings.register_profile("oie", deadline=None)
hypothesis_settings.load_profile("oie")

REPO = Path(__file__).resolve().parents[1]
PIXEL = REPO / "pixel"
# Debian's Chromium, driven by Playwright; never a browser Playwright downloads itself.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirestoreEmulator]:
    """The Google Cloud CLI's Firestore emulator on a free port, stopped after the session."""
    log = tmp_path_factory.mktemp("firestore") / "emulator.log"
    emulator = FirestoreEmulator(free_port(), log_path=log)
    emulator.start()
    previous = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
    yield emulator
    emulator.stop()
    if previous is None:
        os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
    else:
        os.environ["FIRESTORE_EMULATOR_HOST"] = previous


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Test settings: a Firestore project of its own (isolation) and a DuckDB file under tmp_path."""
    fields: dict[str, object] = {
        "env": "test",
        "gcp_project": f"test-{uuid.uuid4().hex[:12]}",
        "duckdb_path": tmp_path / "warehouse.duckdb",
        "outbox_dir": tmp_path / "outbox",
        "default_landing_url": "https://engine.example/welcome",
        "trusted_proxy_hops": 0,
    }
    fields.update(overrides)
    return Settings.model_validate(fields)


@pytest.fixture(scope="session")
def duckdb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB warehouse migrated once a session; tests copy it (1 ms) instead of migrating (about 1 s of sqlglot)."""
    path = tmp_path_factory.mktemp("duckdb-template") / "warehouse.duckdb"
    template = DuckDBWarehouse(path, keep_open=0)
    template.migrate()
    template.close()
    return path


def migrated_copy(template: Path, path: Path) -> None:
    """Put at `path` the warehouse `migrate()` would leave there: a copy of the session's migrated template."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)


@pytest.fixture
def app(firestore_emulator: FirestoreEmulator, tmp_path: Path, duckdb_template: Path) -> Iterator[wiring.Container]:
    """The real adapters (Firestore emulator, DuckDB) with a fixed clock, as the process container."""
    settings = make_settings(tmp_path)
    migrated_copy(duckdb_template, settings.duckdb_path)
    container = wiring.Container(settings, clock=FakeClock())
    wiring.use(container)
    yield container
    container.close()
    wiring.use(None)
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pixel_dist() -> Path:
    """Builds pixel/dist with esbuild (installing the pinned npm packages when missing)."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to build the pixel")
    # pytest-xdist's workers each build once: a lock keeps two builds from writing pixel/dist at once.
    with (PIXEL / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (PIXEL / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PIXEL, check=True)
        subprocess.run([npm, "run", "build"], cwd=PIXEL, check=True, capture_output=True)
    return PIXEL / "dist"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session (`make test` installs it first)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: run `make chromium` (tests/browser/ensure_chromium.sh)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
