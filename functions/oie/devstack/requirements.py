"""Deriving the deploy bundle's requirements.txt from pyproject.toml (one list of dependencies)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HEADER = "# Generated from pyproject.toml by `make requirements`; do not edit.\n"


def render_requirements(pyproject: Path = REPO / "pyproject.toml") -> str:
    """The runtime dependencies, one pinned requirement per line."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return HEADER + "".join(f"{dep}\n" for dep in sorted(project["dependencies"], key=str.lower))
