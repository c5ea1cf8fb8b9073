"""Checks for the examples in the project's Markdown: each fenced block is what it claims to be.

A ```json block says what it is with a comment on the line before its fence, e.g.
`<!-- example: plan -->`; the kinds are in JSON_KINDS (`openapi <Schema>` checks a block
against a schema of docs/openapi.yaml). ```sh / ```bash blocks are checked command by
command: `oie …` must name a real command path and only options it has (and its
`--help` must run), `make` only targets and variables of the Makefile, `curl` only routes
the gateway serves; ```html the pixel files the build makes; ```sql a named query of sql/
as it is written there. ```text blocks are output or layout, not checked; a fence without
a language is refused, so nothing escapes the checks unseen.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import jsonschema_rs
import yaml
from click.testing import CliRunner
from pydantic import TypeAdapter, ValidationError

from oie.errors import OieError

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")
MARKER = re.compile(r"<!--\s*example:\s*(?P<kind>[^>]*?)\s*-->")
SHELL = ("sh", "bash", "shell")
UNCHECKED = ("text",)
# Routes of the dev gateway that are not in docs/openapi.yaml (pages for people, local-only views).
GATEWAY_PAGES = re.compile(r"^/($|go$|demo(/.*)?$|_dev/.*|static/.*|outcomes/t/[^/]+/admin/.*)")


@dataclass(frozen=True)
class Block:
    source: str
    line: int  # of the opening fence, 1-based
    lang: str
    kind: str | None
    text: str

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


def blocks(markdown: str, source: str = "README.md") -> Iterator[Block]:
    """Every fenced block, with its language and the `example:` marker just above it."""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            line = lines[index]  # a fence inside a list item is indented: so is its body
            body.append(line[len(opened["indent"]) :] if line.startswith(opened["indent"]) else line)
            index += 1
        above = next((line for line in reversed(lines[:start]) if line.strip()), "")
        marker = MARKER.search(above)
        yield Block(source, start + 1, opened["lang"], marker["kind"] if marker else None, "\n".join(body))
        index += 1


# ---- JSON examples -------------------------------------------------------------------------


def _plan(data: Any) -> None:
    from oie.campaigns.plan import parse_plan

    parse_plan(data)


def _track_batch(data: Any) -> None:
    """The envelope, then each event and its type's props, as the track service judges them."""
    from oie.track.models import PROPS, BatchIn, EventIn

    batch = BatchIn.model_validate(data)
    for raw in batch.events:
        event = EventIn.model_validate(raw)
        PROPS[event.type].model_validate(event.props)


def _tenant(data: Any) -> None:
    from oie.tenants.models import Tenant

    Tenant.model_validate(data)


def _outcome(data: Any) -> None:
    from oie.outcomes.models import OutcomeIn

    OutcomeIn.model_validate(data)


def _sendgrid_events(data: Any) -> None:
    from oie.webhooks.models import SendGridEvent

    TypeAdapter(list[SendGridEvent]).validate_python(data)


def _openapi(schema_name: str) -> Callable[[Any], None]:
    def check(data: Any) -> None:
        document = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
        schemas = document["components"]["schemas"]
        if schema_name not in schemas:
            raise ValueError(f"docs/openapi.yaml has no schema {schema_name!r}")
        wrapped = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
        errors = [e.message for e in jsonschema_rs.validator_for(wrapped).iter_errors(data)]
        if errors:
            raise ValueError("; ".join(errors[:5]))

    return check


JSON_KINDS: dict[str, Callable[[Any], None]] = {
    "plan": _plan,
    "track-batch": _track_batch,
    "tenant": _tenant,
    "outcome": _outcome,
    "sendgrid-events": _sendgrid_events,
}


def check_json(block: Block) -> list[str]:
    """Problems of one ```json block (empty when it is what its marker says)."""
    if block.kind is None:
        kinds = ", ".join([*JSON_KINDS, "openapi <Schema>"])
        return [f"{block.where}: mark the JSON example with <!-- example: KIND --> on the line before (one of {kinds})"]
    if block.kind.startswith("openapi "):
        check = _openapi(block.kind.removeprefix("openapi ").strip())
    elif block.kind in JSON_KINDS:
        check = JSON_KINDS[block.kind]
    else:
        return [f"{block.where}: unknown example kind {block.kind!r}"]
    try:
        data = json.loads(block.text)
    except json.JSONDecodeError as exc:
        return [f"{block.where}: not JSON: {exc}"]
    try:
        check(data)
    except (ValidationError, ValueError, OieError) as exc:
        message = getattr(exc, "problems", None) or str(exc)
        return [f"{block.where}: the {block.kind} example is refused: {message}"]
    return []


# ---- shell examples ------------------------------------------------------------------------


def commands(script: str) -> Iterator[list[str]]:
    """Each command of a shell snippet as words: continuations joined, comments dropped."""
    for line in script.replace("\\\n", " ").splitlines():
        if not line.strip():
            continue
        for part in re.split(r"\s(?:&&|\|\||;)\s", line):
            words = shlex.split(part, comments=True)
            if words:
                yield words


def _root_cli() -> click.Group:
    from oie.cli.main import cli

    return cli


def _option(command: click.Command, name: str) -> click.Parameter | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    if name == "--help":
        return click.Option(["--help"], is_flag=True)
    return None


