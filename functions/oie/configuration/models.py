"""One pydantic model per setting, as the CLI, the JSON API and the pages send them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from oie.campaigns.limits import DEFAULT_WARMUP
from oie.tenants.models import AlertChannel, IpMode, Level, is_domain, normalise_host

_STRICT = ConfigDict(frozen=True, extra="forbid")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}$")


class SenderIn(BaseModel):
    """A mailbox to send from, with its limits and (optionally) a dedicated IP pool warming up."""

    model_config = _STRICT

    sender_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    from_email: str = Field(max_length=254)
    from_name: str = Field(default="", max_length=200)
    daily_limit: int = Field(default=300, ge=1, le=100_000)
    hourly_limit: int = Field(default=60, ge=1, le=10_000)
    ip_pool: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # The day the pool started warming up (today when a new pool is named without one).
    warmup_started_on: date | None = None
    warmup_daily_caps: tuple[int, ...] = Field(default=DEFAULT_WARMUP, min_length=1, max_length=60)

    @field_validator("from_email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("warmup_daily_caps")
    @classmethod
    def _ramp(cls, caps: tuple[int, ...]) -> tuple[int, ...]:
        if any(c < 1 for c in caps) or list(caps) != sorted(caps):
            raise ValueError("warm-up caps are positive and never fall from one day to the next")
        return caps

    @model_validator(mode="after")
    def _hour_fits_day(self) -> SenderIn:
        if self.hourly_limit > self.daily_limit:
            raise ValueError("hourly_limit cannot exceed daily_limit")
        return self


class LimitsIn(BaseModel):
    """Tenant-wide and per-recipient-domain hourly sending limits (`*`: any other domain)."""

    model_config = _STRICT

    tenant_hourly: int = Field(ge=1, le=1_000_000)
    domain_hourly: dict[str, int] = Field(max_length=200)

    @field_validator("domain_hourly")
    @classmethod
    def _domains(cls, limits: dict[str, int]) -> dict[str, int]:
        cleaned: dict[str, int] = {}
        for domain, limit in limits.items():
            name = domain if domain == "*" else normalise_host(domain)
            if name != "*" and not is_domain(name):
                raise ValueError(f"{domain!r} is not a domain name (or `*`)")
            if not 1 <= limit <= 1_000_000:
                raise ValueError(f"the limit for {domain!r} must be 1 to 1000000 an hour")
            cleaned[name] = limit
        return cleaned


class AlertChannelIn(AlertChannel):
    """A Slack incoming webhook or a signed HTTPS webhook (`generic`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("url")
    @classmethod
    def _bounded_url(cls, url: HttpUrl) -> HttpUrl:
        # Well below the URL type's 2083, so the normalised form (a `/` added) still reads back.
        if len(str(url)) > 2000:
            raise ValueError("at most 2000 characters")
        return url


def channel_id(channel: AlertChannel) -> str:
    """A short, stable name for a channel that does not show its URL (a Slack URL is a secret)."""
    return hashlib.sha256(str(channel.url).rstrip("/").lower().encode()).hexdigest()[:10]


def webhook_key_fingerprint(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""


class TenantSettingsIn(BaseModel):
    """The tenant's own settings; a field left out stays as it is."""

    model_config = _STRICT

    sendgrid_webhook_public_key: str | None = Field(default=None, max_length=1000)
    reply_domain: str | None = Field(default=None, max_length=253)
    allowed_origins: tuple[str, ...] | None = Field(default=None, max_length=50)
    ip_mode: IpMode | None = None  # the privacy mode of stored IP addresses

    @field_validator("sendgrid_webhook_public_key")
    @classmethod
    def _ecdsa(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return value
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        text = "".join(value.split())
        try:
            key = load_der_public_key(base64.b64decode(text, validate=True))
        except (ValueError, binascii.Error, TypeError):
            raise ValueError("not a public key: paste the base64 key SendGrid shows for the Event Webhook") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("the Event Webhook verification key must be an ECDSA P-256 public key")
        return text

    @field_validator("reply_domain")
    @classmethod
    def _reply_domain(cls, value: str | None) -> str | None:
        if not value:
            return value
        host = normalise_host(value)
        if not is_domain(host) or "." not in host:
            raise ValueError(f"{value!r} is not a domain name")
        return host


class KeyIn(BaseModel):
    """A new API key: who uses it and what it may do."""

    model_config = _STRICT

    label: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "member"]


class ScoringWeights(BaseModel):
    """The intent score's weights and level thresholds (`scoring_config`, one row per tenant)."""

    model_config = _STRICT

    recency_24h: float = Field(ge=0, le=100)
    recency_3d: float = Field(ge=0, le=100)
    recency_7d: float = Field(ge=0, le=100)
    recency_14d: float = Field(ge=0, le=100)
    recency_30d: float = Field(ge=0, le=100)
    recency_older: float = Field(ge=0, le=100)
    per_session: float = Field(ge=0, le=100)
    frequency_cap: float = Field(ge=0, le=100)
    per_pageview: float = Field(ge=0, le=100)
    per_active_minute: float = Field(ge=0, le=100)
    per_scroll_milestone: float = Field(ge=0, le=100)
    engagement_cap: float = Field(ge=0, le=100)
    per_pricing_view: float = Field(ge=0, le=100)
    per_case_study_view: float = Field(ge=0, le=100)
    per_product_view: float = Field(ge=0, le=100)
    high_intent_cap: float = Field(ge=0, le=100)
    per_form_submit: float = Field(ge=0, le=100)
    per_video_complete: float = Field(ge=0, le=100)
    conversion_cap: float = Field(ge=0, le=100)
    score_cap: float = Field(gt=0, le=100)
    burning_min: float = Field(gt=0, le=100)
    hot_min: float = Field(gt=0, le=100)
    warm_min: float = Field(gt=0, le=100)
    id_only_max_level: Level = "warm"

    @model_validator(mode="after")
    def _thresholds_rise(self) -> ScoringWeights:
        if not self.warm_min < self.hot_min < self.burning_min <= self.score_cap:
            raise ValueError("thresholds must rise: warm_min < hot_min < burning_min <= score_cap")
        bands = (self.recency_24h, self.recency_3d, self.recency_7d, self.recency_14d, self.recency_30d)
        if list(bands) != sorted(bands, reverse=True) or self.recency_older > self.recency_30d:
            raise ValueError("recency points never rise as a visit gets older")
        return self


PageClass = Literal["pricing", "case_study", "product"]


class PageRule(BaseModel):
    """A page whose path matches `path_pattern` (a regular expression) counts as `page_class`."""

    model_config = _STRICT

    page_class: PageClass
    path_pattern: str = Field(min_length=1, max_length=200)

    @field_validator("path_pattern")
    @classmethod
    def _regex(cls, pattern: str) -> str:
        # Both warehouses run it (RE2 in BigQuery): refuse what RE2 lacks, not only what Python cannot read.
        if re.search(r"\(\?[=!<]|\\[1-9]|\(\?P=", pattern):
            raise ValueError("look-arounds and back-references are not supported by the warehouse")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return pattern


class ScoringIn(BaseModel):
    """What `scoring set` and its preview take: new weights, and optionally the page rules."""

    model_config = _STRICT

    weights: ScoringWeights
    page_rules: tuple[PageRule, ...] | None = Field(default=None, max_length=100)


class ChannelRef(BaseModel):
    """Which alert channel (its `channel_id` from the listing)."""

    model_config = _STRICT

    channel_id: str = Field(pattern=r"^[0-9a-f]{10}$")
