"""Fixtures for the infra checks. OIE_INFRA_DIR points them at another copy of infra/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from terraform_model import REPO_ROOT, Infra, load_infra


@pytest.fixture(scope="session")
def infra_dir() -> Path:
    return Path(os.environ.get("OIE_INFRA_DIR", REPO_ROOT / "infra")).resolve()


@pytest.fixture(scope="session")
def infra(infra_dir: Path) -> Infra:
    return load_infra(infra_dir)
