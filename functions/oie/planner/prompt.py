"""The prompt, its version, and the JSON Schema the model's answer must follow.

The model-facing schema is derived from the plan's pydantic models (so new plan features
reach the model by themselves), with every `$ref` inlined and only the keywords Gemini's
structured output accepts; the published `plan.schema.json` is unchanged. Bump
PROMPT_VERSION whenever the prompt or the schema changes: it is part of every input hash.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from oie.campaigns.plan import Plan, PlanInvalid, parse_plan
from oie.planner.inputs import PlanningInput

PROMPT_VERSION = "plan-v1"
MAX_ANALYSIS = 280
INPUT_START, INPUT_END = "<planning_input>", "</planning_input>"
# Keywords of the JSON Schema subset Gemini's structured output takes (others are dropped).
_KEEP = {
    "type", "properties", "required", "items", "enum", "anyOf", "description",
    "minLength", "maxLength", "minItems", "maxItems", "pattern", "minimum", "maximum",
}  # fmt: skip
# Parts of a plan the model never writes: HTML is rendered by the engine from the text.
_OMIT = {"html"}

SYSTEM = """You plan and write one B2B outbound email sequence for one contact.
You adapt the tenant's template plan to what this contact did on the tenant's website.
Answer with JSON only, following the response schema: {"leadAnalysis": ..., "plan": ...}."""

RULES = """Rules:
- Keep the template's timezone, quietHours and stopOnReply. Only email send, wait and stop nodes.
- Use only facts present in the input: no invented numbers, prices, percentages, customers,
  names or claims. You may name the sender's company and the contact's company.
- Use placeholders for personal fields: {{first_name}}, {{company}}, {{title}}, {{sender_name}};
  a fallback after a bar is allowed: {{first_name|there}}.
- Never write links, web addresses or unsubscribe text: the engine adds the footer and the
  unsubscribe link. To link to the site write {{tracking_link}}.
- Subjects of at most 120 characters, texts of at most 1500 characters, plain text.
- Refer to what the contact read (page classes, how often) when it helps, without sounding watched.
- leadAnalysis: at most 280 characters for the sales rep, from the evidence only: what the lead
  read and how it engaged with the emails."""


class Draft(BaseModel):
    """The model's answer: the plan (with each send node's copy) and the lead analysis."""

    model_config = ConfigDict(frozen=True)

    plan: Plan
    lead_analysis: str = Field(alias="leadAnalysis")


class DraftInvalid(Exception):
    """The model's answer is not a usable draft; `problems` name each field, as PlanInvalid does."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems[:5]))
        self.problems = problems


def _strip(value: Any, omit: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v, omit) for k, v in value.items() if k not in omit}
    if isinstance(value, list):
        return [_strip(v, omit) for v in value]
    return value


def prompt_input(planning: PlanningInput) -> str:
    """The input as the model reads it: JSON, the template without its HTML parts."""
    body = planning.model_dump(mode="json", by_alias=True)
    body["template"] = _strip(body["template"], _OMIT)
    return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False)


def build_prompt(planning: PlanningInput) -> str:
    """The prompt of a first attempt."""
    return f"{RULES}\n\n{INPUT_START}\n{prompt_input(planning)}\n{INPUT_END}\n"


def repair_prompt(planning: PlanningInput, answer: str, problems: list[tuple[str, str]]) -> str:
    """The one repair attempt: the same input, the refused answer and why it was refused."""
    listed = "\n".join(f"- {field}: {message}" for field, message in problems[:30])
    return (
        f"{build_prompt(planning)}\nYour previous answer was refused:\n{listed}\n\n"
        f"Previous answer:\n{answer[:20_000]}\n\nAnswer again with a corrected JSON object only.\n"
    )


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "const":
            out["enum"] = [value]
        elif key == "oneOf":  # a discriminated union: the "type" enums tell the branches apart
            out["anyOf"] = _inline(value, defs)
        elif key == "properties":
            out[key] = {name: _inline(v, defs) for name, v in value.items() if name not in _OMIT}
        elif key == "required":
            out[key] = [name for name in value if name not in _OMIT]
        elif key in _KEEP:
            out[key] = _inline(value, defs)
    if "enum" in out and "type" not in out and all(isinstance(v, str) for v in out["enum"]):
        out["type"] = "string"
    return out


def response_schema() -> dict[str, Any]:
    """The model-facing schema: {leadAnalysis, plan}, inlined, without `$defs` or discriminators."""
    source = Plan.model_json_schema(by_alias=True)
    plan = _inline({k: v for k, v in source.items() if k != "$defs"}, source.get("$defs", {}))
    return {
        "type": "object",
        "properties": {
            "leadAnalysis": {
                "type": "string",
                "maxLength": MAX_ANALYSIS,
                "description": "a short summary of the lead's intent for the sales rep, from the evidence only",
            },
            "plan": plan,
        },
        "required": ["leadAnalysis", "plan"],
    }


def parse_draft(text: str) -> Draft:
    """The model's answer as a draft, its plan through the same validator as hand-written plans."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DraftInvalid(
            [("answer", f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")]
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("plan"), dict):
        raise DraftInvalid([("plan", "the answer needs an object with a `plan` object")])
    analysis = body.get("leadAnalysis")
    if not isinstance(analysis, str):
        raise DraftInvalid([("leadAnalysis", "the answer needs a `leadAnalysis` string")])
    try:
        plan = parse_plan(body["plan"])
    except PlanInvalid as exc:
        raise DraftInvalid([(f"plan.{field}", message) for field, message in exc.problems]) from None
    return Draft(plan=plan, leadAnalysis=analysis.strip())
