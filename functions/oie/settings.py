"""All configuration, read once from `OIE_*` environment variables and validated."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, HttpUrl, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values a secret may hold in local development only; production refuses them.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "local-dev-only"})


class Settings(BaseSettings):
    """Deployment settings. Fields typed `SecretStr` are mounted from Secret Manager."""

    model_config = SettingsConfigDict(env_prefix="OIE_", extra="ignore", frozen=True)

    env: Literal["local", "test", "prod"] = "local"
    gcp_project: str = "oie-local"
    region: str = "europe-west1"
    firestore_database: str = "(default)"
    # In local development, where the CLI finds the emulator `make run` started (unless
    # FIRESTORE_EMULATOR_HOST says otherwise); never used outside env=local.
    local_firestore_emulator: str = "127.0.0.1:8681"

    warehouse: Literal["bigquery", "duckdb"] = "duckdb"
    bq_dataset: str = "oie"
    duckdb_path: Path = Path(".oie-data/warehouse.duckdb")

    tasks: Literal["cloud", "local"] = "local"
    tasks_location: str = "europe-west1"
    tasks_invoker_service_account: str = ""
    functions_base_url: HttpUrl = HttpUrl("http://127.0.0.1:8080")

    mailer: Literal["sendgrid", "outbox"] = "outbox"
    outbox_dir: Path = Path(".oie-data/outbox")

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
    # SendGrid Inbound Parse cannot sign its posts: its URL carries this token instead.
    inbound_parse_token: SecretStr = SecretStr("local-dev-only")
    token_signing_key: SecretStr = SecretStr("local-dev-only")

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env == "prod":
            for name, field in type(self).model_fields.items():
                value = getattr(self, name)
                if field.annotation is SecretStr and value.get_secret_value() in PLACEHOLDER_SECRETS:
                    raise ValueError(f"OIE_{name.upper()} still holds a placeholder in production")
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
