"""Google's ZetaSQL (the BigQuery front end) as a test oracle for the project's SQL.

The analyzer runs as WebAssembly through wasmtime. Compiling the module takes about
30 s, so the compiled module is cached next to the virtual env (`sys.prefix`), keyed
by the zetasql and wasmtime versions; later runs load it in well under a second.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import wasmtime
from zetasql import __version__ as zetasql_version
from zetasql import types as zt
from zetasql.core import ZetaSqlLocalService, wasm_client

# BigQuery reserves QUALIFY; ZetaSQL's external mode is BigQuery's product mode.
RESERVED_KEYWORDS = ["QUALIFY"]
PROJECT, DATASET = "oie-analyzer", "oie"


def _cache_path() -> Path:
    wasmtime_version = importlib.metadata.version("wasmtime")
    return Path(sys.prefix) / f"zetasql-{zetasql_version}-wasmtime-{wasmtime_version}.cwasm"


class _CachedModule:
    """Stands in for wasmtime.Module inside zetasql's client: compile once, then deserialize."""

    @staticmethod
    def from_file(engine: wasmtime.Engine, path: str) -> wasmtime.Module:
        cached = _cache_path()
        if cached.exists():
            try:
                return wasmtime.Module.deserialize_file(engine, str(cached))
            except wasmtime.WasmtimeError:
                cached.unlink(missing_ok=True)  # from another engine build: compile again
        module = wasmtime.Module.from_file(engine, path)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(module.serialize())
        os.replace(tmp, cached)
        return module


@cache
def service() -> ZetaSqlLocalService:
    """The one analyzer service of this process, loaded from the compiled-module cache."""
    wasm_client.Module = _CachedModule  # type: ignore[attr-defined]
    return ZetaSqlLocalService.get_instance()


def language_options() -> zt.LanguageOptions:
    """BigQuery's language: every released feature, external product mode, QUALIFY reserved."""
    options = zt.LanguageOptions.maximum_features()
    options.product_mode = zt.ProductMode.PRODUCT_EXTERNAL
    options.reserved_keywords = list(RESERVED_KEYWORDS)
    return options


def _templated(kind: zt.SignatureArgumentKind) -> zt.FunctionArgumentType:
    return zt.FunctionArgumentType(kind=kind)


def bigquery_only_functions() -> list[zt.Function]:
    """BigQuery builtins that ZetaSQL's open-source catalog lacks, declared as BigQuery documents them.

    MIN_BY(x, y) / MAX_BY(x, y): aggregate, returns x's type (BigQuery's aliases of ANY_VALUE ... HAVING MIN/MAX).
    """
    any1 = zt.SignatureArgumentKind.ARG_TYPE_ANY_1
    any2 = zt.SignatureArgumentKind.ARG_TYPE_ANY_2
    return [
        zt.Function(
            name_path=[name],
            group="BigQuery",
            mode=zt.FunctionEnums.Mode.AGGREGATE,
            signature=[
                zt.FunctionSignature(
                    argument=[_templated(any1), _templated(any2)],
                    return_type=_templated(any1),
                )
            ],
        )
        for name in ("min_by", "max_by")
    ]


