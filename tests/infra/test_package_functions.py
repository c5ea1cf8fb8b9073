"""infra/tools/package_functions.py: same source, same archive hash; any change, a new one."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from terraform_model import REPO_ROOT


def packager() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "package_functions", REPO_ROOT / "infra" / "tools" / "package_functions.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_source(root: Path) -> Path:
    source = root / "functions"
    (source / "oie" / "__pycache__").mkdir(parents=True)
    (source / "main.py").write_text("def go(request): ...\n")
    (source / "requirements.txt").write_text("functions-framework==3.10.0\n")
    (source / "oie" / "__init__.py").write_text("")
    (source / "oie" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    return source


def test_same_source_gives_the_same_hash_and_a_change_a_new_one(tmp_path: Path) -> None:
    package = packager().package
    source = make_source(tmp_path)
    first = package(source, tmp_path / "a")
    second = package(source, tmp_path / "b")
    assert first == second == (tmp_path / "a" / "functions.sha256").read_text().strip()
    (source / "main.py").write_text("def go(request): return 1\n")
    assert package(source, tmp_path / "c") != first


def test_archive_holds_main_requirements_and_no_bytecode(tmp_path: Path) -> None:
    packager().package(make_source(tmp_path), tmp_path / "out")
    names = zipfile.ZipFile(tmp_path / "out" / "functions.zip").namelist()
    assert names == sorted(names)
    assert {"main.py", "requirements.txt", "oie/__init__.py"} <= set(names)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_missing_requirements_is_refused(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    (source / "requirements.txt").unlink()
    with pytest.raises(SystemExit, match=r"requirements\.txt"):
        packager().package(source, tmp_path / "out")


def test_the_warehouse_sql_is_bundled_beside_main(tmp_path: Path) -> None:
    source = make_source(tmp_path)
    (tmp_path / "sql" / "schema").mkdir(parents=True)
    (tmp_path / "sql" / "schema" / "010_t.sql").write_text("create table if not exists t (a string);\n")
    packager().package(source, tmp_path / "out")
    names = zipfile.ZipFile(tmp_path / "out" / "functions.zip").namelist()
    assert "sql/schema/010_t.sql" in names
