"""Tenants acme and beta with an admin and a member of acme, and a local webhook receiver."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from oie.outcomes.auth import Actor, authenticate, create_key
from oie.tenants.service import create_tenant

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def public_key_b64(key: Any) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def p256_key() -> str:
    return public_key_b64(ec.generate_private_key(ec.SECP256R1()))


def p384_key() -> str:
    return public_key_b64(ec.generate_private_key(ec.SECP384R1()))


def rsa_key() -> str:
    return public_key_b64(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@dataclass
class World:
    app: Any
    keys: dict[str, str]
    admin: Actor
    member: Actor


@pytest.fixture
def world(app: Any) -> World:
    app.clock.current = NOW
    for tenant in ("acme", "beta"):
        create_tenant(
            app.tenants,
            {
                "tenant_id": tenant,
                "name": tenant,
                "redirect_domains": (f"{tenant}.com",),
                "default_landing_url": f"https://{tenant}.com/",
            },
            allow_local_secret=True,
        )
    keys = {
        "admin": create_key(app.api_keys, "acme", [], "Ann Admin", NOW, role="admin"),
        "member": create_key(app.api_keys, "acme", [], "Sam SDR", NOW, role="member"),
        "legacy": create_key(app.api_keys, "acme", ["admin"], "old admin", NOW),
        "integration": create_key(app.api_keys, "acme", ["outcomes:read", "outcomes:write"], "crm", NOW),
        "beta": create_key(app.api_keys, "beta", [], "beta admin", NOW, role="admin"),
    }
    admin = authenticate(app.api_keys, "acme", "Bearer " + keys["admin"], "admin")
    member = authenticate(app.api_keys, "acme", "Bearer " + keys["member"], "outcomes:read")
    return World(app, keys, admin, member)


@dataclass
class Receiver:
    """A local HTTPS stand-in (plain HTTP on 127.0.0.1) that records what is posted to it."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            found.received.append((dict(self.headers.items()), body))
            self.send_response(found.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield found
    server.shutdown()
    server.server_close()
    thread.join(5)


def body_json(received: tuple[dict[str, str], bytes]) -> Any:
    return json.loads(received[1])
