"""The plan language: one contact's campaign as a graph of send, wait and stop nodes.

Types are checked by the pydantic models (published as `plan.schema.json`); `validate_plan`
then checks what types cannot: targets exist, every node is reachable, no cycle runs
without a delay, quiet hours and templates are well-formed. Each refusal names the field.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from oie.campaigns import templating
from oie.campaigns.contracts import SignalType
from oie.campaigns.timing import Duration, QuietHours, parse_clock, parse_duration, zone
from oie.errors import InputError

NODE_ID = r"^[A-Za-z0-9_-]{1,64}$"
EventType = Literal["delivered", "open", "click", "reply", "bounce", "unsubscribe", "spam_report"]
TimerType = Literal["no_open", "no_click", "timeout"]
EVENTS: tuple[str, ...] = ("delivered", "open", "click", "reply", "bounce", "unsubscribe", "spam_report")
TIMERS: tuple[str, ...] = ("no_open", "no_click", "timeout")
# What the contact does beyond email (contracts.IntentSignal): counted like events, never delayed.
SIGNALS: tuple[str, ...] = get_args(SignalType)
PageClass = Literal["pricing", "case_study", "product"]  # as oie.configuration.models.PageClass
LevelFilter = Literal["warm", "hot", "burning"]
OutcomeFilter = Literal["appointment_set", "closed_won", "closed_lost", "invalid"]
# A glob on the URL path: RFC 3986 path characters, `*` the only wildcard (matched without regex).
URL_PATTERN = r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,199}$"
# Which filter each signal takes (camelCase as written in plans); no other event takes one.
FILTERS: dict[str, str] = {"page": "page", "url_pattern": "urlPattern", "level": "level", "outcome": "outcome"}
FILTERS_OF: dict[str, tuple[str, ...]] = {
    "page_visit": ("page", "url_pattern"),
    "intent_level": ("level",),
    "outcome": ("outcome",),
}
VARIANT_ID = r"^[A-Za-z0-9_-]{1,32}$"
# Sample contact the templates must render with at validation time.
SAMPLE = dict.fromkeys(templating.PLACEHOLDERS, "x")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class QuietHoursSpec(_Model):
    start: str = Field(description="HH:MM local time sending stops", examples=["21:00"])
    end: str = Field(description="HH:MM local time sending resumes", examples=["07:30"])


class EmailTemplate(_Model):
    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)


class SmsTemplate(_Model):
    text: str = Field(min_length=1, max_length=1600)


class Transition(_Model):
    on: EventType | TimerType | SignalType
    to: str = Field(pattern=NODE_ID)
    within: str | None = Field(default=None, description="ISO 8601 duration: an event counts only this soon")
    after: str | None = Field(default=None, description="ISO 8601 duration after the send (no_open/no_click/timeout)")
    page: PageClass | None = Field(default=None, description="page_visit: the class the tenant's page rules give")
    url_pattern: str | None = Field(
        default=None,
        pattern=URL_PATTERN,
        description="page_visit: a glob on the URL path, `*` any run of characters (/pricing*, /blog/*/fintech)",
    )
    level: LevelFilter | None = Field(default=None, description="intent_level: reaches at least this level")
    outcome: OutcomeFilter | None = Field(default=None, description="outcome: the outcome sales recorded")

    def filters(self) -> tuple[str | None, ...]:
        return (self.page, self.url_pattern.lower() if self.url_pattern else None, self.level, self.outcome)


class Variant(_Model):
    id: str = Field(pattern=VARIANT_ID)
    weight: int = Field(default=1, ge=1, le=100, description="share of contacts, relative to the other variants")
    template: EmailTemplate | SmsTemplate


class Experiment(_Model):
    metric: Literal["reply", "click", "hot"] = Field(description="what makes a variant better")
    auto_winner: bool = Field(default=False, description="send the winner to everyone once it is significant")
    confidence: float = Field(default=0.95, ge=0.8, le=0.999)
    min_per_variant: int = Field(default=100, ge=10, description="sends each variant needs before a verdict")


class SendNode(_Model):
    id: str = Field(pattern=NODE_ID)
    type: Literal["send"]
    channel: Literal["email", "sms"] = "email"
    # Exactly one of `template` and `variants` (A/B/n, one per contact: oie.campaigns.variants).
    template: EmailTemplate | SmsTemplate | None = None
    variants: tuple[Variant, ...] | None = Field(default=None, min_length=2, max_length=10)
    experiment: Experiment | None = None
    transitions: tuple[Transition, ...] = ()


class WaitNode(_Model):
    id: str = Field(pattern=NODE_ID)
    type: Literal["wait"]
    duration: str
    next: str = Field(pattern=NODE_ID)
    transitions: tuple[Transition, ...] = ()


class StopNode(_Model):
    id: str = Field(pattern=NODE_ID)
    type: Literal["stop"]
    reason: str = ""


Node = Annotated[SendNode | WaitNode | StopNode, Field(discriminator="type")]


class Plan(_Model):
    version: Literal["1.0"] = "1.0"
    timezone: str = Field(default="UTC", description="IANA zone for quiet hours when a contact has none")
    quiet_hours: QuietHoursSpec | None = None
    start_node_id: str = Field(pattern=NODE_ID)
    # A reply stops the contact's campaign unless the current node routes replies elsewhere.
    stop_on_reply: bool = True
    nodes: tuple[Node, ...] = Field(min_length=1, max_length=200)

    def node(self, node_id: str) -> SendNode | WaitNode | StopNode:
        return next(n for n in self.nodes if n.id == node_id)

    def quiet(self) -> QuietHours | None:
        if self.quiet_hours is None:
            return None
        return QuietHours(parse_clock(self.quiet_hours.start), parse_clock(self.quiet_hours.end))

    def content_hash(self) -> str:
        """sha256 of the canonical JSON: the same plan always has the same version id."""
        data = _without_unset_additions(self.model_dump(mode="json", by_alias=True))
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# Fields added after plans were first stored: left out of the hash while unset, so a plan
# written before them keeps its version id.
_ADDITIONS = frozenset({"variants", "experiment", "page", "urlPattern", "level", "outcome"})


def _without_unset_additions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_unset_additions(v) for k, v in value.items() if not (k in _ADDITIONS and v is None)}
    if isinstance(value, list):
        return [_without_unset_additions(v) for v in value]
    return value


class PlanInvalid(InputError):
    """A plan refused, with every problem found (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        field, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(message + more, field=field)
        self.problems = problems


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of plans."""
    schema = Plan.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Campaign plan"
    return schema


def parse_plan(source: str | bytes | dict[str, Any]) -> Plan:
    """Parse and fully validate a plan; raises PlanInvalid naming each bad field."""
    try:
        plan = Plan.model_validate(source) if isinstance(source, dict) else Plan.model_validate_json(source)
    except ValidationError as exc:
        raise PlanInvalid(
            [(".".join(str(p) for p in e["loc"]) or "plan", e["msg"]) for e in exc.errors()[:20]]
        ) from None
    validate_plan(plan)
    return plan


def _check_duration(problems: list[tuple[str, str]], field: str, text: str | None) -> Duration | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        problems.append((field, str(exc)))
        return None


def _check_template(
    problems: list[tuple[str, str]], where: str, node: SendNode, template: EmailTemplate | SmsTemplate
) -> None:
    if not isinstance(template, EmailTemplate):
        if node.channel == "email":
            problems.append((f"{where}.template", f"node {node.id!r}: an email needs a subject and a text"))
        return
    parts = {"text": template.text, "subject": template.subject}
    if template.html is not None:
        parts["html"] = template.html
    for part, text in parts.items():
        try:
            templating.render(text, SAMPLE, escape=part == "html")
        except templating.TemplateError as exc:
            problems.append((f"{where}.template.{part}", f"node {node.id!r}: {exc}"))


def _check_send(problems: list[tuple[str, str]], where: str, node: SendNode) -> None:
    """One template or 2 to 10 variants (each template checked the same way); an experiment needs variants."""
    if node.channel == "sms":
        problems.append((f"{where}.channel", f"node {node.id!r}: sms sending is not available yet"))
    if (node.template is None) == (node.variants is None):
        field = "variants" if node.template is not None else "template"
        problems.append((f"{where}.{field}", f"node {node.id!r}: a send node has either `template` or `variants`"))
    if node.template is not None:
        _check_template(problems, where, node, node.template)
    ids: set[str] = set()
    for v_index, variant in enumerate(node.variants or ()):
        if variant.id in ids:
            problems.append((f"{where}.variants[{v_index}].id", f"node {node.id!r}: variant {variant.id!r} twice"))
        ids.add(variant.id)
        _check_template(problems, f"{where}.variants[{v_index}]", node, variant.template)
    if node.experiment is not None and node.variants is None:
        problems.append((f"{where}.experiment", f"node {node.id!r}: an experiment needs `variants`"))


def _check_filters(problems: list[tuple[str, str]], field: str, node_id: str, transition: Transition) -> None:
    """page / urlPattern only on page_visit (exactly one), level on intent_level, outcome on outcome."""
    on, takes = transition.on, FILTERS_OF.get(transition.on, ())
    for name, alias in FILTERS.items():
        if getattr(transition, name) is not None and name not in takes:
            owner = next(event for event, names in FILTERS_OF.items() if name in names)
            problems.append((f"{field}.{alias}", f"node {node_id!r}: `{alias}` filters {owner}, not {on}"))
    if on == "page_visit" and (transition.page is None) == (transition.url_pattern is None):
        problems.append((f"{field}.page", f"node {node_id!r}: page_visit needs exactly one of `page` and `urlPattern`"))
    for name in ("level", "outcome"):
        if takes == (name,) and getattr(transition, name) is None:
            problems.append((f"{field}.{name}", f"node {node_id!r}: {on} needs `{name}`"))


def _check_transitions(problems: list[tuple[str, str]], where: str, node: SendNode | WaitNode) -> None:
    seen: set[tuple[str | None, ...]] = set()
    for t_index, transition in enumerate(node.transitions):
        field = f"{where}.transitions[{t_index}]"
        # Two transitions on one event only with different filters; the first that matches is taken.
        key = (transition.on, *transition.filters())
        if key in seen:
            same = " with the same filter" if any(transition.filters()) else ""
            problems.append((f"{field}.on", f"node {node.id!r}: a second transition on {transition.on!r}{same}"))
        seen.add(key)
        _check_filters(problems, field, node.id, transition)
        _check_duration(problems, f"{field}.within", transition.within)
        _check_duration(problems, f"{field}.after", transition.after)
        if transition.on in TIMERS:
            if isinstance(node, WaitNode):
                problems.append((f"{field}.on", f"node {node.id!r}: {transition.on} belongs on a send node"))
            if transition.after is None:
                problems.append((f"{field}.after", f"node {node.id!r}: {transition.on} needs `after` (e.g. P3D)"))
            if transition.within is not None:
                problems.append((f"{field}.within", f"node {node.id!r}: {transition.on} takes `after`, not `within`"))
        elif transition.after is not None:
            problems.append((f"{field}.after", f"node {node.id!r}: to delay after {transition.on}, go to a wait node"))


def validate_plan(plan: Plan) -> None:
    """Checks beyond types; raises PlanInvalid listing every problem."""
    problems: list[tuple[str, str]] = []
    try:
        zone(plan.timezone)
    except ValueError as exc:
        problems.append(("timezone", str(exc)))
    if plan.quiet_hours is not None:
        for part in ("start", "end"):
            try:
                parse_clock(getattr(plan.quiet_hours, part))
            except ValueError as exc:
                problems.append((f"quietHours.{part}", str(exc)))
        if not problems and plan.quiet_hours.start == plan.quiet_hours.end:
            problems.append(("quietHours", "quiet hours start and end at the same time"))

    index: dict[str, int] = {}
    for n, node in enumerate(plan.nodes):
        if node.id in index:
            problems.append((f"nodes[{n}].id", f"node id {node.id!r} is used twice"))
        index.setdefault(node.id, n)
    if plan.start_node_id not in index:
        problems.append(("startNodeId", f"start node {plan.start_node_id!r} does not exist"))

    # Edges, and which of them can be taken with no time passing (for the cycle check).
    edges: dict[str, list[str]] = defaultdict(list)
    instant: dict[str, list[str]] = defaultdict(list)
    for n, node in enumerate(plan.nodes):
        where = f"nodes[{n}]"
        if isinstance(node, SendNode):
            _check_send(problems, where, node)
        if isinstance(node, WaitNode):
            duration = _check_duration(problems, f"{where}.duration", node.duration)
            edges[node.id].append(node.next)
            if duration is not None and duration.is_zero:
                instant[node.id].append(node.next)
            if node.next not in index:
                problems.append((f"{where}.next", f"node {node.id!r}: next node {node.next!r} does not exist"))
        if isinstance(node, (SendNode, WaitNode)):
            _check_transitions(problems, where, node)
            for t_index, transition in enumerate(node.transitions):
                edges[node.id].append(transition.to)
                if transition.to not in index:
                    problems.append(
                        (
                            f"{where}.transitions[{t_index}].to",
                            f"node {node.id!r}: transition on {transition.on} goes to {transition.to!r}, "
                            "which does not exist",
                        )
                    )
                elif (
                    transition.on in TIMERS
                    and transition.after
                    and parse_duration_or_none(transition.after) == Duration()
                ):
                    instant[node.id].append(transition.to)

    if plan.start_node_id in index:
        reached = _reach(plan.start_node_id, edges)
        for n, node in enumerate(plan.nodes):
            if node.id not in reached:
                problems.append((f"nodes[{n}]", f"node {node.id!r} cannot be reached from {plan.start_node_id!r}"))
    cycle = _instant_cycle(instant)
    if cycle:
        problems.append((f"nodes[{index.get(cycle[0], 0)}]", "these nodes loop with no delay: " + " -> ".join(cycle)))
    if problems:
        raise PlanInvalid(problems)


def parse_duration_or_none(text: str) -> Duration | None:
    try:
        return parse_duration(text)
    except ValueError:
        return None


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for target in edges.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _instant_cycle(instant: dict[str, list[str]]) -> list[str]:
    """A cycle in the zero-delay edges, as the node ids along it, or []."""
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for target in instant.get(node, []):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target] if target in path else [node, target]
            if target not in state:
                found = visit(target, [*path, target])
                if found:
                    return found
        state[node] = 2
        return []

    for node in list(instant):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return []
