"""The local gateway serves every function from one process, each under its own deadlines."""

from __future__ import annotations

import os

from oie import deadlines
from oie.devstack.gateway import build_gateway


def test_building_the_gateway_leaves_no_function_target_behind(monkeypatch):
    monkeypatch.delenv("FUNCTION_TARGET", raising=False)
    build_gateway()
    # functions-framework sets FUNCTION_TARGET per create_app; left set, every later call in
    # this process would take the last function's budgets.
    assert "FUNCTION_TARGET" not in os.environ
    assert deadlines.process_function() == "cli"


def test_a_function_keeps_a_target_the_process_was_started_with(monkeypatch):
    monkeypatch.setenv("FUNCTION_TARGET", "track")
    build_gateway()
    assert os.environ["FUNCTION_TARGET"] == "track"
