"""What the pixel sends (see pixel/README.md): strict, bounded models, one per event type."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from oie.identity.tokens import VISITOR_ID
from oie.json_input import MAX_SAFE_INT, Bounds, problem
from oie.links.models import TRACKING_ID
from oie.tenants.models import TENANT_ID
from oie.track.bounds import within

MAX_BODY_BYTES = 64 * 1024
MAX_EVENTS = 50
# Event times are milliseconds; anything past year 9999 is no time at all.
MAX_TS_MS = 253_402_300_799_999
# Any value anywhere in an event (unknown fields included, before they are dropped).
EVENT_BOUNDS = Bounds(depth=8, string=2048, items=100, key=100)
# What a custom event may carry besides its name: stored as given, so tighter.
CUSTOM_BOUNDS = Bounds(depth=4, string=1000, items=50, key=100)
MAX_CUSTOM_PROPS_BYTES = 4096

Text = Annotated[str, Field(max_length=1000)]
Short = Annotated[str, Field(max_length=200)]


@lru_cache(maxsize=1024)
def split_url(url: str) -> SplitResult:
    """`urlsplit` of a URL whose port is readable; ValueError otherwise.

    Cached: the validator and the row both need the parts, and a batch's events share a page.
    """
    parts = urlsplit(url)
    parts.port  # noqa: B018 - evaluated for its ValueError
    return parts


@lru_cache(maxsize=1024)
def page_of(url: str) -> tuple[str, str]:
    """(host, path) of a URL `split_url` accepts, as the events table keeps them (cached: `hostname`
    parses the netloc again on every read)."""
    parts = split_url(url)
    return parts.hostname or "", parts.path or "/"


def _parseable(value: str) -> str:
    # urlsplit refuses some hosts outright ("http://a]b/": an unclosed IPv6 literal) and
    # .port raises on a bad port: refused here, per event, instead of failing the batch later.
    try:
        split_url(value)
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    return value


Url = Annotated[str, Field(max_length=2048), AfterValidator(_parseable)]


class _Props(BaseModel):
    # Fields the pixel may add later are ignored rather than refused.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class PageviewProps(_Props):
    title: Annotated[str, Field(max_length=300)] = ""
    referrer: Url = ""
    spa: bool = False


class ScrollProps(_Props):
    depth: Literal[25, 50, 75, 90, 100]


class ActiveTimeProps(_Props):
    ms: int = Field(ge=0, le=24 * 3600 * 1000)


class ClickProps(_Props):
    tag: Annotated[str, Field(max_length=20)] = ""
    el_id: Short = ""
    classes: Annotated[str, Field(max_length=500)] = ""
    text: Short = ""
    href: Url = ""
    cta: bool = False


class FormStartProps(_Props):
    form_id: Short = ""
    form_name: Short = ""


class FormSubmitProps(FormStartProps):
    fields: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)
    email: Annotated[str, Field(max_length=320)] | None = None


class VideoProps(_Props):
    action: Literal["play", "pause", "progress", "complete"]
    pct: Literal[25, 50, 75] | None = None
    src: Url = ""
    duration: float | None = Field(default=None, ge=0, le=MAX_SAFE_INT)


class VisibilityProps(_Props):
    state: Literal["hidden", "visible"]


class ReturnVisitProps(_Props):
    visit: int = Field(ge=1, le=1_000_000)
    last_seen_ms: int | None = Field(default=None, ge=0, le=MAX_SAFE_INT)


class CharsProps(_Props):
    chars: int = Field(ge=0, le=10_000_000)


class RageClickProps(_Props):
    count: int = Field(ge=3, le=1000)
    x: int = Field(default=0, ge=-MAX_SAFE_INT, le=MAX_SAFE_INT)
    y: int = Field(default=0, ge=-MAX_SAFE_INT, le=MAX_SAFE_INT)
    tag: Annotated[str, Field(max_length=20)] = ""


class ReadingSpeedProps(_Props):
    wpm: float = Field(ge=0, le=100_000)
    words: int = Field(ge=0, le=10_000_000)
    seconds: float = Field(ge=0, le=86_400)


class CustomProps(BaseModel):
    """A tenant's own event: a name and undeclared extras, kept as sent within CUSTOM_BOUNDS."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    name: Annotated[str, Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _bounded(self) -> CustomProps:
        extras = self.model_extra or {}
        if found := problem(extras, CUSTOM_BOUNDS):
            raise ValueError(f"{found.path or 'props'}: {found.message}")
        if len(json.dumps(extras, separators=(",", ":"))) > MAX_CUSTOM_PROPS_BYTES:
            raise ValueError(f"custom props are at most {MAX_CUSTOM_PROPS_BYTES} bytes as JSON")
        return self


