"""What the pixel sends (see pixel/README.md): strict, bounded models, one per event type."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oie.identity.tokens import VISITOR_ID
from oie.links.models import TRACKING_ID
from oie.tenants.models import TENANT_ID

MAX_BODY_BYTES = 64 * 1024
MAX_EVENTS = 50

Text = Annotated[str, Field(max_length=1000)]
Short = Annotated[str, Field(max_length=200)]
Url = Annotated[str, Field(max_length=2048)]


class _Props(BaseModel):
    # Fields the pixel may add later are ignored rather than refused.
    model_config = ConfigDict(extra="ignore")


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
    duration: float | None = Field(default=None, ge=0)


class VisibilityProps(_Props):
    state: Literal["hidden", "visible"]


class ReturnVisitProps(_Props):
    visit: int = Field(ge=1, le=1_000_000)
    last_seen_ms: int | None = Field(default=None, ge=0)


class CharsProps(_Props):
    chars: int = Field(ge=0, le=10_000_000)


class RageClickProps(_Props):
    count: int = Field(ge=3, le=1000)
    x: int = 0
    y: int = 0
    tag: Annotated[str, Field(max_length=20)] = ""


class ReadingSpeedProps(_Props):
    wpm: float = Field(ge=0, le=100_000)
    words: int = Field(ge=0, le=10_000_000)
    seconds: float = Field(ge=0, le=86_400)


class CustomProps(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: Annotated[str, Field(min_length=1, max_length=100)]

    @field_validator("*", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) > 1000:
            raise ValueError("strings in custom events are at most 1000 characters")
        return value


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

    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=r"^[0-9A-Za-z_-]{8,64}$")
    type: EventType
    ts: int = Field(ge=0)
    url: Url = Field(pattern=r"^https?://")
    props: dict[str, Any] = Field(default_factory=dict)


class Context(BaseModel):
    """Device facts the pixel sends once per batch."""

    model_config = ConfigDict(extra="ignore")

    vw: int | None = Field(default=None, ge=0, le=100_000)
    vh: int | None = Field(default=None, ge=0, le=100_000)
    sw: int | None = Field(default=None, ge=0, le=100_000)
    sh: int | None = Field(default=None, ge=0, le=100_000)
    dpr: float | None = Field(default=None, ge=0, le=20)
    lang: Annotated[str, Field(max_length=35)] = ""
    tzo: int | None = Field(default=None, ge=-900, le=900)
    visit: int | None = Field(default=None, ge=0, le=1_000_000)


class BatchIn(BaseModel):
    """The envelope of one POST; events are validated one by one so one bad event loses no other."""

    model_config = ConfigDict(extra="ignore")

    v: Literal[1]
    tenant: str = Field(pattern=TENANT_ID.pattern)
    vid: str = Field(pattern=VISITOR_ID.pattern)
    i: str | None = Field(default=None, pattern=TRACKING_ID.pattern)
    tok: str | None = Field(default=None, max_length=200)
    sid: str = Field(pattern=r"^[0-9A-Za-z_-]{6,64}$")
    ctx: Context = Field(default_factory=Context)
    events: list[Any] = Field(min_length=1, max_length=MAX_EVENTS)


class Rejected(BaseModel):
    """A refused event: where it was in the batch, which field, why."""

    index: int
    field: str
    message: str
