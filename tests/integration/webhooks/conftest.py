import pytest
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from oie.webhooks.signer import LocalSigner
from tests.fakes import RecordingQueue
from tests.integration.webhooks.helpers import seed_tenant


@pytest.fixture(scope="session")
def signer():
    return LocalSigner.generate()


@pytest.fixture
def queue(app):
    recording = RecordingQueue()
    app.tasks = recording  # before anything builds the webhook services
    return recording


@pytest.fixture
def tenant(app, signer, queue):
    seed_tenant(app, signer)
    return app.tenants.get("acme")


@pytest.fixture
def gateway(tenant):
    return Client(build_gateway())


@pytest.fixture
def now(app):
    return int(app.clock.now().timestamp())
