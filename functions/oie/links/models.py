"""Leads, campaigns and the tracking links that tie a click to a person."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

TRACKING_ID = re.compile(r"^[0-9A-Za-z]{8,16}$")


class LeadRecord(BaseModel):
    """One person from an import, after normalisation and de-duplication."""

    model_config = ConfigDict(frozen=True)

    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    title: str = ""
    # Every other CSV column, kept as a lead attribute.
    attributes: dict[str, str] = Field(default_factory=dict)
    # 1-based CSV line numbers this lead was read from (several when merged).
    lines: tuple[int, ...] = ()


class RowError(BaseModel):
    """A CSV row that was skipped, with where and why."""

    model_config = ConfigDict(frozen=True)

    line: int
    reason: str
    field: str = "email"


class Campaign(BaseModel):
    """A named outbound campaign of one tenant."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    campaign_id: str
    name: str
    landing_url: HttpUrl
    created_at: datetime


class Link(BaseModel):
    """`links/{tracking_id}`: which tenant, lead and campaign a tracking id stands for."""

    model_config = ConfigDict(frozen=True)

    tracking_id: str = Field(pattern=TRACKING_ID.pattern)
    tenant_id: str
    campaign_id: str
    lead_id: str
    landing_url: HttpUrl
    created_at: datetime

    def same_owner(self, other: Link) -> bool:
        """Whether two links stand for the same (tenant, campaign, lead)."""
        return (self.tenant_id, self.campaign_id, self.lead_id) == (
            other.tenant_id,
            other.campaign_id,
            other.lead_id,
        )
