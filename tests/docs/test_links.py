"""README.md and docs/*.md link only to files in the repository, and every such link resolves."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
CODE_SPAN = re.compile(r"`([^`\n]+)`")


def _tracked_top_folders() -> tuple[str, ...]:
    # From git, not the disk: generated folders (bench-results/, test-artifacts/) are ignored
    # by git and may or may not exist, so naming a file in them is no claim about the repository.
    listed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return tuple(sorted({line.split("/", 1)[0] + "/" for line in listed.splitlines() if "/" in line}))


# Top-level folders of the repository: a code span that starts with one names a file in it.
TOP = _tracked_top_folders()


def without_fences(text: str) -> str:
    return re.sub(r"^ *```.*?^ *```", "", text, flags=re.MULTILINE | re.DOTALL)


def problems_in(text: str, document: Path) -> list[str]:
    """Links that leave the repository, or do not resolve to a file in it."""
    problems = []
    prose = without_fences(text)
    targets = LINK.findall(prose) + REFERENCE.findall(prose)
    for target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # a web address or an anchor in the same page
        path = target.split("#", 1)[0]
        resolved = (REPO / path.lstrip("/")) if path.startswith("/") else (document.parent / path)
        resolved = resolved.resolve()
        if not resolved.is_relative_to(REPO):
            problems.append(f"{target}: points outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file in the repository")
    for span in CODE_SPAN.findall(prose):
        if span.startswith("../"):
            problems.append(f"`{span}`: names a file outside the repository")
        elif span.startswith(TOP) and re.fullmatch(r"[\w./*-]+", span) and not list(REPO.glob(span.rstrip("/"))):
            problems.append(f"`{span}`: no such file in the repository")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_resolves_inside_the_repository(document: Path) -> None:
    assert problems_in(document.read_text(), document) == []


def test_the_architecture_is_documented_in_the_repository() -> None:
    readme = (REPO / "README.md").read_text()
    assert "](docs/architecture.md)" in readme
    assert (REPO / "docs" / "architecture.md").is_file()


def test_the_check_refuses_links_outside_or_missing() -> None:
    readme = REPO / "README.md"
    text = (
        "See [design](../shared/DESIGN.md), [gone](docs/nothing.md), [ok](docs/openapi.yaml), "
        "[web](https://example.com/x), [anchor](#layout), `../shared/DESIGN.md`, `sql/nowhere/x.sql`, "
        "`functions/oie/campaigns/plan.py`, `tenants/{t}/leads/{lead}`.\n\n```text\n[not a link](../x)\n```\n"
    )
    assert problems_in(text, readme) == [
        "../shared/DESIGN.md: points outside the repository",
        "docs/nothing.md: no such file in the repository",
        "`../shared/DESIGN.md`: names a file outside the repository",
        "`sql/nowhere/x.sql`: no such file in the repository",
    ]
