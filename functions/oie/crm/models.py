"""CRM sync's models: a tenant's connection, what is written to a contact, and each lead's sync state."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oie.tenants.models import Level

Provider = Literal["hubspot", "salesforce"]
# Who owns a field: the engine writes it to the CRM, or reads it from the CRM. Never both,
# so the two systems never overwrite each other's value.
Direction = Literal["to_crm", "from_crm"]
# A Salesforce My Domain as simple-salesforce takes it ("acme.my", "acme--dev.sandbox.my").
_SF_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}(--[a-z0-9]+)?(\.sandbox)?\.my$")
_SECRET_REF = re.compile(r"^(sm://projects/[^/]+/secrets/[^/]+/versions/[^/]+|local:[A-Za-z0-9_=-]+)$")

# The fields the engine writes (mapping.FIELDS names them per CRM), with their one direction.
DEFAULT_DIRECTIONS: dict[str, Direction] = {
    "intent_score": "to_crm",
    "intent_level": "to_crm",
    "last_visit": "to_crm",
    "top_pages": "to_crm",
    "intent_reason": "to_crm",
    "tracking_id": "to_crm",
}

_OUTCOME_TYPE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
# The stages every CRM has out of the box: HubSpot's default pipeline ids, Salesforce's StageName picklist.
DEFAULT_DEAL_STAGES: dict[Provider, dict[str, str]] = {
    "hubspot": {"closedwon": "closed_won", "closedlost": "closed_lost"},
    "salesforce": {"Closed Won": "closed_won", "Closed Lost": "closed_lost"},
}


class CrmConfig(BaseModel):
    """One tenant's CRM connection as stored (`tenants/{t}/crm/config`): never the token itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Provider
    # Where the credentials are: `sm://…` in production, `local:…` in development.
    secret_ref: str = Field(default="", max_length=300)
    # Create a contact for a lead the CRM does not know (else the lead is skipped and says why).
    allow_create: bool = False
    # Salesforce only: the org's My Domain, e.g. "acme.my" (client credentials need it).
    salesforce_domain: str = ""
    # Levels whose rise puts a note (HubSpot) or task (Salesforce) on the contact.
    note_levels: tuple[Level, ...] = ("hot", "burning")
    directions: dict[str, Direction] = Field(default_factory=lambda: dict(DEFAULT_DIRECTIONS))
    # Read outcomes back from the deal stages (the one field the engine reads, never writes: oie.crm.readback).
    read_outcomes: bool = False
    # Deal stage (HubSpot stage id, Salesforce StageName) -> outcome type; empty: the provider's defaults.
    deal_stages: dict[str, str] = Field(default_factory=dict, max_length=50)

    @field_validator("secret_ref")
    @classmethod
    def _ref(cls, value: str) -> str:
        if value and not _SECRET_REF.match(value):
            raise ValueError("must be sm://projects/P/secrets/S/versions/V (or local:… in development)")
        return value

    @field_validator("directions")
    @classmethod
    def _known_fields(cls, value: dict[str, Direction]) -> dict[str, Direction]:
        unknown = sorted(set(value) - set(DEFAULT_DIRECTIONS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}; known: {', '.join(DEFAULT_DIRECTIONS)}")
        return {**DEFAULT_DIRECTIONS, **value}

    @field_validator("deal_stages")
    @classmethod
    def _stages(cls, value: dict[str, str]) -> dict[str, str]:
        for stage, outcome_type in value.items():
            if not 1 <= len(stage) <= 100 or not _OUTCOME_TYPE.match(outcome_type):
                raise ValueError(f"stage {stage[:40]!r}: write a stage and an outcome type like closed_won")
        return value

    def stage_outcomes(self) -> dict[str, str]:
        """Deal stage -> outcome type: the tenant's mapping, or the provider's closed won/lost stages."""
        return dict(self.deal_stages) or dict(DEFAULT_DEAL_STAGES[self.provider])

    @model_validator(mode="after")
    def _salesforce_needs_domain(self) -> CrmConfig:
        if self.provider == "salesforce" and not _SF_DOMAIN.match(self.salesforce_domain):
            raise ValueError("salesforce_domain must be the org's My Domain, like acme.my")
        return self

    def written_fields(self) -> tuple[str, ...]:
        """The fields the engine owns and writes to the CRM."""
        return tuple(name for name, way in self.directions.items() if way == "to_crm")


class ConnectRequest(BaseModel):
    """What the console or the CLI sends to connect a CRM: the config and the token, once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config: CrmConfig
    # HubSpot: the private app's access token. Salesforce: "consumer_key:consumer_secret".
    token: str = Field(min_length=8, max_length=4000, repr=False)


class SalesforceCredentials(BaseModel):
    """A connected app's consumer key and secret (the client credentials flow)."""

    model_config = ConfigDict(frozen=True)

    consumer_key: str = Field(min_length=1)
    consumer_secret: str = Field(min_length=1, repr=False)

    @classmethod
    def parse(cls, token: str) -> SalesforceCredentials:
        """`key:secret` as the connect command takes it."""
        key, sep, secret = token.partition(":")
        if not sep:
            raise ValueError("Salesforce credentials are consumer_key:consumer_secret")
        return cls(consumer_key=key, consumer_secret=secret)


class ContactWrite(BaseModel):
    """The engine's fields for one lead's contact, by canonical field name (mapping.FIELDS)."""

    model_config = ConfigDict(frozen=True)

    lead_id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    values: dict[str, str | float | None]


class NoteWrite(BaseModel):
    """A timeline note/task for one rise to a note level; `key` (from the change id) makes it once-only."""

    model_config = ConfigDict(frozen=True)

    key: str
    lead_id: str
    contact_id: str
    title: str
    body: str
    at: datetime


class Deal(BaseModel):
    """A deal (HubSpot) or opportunity (Salesforce) of a contact the engine synced: only what readback needs."""

    model_config = ConfigDict(frozen=True)

    deal_id: str
    contact_id: str
    stage: str
    # When it closed (close date) and when the CRM last changed it; either may be unknown.
    closed_at: datetime | None = None
    modified_at: datetime | None = None


class LeadSyncState(BaseModel):
    """What the console shows on a lead page about its CRM contact."""

    model_config = ConfigDict(frozen=True)

    crm_contact_id: str | None = None
    synced_to_crm: bool = False
    last_synced_at: datetime | None = None
    last_error: str = ""
    # The engine made this contact (allow_create), so erasure deletes it instead of emptying fields.
    created_by_engine: bool = False


class CrmStatus(BaseModel):
    """A tenant's connection as the console and `oie crm status` show it (no secret)."""

    model_config = ConfigDict(frozen=True)

    connected: bool
    provider: Provider | None = None
    allow_create: bool = False
    salesforce_domain: str = ""
    schema_ready: bool = False
    last_sync_at: datetime | None = None
    last_error: str = ""
    read_outcomes: bool = False
    # The stage -> outcome type mapping in force (the tenant's, or the provider's defaults).
    deal_stages: dict[str, str] = Field(default_factory=dict)
    last_readback_at: datetime | None = None
    last_readback_recorded: int = 0
    last_readback_error: str = ""
