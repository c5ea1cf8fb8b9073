"""The Firestore emulator started with a heap of its own: the JVM takes it, and the emulator answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from google.cloud import firestore  # type: ignore[attr-defined]

from oie.devstack.emulator import FirestoreEmulator, free_port

pytestmark = pytest.mark.firestore


def test_an_emulator_given_a_heap_runs_its_jvm_with_that_maximum(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_TOOL_OPTIONS", raising=False)
    log = tmp_path / "emulator.log"
    emulator = FirestoreEmulator(free_port(), log_path=log, heap_mb=384)
    emulator.start()
    try:
        # The JVM says so itself when it reads the variable; gcloud's launcher passes no flags.
        assert "Picked up JAVA_TOOL_OPTIONS: -Xmx384m" in log.read_text()
        environ = Path(f"/proc/{emulator.server_pid}/environ").read_bytes().split(b"\0")
        assert b"JAVA_TOOL_OPTIONS=-Xmx384m" in environ
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
        client = firestore.Client(project="heap-test")
        client.collection("c").document("d").set({"n": 1})
        assert client.collection("c").document("d").get().to_dict() == {"n": 1}
    finally:
        emulator.stop()
    assert "JAVA_TOOL_OPTIONS" not in os.environ  # the caller's environment is left as it was
