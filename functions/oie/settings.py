"""All configuration, read once from `OIE_*` environment variables and validated."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, HttpUrl, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values a secret may hold in local development only; production refuses them.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "local-dev-only"})


def default_data_dir() -> Path:
    """`.oie-data` at the root of a source checkout; else the user's data folder (`~/.local/share/oie`).

    Found from where the package is, never from the current directory, so `oie` behaves the
    same wherever it is run.
    """
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "sql").is_dir():
        return root / ".oie-data"
    try:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    except RuntimeError:  # no home directory (a bare container): a stable folder anyway
        base = Path("/tmp")
    return base / "oie"


def _in_data_dir(name: str) -> Callable[[dict[str, Any]], Path]:
    def default(fields: dict[str, Any]) -> Path:
        return Path(fields["data_dir"]) / name

    return default


class Settings(BaseSettings):
    """Deployment settings. Fields typed `SecretStr` are mounted from Secret Manager."""

    model_config = SettingsConfigDict(env_prefix="OIE_", extra="ignore", frozen=True)

    env: Literal["local", "test", "prod"] = "local"
    gcp_project: str = "oie-local"
    region: str = "europe-west1"
    firestore_database: str = "(default)"
    # In local development, the emulator a process talks to when FIRESTORE_EMULATOR_HOST is
    # unset; never used outside env=local. `oie` commands read the running stack's own
    # ports from its state file instead (oie.cli.context).
    local_firestore_emulator: str = "127.0.0.1:8681"
    # Local data (warehouse, outbox, the emulator's saved data, the running stack's state);
    # the paths below default to inside it.
    data_dir: Path = Field(default_factory=default_data_dir)

    warehouse: Literal["bigquery", "duckdb"] = "duckdb"
    bq_dataset: str = "oie"
    duckdb_path: Path = Field(default_factory=_in_data_dir("warehouse.duckdb"))

    tasks: Literal["cloud", "local"] = "local"
    tasks_location: str = "europe-west1"
    tasks_invoker_service_account: str = ""
    functions_base_url: HttpUrl = HttpUrl("http://127.0.0.1:8080")

    mailer: Literal["sendgrid", "outbox"] = "outbox"
    outbox_dir: Path = Field(default_factory=_in_data_dir("outbox"))

    # Public base of `/go` links written into emails (the tenant's tracking host).
    go_base_url: HttpUrl = HttpUrl("http://127.0.0.1:8080")
    # Where `/go` sends a recipient whose link is unknown and whose host names no tenant.
    default_landing_url: HttpUrl = HttpUrl("http://127.0.0.1:8080/demo/")
    link_cache_ttl_seconds: int = Field(default=60, ge=0, le=3600)
    link_cache_size: int = Field(default=50_000, ge=0)
    profile_cache_ttl_seconds: float = Field(default=5, ge=0, le=300)
    # Proxies in front of the functions that append to X-Forwarded-For (Cloud Run: 1;
    # behind the external load balancer: 2). The client's address is that far from the right.
    trusted_proxy_hops: int = Field(default=1, ge=0, le=5)

    # How long streamed events settle before a job reads them: longer than a /track request.
    job_settle_seconds: float = Field(default=60, ge=0, le=3600)
    # CSV of `cidr,name,domain` rows for IP -> company enrichment on /track (optional).
    ip_company_file: Path | None = None

    # Webhook requests older than this are refused (replays); SendGrid stamps each delivery.
    webhook_max_age_seconds: int = Field(default=600, ge=30, le=86_400)

    sendgrid_api_key: SecretStr = SecretStr("local-dev-only")
    # SendGrid's API base: https://api.eu.sendgrid.com for an EU-regional account; tests point
    # it at a local server. Anything but https:// is refused unless it is this machine.
    sendgrid_host: str = "https://api.sendgrid.com"
    # Retired: the one `?token=` every tenant's Inbound Parse URL once carried. Each tenant now
    # has its own basic-auth credential; the old token is refused unless this is switched on
    # while tenants move (and never for a tenant that has its own credential).
    inbound_parse_token: SecretStr = SecretStr("local-dev-only")
    inbound_parse_accept_legacy_token: bool = False
    # Unsubscribe links of mail sent before the opaque tokens (they carry the address): honoured
    # until switched off, because an unsubscribe link must keep working after the send.
    unsubscribe_accept_legacy_links: bool = True
    token_signing_key: SecretStr = SecretStr("local-dev-only")

    # The language-model planner (oie.planner): Vertex AI Gemini through google-genai, as the
    # function's service account. A base URL points the same SDK at a local server instead
    # (oie.devstack.gemini_server); empty means Vertex AI itself. Prices are USD per 1M tokens,
    # for the cost estimate recorded with every plan.
    planner_model: str = "gemini-2.5-flash"
    planner_region: str = "europe-west1"
    planner_base_url: str = ""
    planner_max_output_tokens: int = Field(default=4096, ge=256, le=65_536)
    planner_price_input_per_1m: float = Field(default=0.30, ge=0)
    planner_price_output_per_1m: float = Field(default=2.50, ge=0)
    # A worker that crashed holding a concurrency slot frees it after this long.
    planner_lease_seconds: int = Field(default=120, ge=10, le=3600)

    # CRM sync (oie.crm). The APIs' bases: tests and `make run` point them at the local CRM
    # servers (oie.devstack.crm_servers); anything but https:// is refused unless it is this machine.
    crm_hubspot_host: str = "https://api.hubapi.com"
    # Empty: Salesforce's own hosts (the tenant's My Domain). Set: every Salesforce call goes there.
    crm_salesforce_base_url: str = ""
    # One sync's total time for its CRM calls, back-off on rate limits included.
    crm_sync_deadline_seconds: float = Field(default=240, ge=1, le=1500)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.expanduser().absolute()

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env == "prod":
            for name, field in type(self).model_fields.items():
                value = getattr(self, name)
                if field.annotation is SecretStr and value.get_secret_value() in PLACEHOLDER_SECRETS:
                    raise ValueError(f"OIE_{name.upper()} still holds a placeholder in production")
        return self

    @model_validator(mode="after")
    def _planner_talks_to_vertex_in_production(self) -> Settings:
        # A base URL is for the local Gemini server; production authenticates to Vertex AI itself.
        if self.env == "prod" and self.planner_base_url and not self.planner_base_url.startswith("https://"):
            raise ValueError("OIE_PLANNER_BASE_URL must be empty (Vertex AI) or https:// in production")
        return self

    @model_validator(mode="after")
    def _tasks_need_an_invoker(self) -> Settings:
        # The functions are private: a task without the invoker's OIDC token is refused (403)
        # and retried until Cloud Tasks drops it.
        if self.env == "prod" and self.tasks == "cloud" and not self.tasks_invoker_service_account:
            raise ValueError("OIE_TASKS_INVOKER_SERVICE_ACCOUNT is needed for Cloud Tasks in production")
        return self


def secret_setting_names() -> list[str]:
    """Environment variable names of every secret the settings need."""
    return sorted(
        f"OIE_{name.upper()}" for name, field in Settings.model_fields.items() if field.annotation is SecretStr
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (never at import time)."""
    return Settings()
