"""The local CRM servers (oie.devstack.crm_servers) on free ports, one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oie.devstack.crm_servers import HubSpotServer, SalesforceServer


@pytest.fixture
def hubspot() -> Iterator[HubSpotServer]:
    server = HubSpotServer().start()
    yield server
    server.stop()


@pytest.fixture
def salesforce() -> Iterator[SalesforceServer]:
    server = SalesforceServer().start()
    yield server
    server.stop()
