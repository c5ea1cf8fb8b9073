"""The model half of docs/openapi.yaml: component schemas generated from the pydantic models.

The paths and operations are written once, by hand, in docs/openapi.yaml; the request and
event schemas the handlers validate with are generated here, so the document cannot drift
from the code (tests/contract/test_openapi_document.py fails when it does). After changing
a model:

    .venv/bin/python -m tests.contract.openapi_models --write
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from oie.campaigns.control import ControlRequest, ControlResult
from oie.configuration.models import (
    AlertChannelIn,
    ChannelRef,
    KeyIn,
    LimitsIn,
    ScoringIn,
    SenderIn,
    TenantSettingsIn,
)
from oie.console.models import HotLeads, Timeline
from oie.outcomes.models import LeadState, Outcome, OutcomeIn
from oie.track.models import PROPS, BatchIn, Context, EventIn, Rejected
from oie.webhooks.models import SendGridEvent

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
REF = "#/components/schemas/{model}"
GENERATED_NOTE = "Generated from the pydantic models by tests/contract/openapi_models.py; do not edit by hand."

MODELS: list[tuple[type[BaseModel], JsonSchemaMode]] = [
    (BatchIn, "validation"),
    (Context, "validation"),
    (EventIn, "validation"),
    (Rejected, "serialization"),
    *((model, "validation") for model in dict.fromkeys(PROPS.values())),
    (OutcomeIn, "validation"),
    (Outcome, "serialization"),
    (LeadState, "serialization"),
    (SendGridEvent, "validation"),
    *((model, "validation") for model in (TenantSettingsIn, LimitsIn, SenderIn, AlertChannelIn, ChannelRef)),
    *((model, "validation") for model in (ScoringIn, KeyIn, ControlRequest)),
    (ControlResult, "serialization"),
    (HotLeads, "serialization"),
    (Timeline, "serialization"),
]


def _typed_events() -> dict[str, Any]:
    """`TrackEvent`: an EventIn whose `props` follow its type's model (the service checks both)."""
    variants = []
    for event_type, model in PROPS.items():
        variants.append(
            {
                "allOf": [
                    {"$ref": REF.format(model="EventIn")},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": event_type},
                            "props": {"$ref": REF.format(model=model.__name__)},
                        },
                    },
                ]
            }
        )
    return {
        "description": "One pixel event: `props` is checked against the model of its `type`. " + GENERATED_NOTE,
        "oneOf": variants,
    }


def generated_schemas() -> dict[str, Any]:
    """Every generated component schema, by name."""
    _, top = models_json_schema(MODELS, ref_template=REF)
    schemas: dict[str, Any] = dict(sorted(top.get("$defs", {}).items()))
    # The envelope takes any item and judges each event on its own (400 lists the rejected ones);
    # documenting the typed event lets a client, and Schemathesis, build valid batches.
    events = schemas["BatchIn"]["properties"]["events"]
    events["items"] = {"$ref": REF.format(model="TrackEvent")}
    events["description"] = "each event is judged on its own: an invalid one is listed in `rejected` (400)"
    schemas["TrackEvent"] = _typed_events()
    for schema in schemas.values():
        schema.setdefault("description", GENERATED_NOTE)
        schema["x-generated"] = True
    return schemas


def load_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def with_generated(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its generated schemas replaced by the models' current ones."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    kept = {name: schema for name, schema in schemas.items() if not (schema or {}).get("x-generated")}
    document["components"]["schemas"] = {**kept, **generated_schemas()}
    return document


class _Dumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks, so the descriptions read as written."""


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _text)


def render(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def main(argv: list[str]) -> int:
    updated = render(with_generated(load_document()))
    if "--write" in argv:
        DOCUMENT.write_text(updated)
        print(f"wrote {DOCUMENT}")
        return 0
    if DOCUMENT.read_text() != updated:
        print(f"{DOCUMENT} is out of date: run python -m tests.contract.openapi_models --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
