"""The local stack a benchmark measures: Firestore emulator, DuckDB, every function behind
the dev gateway on a free port, all stopped afterwards."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from oie import wiring
from oie.devstack.emulator import FirestoreEmulator, free_port
from oie.devstack.gateway import build_gateway
from tests.conftest import make_settings


@contextmanager
def bench_stack(extra_mounts: dict[str, Any] | None = None, **overrides: Any) -> Iterator[tuple[wiring.Container, int]]:
    """Yield the process container and the gateway's port."""
    with tempfile.TemporaryDirectory() as tmp:
        emulator = FirestoreEmulator(free_port())
        emulator.start()
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        app = wiring.Container(make_settings(Path(tmp)), **overrides)
        wiring.use(app)
        server = None
        try:
            app.warehouse.migrate()
            port = free_port()
            server = make_server("127.0.0.1", port, build_gateway(extra=extra_mounts), threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            yield app, port
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
            app.close()
            wiring.use(None)
            emulator.stop()
            os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