@dataclass
class Catalog:
    """Tables and views known so far, built from the project's own CREATE statements."""

    tables: dict[str, list[zt.SimpleColumn]] = field(default_factory=dict)
    # Registered once per version with the service: sending the catalog with every call
    # costs ~0.3 s of proto conversion, a registered one ~0.04 s a statement.
    _registered: tuple[int, int] | None = field(default=None, repr=False)
    _version: int = field(default=0, repr=False)

    def __repr__(self) -> str:
        return f"Catalog({len(self.tables)} tables)"

    def registered_id(self) -> int:
        """The service's id for this catalog as it is now."""
        if self._registered is not None and self._registered[0] == self._version:
            return self._registered[1]
        if self._registered is not None:
            service().unregister_catalog(registered_id=self._registered[1])
        registered = service().register_catalog(simple_catalog=self.simple_catalog()).registered_id
        self._registered = (self._version, registered)
        return registered

    def simple_catalog(self) -> zt.SimpleCatalog:
        lang = language_options()
        unqualified = [zt.SimpleTable(name=name, column=cols) for name, cols in self.tables.items()]
        qualified = [zt.SimpleTable(name=name, column=cols) for name, cols in self.tables.items()]
        # `migrate` sends project.dataset.table names: the same tables two catalogs down.
        dataset = zt.SimpleCatalog(name=DATASET, table=qualified)
        project = zt.SimpleCatalog(name=PROJECT, catalog=[dataset])
        return zt.SimpleCatalog(
            name="bigquery",
            table=unqualified,
            catalog=[project],
            builtin_function_options=zt.ZetaSQLBuiltinFunctionOptions(language_options=lang),
            custom_function=bigquery_only_functions(),
        )

    def learn(self, statement: Any) -> None:
        """Add what a CREATE TABLE / CREATE VIEW / ALTER TABLE ADD COLUMN defines."""
        kind = type(statement).__name__
        self._version += kind in {"ResolvedCreateTableStmt", "ResolvedCreateViewStmt", "ResolvedAlterTableStmt"}
        if kind == "ResolvedCreateTableStmt":
            self.tables[statement.name_path[-1]] = [
                zt.SimpleColumn(name=c.name, type=c.type) for c in statement.column_definition_list
            ]
        elif kind == "ResolvedCreateViewStmt":
            self.tables[statement.name_path[-1]] = [
                zt.SimpleColumn(name=c.name, type=c.column.type) for c in statement.output_column_list
            ]
        elif kind == "ResolvedAlterTableStmt":
            columns = self.tables.setdefault(statement.name_path[-1], [])
            known = {c.name for c in columns}
            for action in statement.alter_action_list:
                definition = getattr(action, "column_definition", None)
                if definition is not None and definition.name not in known:
                    columns.append(zt.SimpleColumn(name=definition.name, type=definition.type))


class AnalysisError(Exception):
    """ZetaSQL refused a statement, as BigQuery would."""


def _options(parameters: dict[str, zt.Type] | None) -> zt.AnalyzerOptions:
    return zt.AnalyzerOptions(
        language_options=language_options(),
        query_parameters=[zt.AnalyzerOptions.QueryParameter(name=k, type=v) for k, v in (parameters or {}).items()],
        error_message_mode=zt.ErrorMessageMode.ERROR_MESSAGE_ONE_LINE,
    )


def _has_statement(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


def analyze_script(
    text: str, catalog: Catalog, parameters: dict[str, zt.Type] | None = None, *, learn: bool = True
) -> Iterator[Any]:
    """Analyze every statement of a script in order, teaching the catalog what each creates."""
    data = text.encode()
    location = zt.ParseResumeLocation(input=text, byte_position=0)
    while _has_statement(data[location.byte_position :].decode()):
        try:
            response = service().analyze(
                sql_statement=text,
                parse_resume_location=location,
                options=_options(parameters),
                registered_catalog_id=catalog.registered_id(),
            )
        except Exception as exc:  # zetasql raises its ServerError for every refusal
            raise AnalysisError(str(exc)) from exc
        location.byte_position = response.resume_byte_position
        if learn:
            catalog.learn(response.resolved_statement)
        yield response.resolved_statement


# The adapter's parameter type names (oie.adapters.bigquery_warehouse) → ZetaSQL type kinds.
_KINDS = {
    "BOOL": "TYPE_BOOL",
    "INT64": "TYPE_INT64",
    "FLOAT64": "TYPE_DOUBLE",
    "TIMESTAMP": "TYPE_TIMESTAMP",
    "DATE": "TYPE_DATE",
    "STRING": "TYPE_STRING",
}


def scalar(kind: str) -> zt.Type:
    """A ZetaSQL type from a BigQuery scalar type name, as the adapter names its parameters."""
    return zt.Type(type_kind=getattr(zt.TypeKind, _KINDS[kind]))


def array_of(kind: str) -> zt.Type:
    """ARRAY<kind>."""
    return zt.Type(type_kind=zt.TypeKind.TYPE_ARRAY, array_type=zt.ArrayType(element_type=scalar(kind)))
