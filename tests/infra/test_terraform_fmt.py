"""`terraform fmt -check -recursive infra` passes (no provider download needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def test_terraform_files_are_formatted(infra_dir: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("the terraform binary is not installed, so formatting cannot be checked")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-list=true", str(infra_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive infra`; unformatted:\n{result.stdout}{result.stderr}"
