"""With no local stack running, every command that needs it says so in one line, within seconds."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from oie.devstack.emulator import free_port
from tests.cli.conftest import REPO, Newcomer, files_in

EXIT_UNAVAILABLE = 69

COMMANDS = {
    "tenant create": ["tenant", "create", "--id", "acme", "--name", "Acme", "--redirect-domain", "acme.com",
                      "--landing", "https://acme.com/"],
    "campaign create": ["campaign", "create", "--tenant", "acme", "--campaign", "Q1", "--file", "leads.csv",
                        "--landing", "https://acme.com/", "--out", "links.csv"],
    "campaigns status": ["campaigns", "status", "--tenant", "demo"],
    "send-demo-events": ["webhooks", "send-demo-events", "--event", "open", "--message", "m1"],
    "privacy erase": ["privacy", "erase", "--tenant", "acme", "--email", "ada@example.com"],
}  # fmt: skip


def assert_one_line_within_seconds(answer, *words: str) -> None:
    assert answer.code == EXIT_UNAVAILABLE, answer.stdout + answer.stderr
    lines = answer.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in answer.stderr, answer.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert answer.seconds < 5, f"took {answer.seconds:.1f} s"


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_command_without_a_running_stack_names_what_to_start_in_one_line(newcomer: Newcomer, command):
    (newcomer.home / "leads.csv").write_text("email\nada@example.com\n")
    answer = newcomer.oie(*command)
    assert_one_line_within_seconds(answer, "not running", "make run")
    # Nothing appears where the command was run: no warehouse, no data folder, no links file.
    assert files_in(newcomer.home) == {"leads.csv"}


def test_json_mode_reports_the_same_failure_as_a_json_error(newcomer: Newcomer):
    answer = newcomer.oie("campaigns", "status", "--tenant", "demo", "--json")
    assert answer.code == EXIT_UNAVAILABLE and '"code": "unavailable"' in answer.stdout


def test_a_stack_whose_emulator_is_gone_is_named_with_its_port(newcomer: Newcomer):
    published = newcomer.publish_stack(free_port())
    answer = newcomer.oie("campaigns", "status", "--tenant", "demo")
    assert_one_line_within_seconds(answer, f"port {published.port}", "does not answer", "make run")


def test_an_emulator_that_accepts_but_never_answers_costs_seconds_not_a_hang(newcomer: Newcomer):
    # A paused emulator: the kernel still accepts connections, nothing ever answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        newcomer.publish_stack(silent.getsockname()[1])
        answer = newcomer.oie("tenant", "show", "--tenant", "acme")
    assert_one_line_within_seconds(answer, "does not answer")


def test_the_state_of_a_stack_that_was_killed_is_ignored(newcomer: Newcomer):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    newcomer.publish_stack(free_port(), pid=gone.pid)
    answer = newcomer.oie("campaigns", "status", "--tenant", "demo")
    assert_one_line_within_seconds(answer, "not running")


def test_asking_for_a_port_no_stack_runs_on_says_how_to_start_it(newcomer: Newcomer):
    newcomer.publish_stack(free_port(), port=free_port())
    answer = newcomer.oie("--port", "9", "campaigns", "status", "--tenant", "demo")
    assert_one_line_within_seconds(answer, "port 9", "make run PORT=9")


def test_the_data_folder_is_the_checkouts_wherever_oie_runs(newcomer: Newcomer):
    env = {k: v for k, v in newcomer.env().items() if k != "OIE_DATA_DIR"}
    done = subprocess.run(
        [sys.executable, "-c", "from oie.settings import Settings; s = Settings(); print(s.data_dir, s.duckdb_path)"],
        cwd=newcomer.home,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == [str(REPO / ".oie-data"), str(REPO / ".oie-data" / "warehouse.duckdb")]