def check_oie(words: list[str]) -> list[str]:
    """`oie …`: every group and command exists, each option belongs to its command, `--help` runs."""
    root = _root_cli()
    command: click.Command = root
    path: list[str] = []
    problems: list[str] = []
    args = iter(words[1:])
    for word in args:
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            option = _option(command, name)
            if option is None:
                problems.append(f"`oie {' '.join(path)}` has no option {name}")
            elif not (isinstance(option, click.Option) and (option.is_flag or option.count)) and "=" not in word:
                next(args, None)  # the option's value
            continue
        if isinstance(command, click.Group):
            sub = command.get_command(click.Context(command), word)
            if sub is None:
                return [*problems, f"`{' '.join(['oie', *path])}` has no command {word!r}"]
            command, path = sub, [*path, word]
    if isinstance(command, click.Group):
        problems.append(f"`oie {' '.join(path)}` is a group: name one of its commands")
    result = CliRunner().invoke(root, [*path, "--help"])
    if result.exit_code != 0:
        problems.append(f"`oie {' '.join(path)} --help` exits {result.exit_code}: {result.output[-300:]}")
    return problems


def makefile_targets() -> tuple[set[str], set[str]]:
    """The Makefile's targets and the variables it reads."""
    text = (REPO / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, re.MULTILINE))
    variables = set(re.findall(r"\$\((\w+)\)", text)) | set(re.findall(r"^(\w+)\s*[?:]?=", text, re.MULTILINE))
    return targets, variables


def check_make(words: list[str]) -> list[str]:
    targets, variables = makefile_targets()
    problems = []
    for word in words[1:]:
        if "=" in word:
            name = word.split("=", 1)[0]
            if name not in variables:
                problems.append(f"the Makefile reads no variable {name}")
        elif not word.startswith("-") and word not in targets:
            problems.append(f"the Makefile has no target {word!r}")
    return problems


def _documented(path: str, method: str) -> bool:
    document = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    for template, item in document["paths"].items():
        pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return True
    return False


def check_curl(words: list[str]) -> list[str]:
    """`curl`: the route exists (docs/openapi.yaml, or one of the gateway's own pages)."""
    method, urls = "GET", []
    args = iter(words[1:])
    for word in args:
        if word in ("-X", "--request"):
            method = next(args, "GET").upper()
        elif word in ("-d", "--data", "--data-binary", "-F", "--form") and method == "GET":
            method = "POST"
            next(args, None)
        elif word in ("-H", "--header", "-u", "--user", "-o", "--output", "-d", "--data", "-F", "--form"):
            next(args, None)
        elif word.startswith(("http://", "https://")):
            urls.append(word)
    if not urls:
        return [f"curl without a URL: {' '.join(words)}"]
    problems = []
    for url in urls:
        path = urlsplit(url).path or "/"
        if not (_documented(path, method) or (method == "GET" and GATEWAY_PAGES.match(path))):
            problems.append(f"no route {method} {path} (docs/openapi.yaml, or the gateway's pages)")
    return problems


PROGRAMS: dict[str, Callable[[list[str]], list[str]]] = {"oie": check_oie, "make": check_make, "curl": check_curl}


def check_shell(block: Block) -> list[str]:
    problems = []
    for words in commands(block.text):
        program = Path(words[0]).name
        check = PROGRAMS.get(program)
        if check is None:
            problems.append(f"{block.where}: no check knows `{program}`: add one to tests/docs/examples.py")
            continue
        problems += [f"{block.where}: {problem}" for problem in check(words)]
    return problems


def check_html(block: Block) -> list[str]:
    """A tag example: each `/static/<file>.js` it loads is one the pixel build makes."""
    build = (REPO / "pixel" / "scripts" / "build.mjs").read_text()
    entries = set(re.findall(r"'?([\w-]+)'?\s*:\s*'src/[\w-]+\.js'", build))
    problems = []
    for name in re.findall(r"/static/([\w.-]+)\.js", block.text):
        if name not in entries:
            problems.append(f"{block.where}: the pixel build makes no {name}.js (pixel/scripts/build.mjs)")
    return problems


def check_sql(block: Block) -> list[str]:
    """A named-query example: the query exists in sql/ with these very header lines."""
    named = re.search(r"^-- name: (\w+)", block.text, re.MULTILINE)
    if named is None:
        return [f"{block.where}: a ```sql example shows a named query (`-- name: …`) of sql/"]
    for path in sorted((REPO / "sql").rglob("*.sql")):
        text = path.read_text()
        if re.search(rf"^-- name: {named[1]}$", text, re.MULTILINE):
            header = [line.strip() for line in block.text.splitlines() if line.strip().startswith("-- ")]
            missing = [line for line in header if line not in text.splitlines()]
            return [f"{block.where}: {path.relative_to(REPO)} has no line {line!r}" for line in missing]
    return [f"{block.where}: no named query {named[1]!r} in sql/"]


def check_block(block: Block) -> list[str]:
    if block.lang == "json":
        return check_json(block)
    if block.lang == "html":
        return check_html(block)
    if block.lang == "sql":
        return check_sql(block)
    if block.lang in SHELL:
        return check_shell(block)
    if block.lang in UNCHECKED:
        return []
    if not block.lang:
        return [f"{block.where}: give the fence a language (json, sh, text …) so the example is checked"]
    return [f"{block.where}: no check for ```{block.lang} blocks"]


def check_markdown(markdown: str, source: str = "README.md") -> list[str]:
    return [problem for block in blocks(markdown, source) for problem in check_block(block)]
