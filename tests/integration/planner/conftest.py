"""Shared planner fixtures: the local Gemini server and Acme with two imported contacts and a sender."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oie import wiring
from oie.campaigns.models import SenderIdentity
from oie.devstack import gemini_server
from oie.devstack.emulator import FirestoreEmulator
from oie.devstack.gemini_server import GeminiServerHandle
from oie.links.csv_import import parse_leads
from oie.logs import get_logger
from tests.conftest import make_settings, migrated_copy
from tests.factories import create_acme, csv_text
from tests.fakes import FakeClock, RecordingQueue

SENDER = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", from_name="Sam", verification="verified")


@pytest.fixture
def gemini() -> Iterator[GeminiServerHandle]:
    """The local Gemini server on a free 127.0.0.1 port, its requests recorded."""
    handle = gemini_server.start(0)
    yield handle
    handle.stop()


@pytest.fixture
def planning_app(
    firestore_emulator: FirestoreEmulator, tmp_path: Path, gemini: GeminiServerHandle, duckdb_template: Path
) -> Iterator[wiring.Container]:
    """The process container planning against `gemini`: Acme, campaign q1 with Ada and Grace, sender `sdr`."""
    settings = make_settings(tmp_path, planner_base_url=gemini.base_url)
    migrated_copy(duckdb_template, settings.duckdb_path)
    container = wiring.Container(settings, clock=FakeClock(), tasks=RecordingQueue())
    wiring.use(container)
    create_acme(container.tenants)
    container.importer.run(
        "acme",
        "Q1",
        "https://www.acme.com/demo",
        parse_leads(csv_text("ada@example.com,Ada,,Engines,", "grace@gmail.com,Grace,,Cobol,")),
        "https://links.acme.com",
    )
    container.campaign_senders.put("acme", SENDER)
    get_logger(__name__)  # log to the real stdout, not to the first CLI invocation's captured one
    yield container
    container.close()
    wiring.use(None)
