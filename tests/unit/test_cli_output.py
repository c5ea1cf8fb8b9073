"""One output style for every command: a table by default, JSON with --json, one-line errors."""

import json

import click
from click.testing import CliRunner

from oie.cli.main import cli
from oie.cli.output import EXIT_UNAVAILABLE, OieGroup, emit, json_option, table
from oie.errors import BackendUnavailable, InputError


def leaf_commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from leaf_commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_command_takes_json():
    # `dev run` serves until stopped: it prints where to start, nothing to parse.
    exempt = {"dev run"}
    missing = [
        name
        for name, command in leaf_commands(cli)
        if name not in exempt and "--json" not in {opt for p in command.params for opt in p.opts}
    ]
    assert missing == []


def test_rows_become_aligned_columns_under_upper_case_headers():
    rendered = table(
        [
            {"campaign": "q1", "current_node": "intro", "contacts": 4},
            {"campaign": "q1-long", "current_node": None, "contacts": 10},
        ],
        ["campaign", "current_node", "contacts"],
    )
    assert rendered.splitlines() == [
        "CAMPAIGN  CURRENT NODE  CONTACTS",
        "q1        intro         4",
        "q1-long                 10",
    ]


@click.group(cls=OieGroup)
def demo():
    """A group as every capability declares it."""


@demo.command("show")
@json_option
def show():
    emit([{"a": 1, "b": "x"}], summary="1 row")


@demo.command("broken")
@json_option
def broken():
    raise InputError("no such thing", field="thing")


@demo.command("down")
@json_option
def down():
    raise BackendUnavailable("firestore: deadline exceeded")


def test_the_same_rows_are_a_table_or_json():
    assert CliRunner().invoke(demo, ["show"]).output == "A  B\n1  x\n1 row\n"
    assert json.loads(CliRunner().invoke(demo, ["show", "--json"]).output) == [{"a": 1, "b": "x"}]


def test_a_service_error_is_one_line_naming_the_field_or_a_json_error():
    human = CliRunner().invoke(demo, ["broken"])
    assert (human.exit_code, human.output) == (1, "Error: no such thing [thing]\n")
    machine = CliRunner().invoke(demo, ["broken", "--json"])
    assert json.loads(machine.stdout) == {
        "error": {"code": "invalid_input", "message": "no such thing", "field": "thing"}
    }


def test_a_backend_that_is_down_exits_69():
    result = CliRunner().invoke(demo, ["down"])
    assert (
        result.exit_code == EXIT_UNAVAILABLE
        and "deadline exceeded" in result.output
        and "Traceback" not in result.output
    )