PROPS: dict[str, type[BaseModel]] = {
    "pageview": PageviewProps,
    "scroll": ScrollProps,
    "active_time": ActiveTimeProps,
    "click": ClickProps,
    "form_start": FormStartProps,
    "form_submit": FormSubmitProps,
    "video": VideoProps,
    "visibility": VisibilityProps,
    "return_visit": ReturnVisitProps,
    "selection": CharsProps,
    "copy": CharsProps,
    "rage_click": RageClickProps,
    "reading_speed": ReadingSpeedProps,
    "custom": CustomProps,
}
EventType = Literal[
    "pageview", "scroll", "active_time", "click", "form_start", "form_submit", "video", "visibility",
    "return_visit", "selection", "copy", "rage_click", "reading_speed", "custom",
]  # fmt: skip


class EventIn(BaseModel):
    """One event as the pixel sends it; `props` is checked against the type's model."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    id: str = Field(pattern=r"^[0-9A-Za-z_-]{8,64}$")
    type: EventType
    ts: int = Field(ge=0, le=MAX_TS_MS)
    url: Url = Field(pattern=r"^https?://")
    props: dict[str, Any] = Field(default_factory=dict)


class Context(BaseModel):
    """Device facts the pixel sends once per batch."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    vw: int | None = Field(default=None, ge=0, le=100_000)
    vh: int | None = Field(default=None, ge=0, le=100_000)
    sw: int | None = Field(default=None, ge=0, le=100_000)
    sh: int | None = Field(default=None, ge=0, le=100_000)
    dpr: float | None = Field(default=None, ge=0, le=20)
    lang: Annotated[str, Field(max_length=35, pattern=r"^[A-Za-z0-9_-]*$")] = ""
    tzo: int | None = Field(default=None, ge=-900, le=900)
    visit: int | None = Field(default=None, ge=0, le=1_000_000)


class BatchIn(BaseModel):
    """The envelope of one POST; events are validated one by one so one bad event loses no other."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    v: Literal[1]
    tenant: str = Field(pattern=TENANT_ID.pattern)
    vid: str = Field(pattern=VISITOR_ID.pattern)
    i: str | None = Field(default=None, pattern=TRACKING_ID.pattern)
    # Printable ASCII: anything else cannot be a token /go signed (and would not compare).
    tok: str | None = Field(default=None, max_length=200, pattern=r"^[\x21-\x7e]*$")
    sid: str = Field(pattern=r"^[0-9A-Za-z_-]{6,64}$")
    ctx: Context = Field(default_factory=Context)
    events: list[Any] = Field(min_length=1, max_length=MAX_EVENTS)


class Rejected(BaseModel):
    """A refused event: where it was in the batch, which field, why."""

    index: int
    field: str
    message: str


class InvalidEvent(ValueError):
    """One event refused: `field` is its path inside the event (`props.depth`), "" for the whole."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field or 'event'}: {message}")
        self.field = field
        self.message = message


def _first(exc: ValidationError, prefix: str) -> InvalidEvent:
    error: ErrorDetails = exc.errors()[0]
    path = prefix
    for part in error["loc"]:
        path = f"{path}[{part}]" if isinstance(part, int) else (f"{path}.{part}" if path else str(part))
    return InvalidEvent(path, error["msg"])


def parse_event(raw: Any, *, clean: bool = False) -> tuple[EventIn, BaseModel]:
    """One decoded event and its typed props; InvalidEvent naming the field otherwise.

    `clean`: the body it came from is `surely_clean`, so the bounds need no text check.
    """
    if not isinstance(raw, dict):
        raise InvalidEvent("", "an event is a JSON object")
    if not (clean and within(raw, EVENT_BOUNDS)) and (found := problem(raw, EVENT_BOUNDS)):
        raise InvalidEvent(found.path, found.message)
    try:
        event = EventIn.model_validate(raw)
    except ValidationError as exc:
        raise _first(exc, "") from None
    if event.type == "custom":
        extras = {k: v for k, v in event.props.items() if k != "name"}
        if not (clean and within(extras, CUSTOM_BOUNDS)) and (found := problem(extras, CUSTOM_BOUNDS, "props")):
            raise InvalidEvent(found.path, found.message)
    try:
        props = PROPS[event.type].model_validate(event.props)
    except ValidationError as exc:
        raise _first(exc, "props") from None
    return event, props
