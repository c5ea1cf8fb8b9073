"""Read infra/*.tf (python-hcl2) and the code's contracts (ast, yaml, Settings) for the infra tests.

Every check is a plain function taking an `Infra`, so the tests can run it on the real
infra/ and on a deliberately broken copy (see test_infra_checks_catch_drift.py).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
REGISTRY_PATH = FUNCTIONS_DIR / "oie" / "jobs" / "registry.yaml"


@dataclass
class Infra:
    """The parsed Terraform of one infra directory, merged across files."""

    root: Path
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    variable_order: list[str] = field(default_factory=list)
    output_order: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        assert name in self.resources.get(rtype, {}), f"infra has no {rtype}.{name}"
        return self.resources[rtype][name]


def load_infra(root: Path) -> Infra:
    infra = Infra(root=root)
    for path in sorted(root.glob("*.tf")):
        text = path.read_text()
        infra.texts[path.name] = text
        parsed = hcl2.loads(text)  # type: ignore[attr-defined]
        for block in parsed.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    infra.resources.setdefault(rtype, {})[name] = body
        for block in parsed.get("locals", []):
            infra.locals.update(block)
        for block in parsed.get("variable", []):
            for name, body in block.items():
                infra.variables[name] = body
                infra.variable_order.append(name)
        for block in parsed.get("output", []):
            for name, body in block.items():
                infra.outputs[name] = body
                infra.output_order.append(name)
    return infra


def only(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The single nested block python-hcl2 wraps in a list."""
    assert len(blocks) == 1, f"expected one block, got {len(blocks)}"
    return blocks[0]


def dynamic_block(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    for block in body.get("dynamic", []):
        if name in block:
            found: dict[str, Any] = block[name]
            return found
    return None


# --- the code's contracts ------------------------------------------------------------


def entry_points(main_py: Path = FUNCTIONS_DIR / "main.py") -> set[str]:
    """Top-level functions decorated with @functions_framework.http."""
    tree = ast.parse(main_py.read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(target) == "functions_framework.http":
                    found.add(node.name)
    return found


def queues(queues_py: Path = FUNCTIONS_DIR / "oie" / "queues.py") -> dict[str, str]:
    """QUEUES from oie/queues.py (queue name -> function), constants resolved, no import."""
    tree = ast.parse(queues_py.read_text())
    constants: dict[str, str] = {}
    for node in tree.body:
        target, value = _assignment(node)
        if target is None or value is None:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            constants[target] = value.value
        elif target == "QUEUES" and isinstance(value, ast.Dict):
            return {
                _resolve(k, constants): _resolve(v, constants) for k, v in zip(value.keys, value.values, strict=True)
            }
    raise AssertionError("functions/oie/queues.py defines no QUEUES dict")


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    return None, None


def _resolve(node: ast.expr | None, constants: dict[str, str]) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    raise AssertionError(f"cannot resolve {ast.dump(node) if node else None} in QUEUES")


def registered_jobs(path: Path = REGISTRY_PATH) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(path.read_text())
    return {job["name"]: job for job in data["jobs"]}


def _settings_module() -> Any:
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS_DIR))
    from oie import settings

    return settings


def secret_env_names() -> set[str]:
    return set(_settings_module().secret_setting_names())


def settings_env_names() -> set[str]:
    return {f"OIE_{name.upper()}" for name in _settings_module().Settings.model_fields}


# --- small readers of HCL expressions ---------------------------------------------------

ENV_NAME = re.compile(r"\bOIE_[A-Z0-9_]+\b")


def plain_env_names(infra: Infra) -> set[str]:
    """Every OIE_* name the functions get as a plain environment variable."""
    names = set(infra.locals["function_env"])
    names |= set(ENV_NAME.findall(str(infra.locals.get("function_env_by_name", ""))))
    return names


def for_each_keys(expression: str) -> str:
    """`${local.x}` -> `local.x`."""
    return expression.removeprefix("${").removesuffix("}")
