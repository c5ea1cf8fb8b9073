"""`oie sender|limits|alerts|scoring|keys|settings …`: every setting, as the API and pages change it.

Commands act as an admin named after the person at the terminal (`cli:<user>` in the change log).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import BaseModel, ValidationError

from oie.cli.output import OieGroup, emit, json_option, wants_json
from oie.errors import InputError
from oie.outcomes.auth import Actor

M = TypeVar("M", bound=BaseModel)
tenant_option = click.option("--tenant", "tenant_id", required=True, help="The tenant id.")


def _actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(key_id="cli", label=f"cli:{user}", scopes=frozenset({"admin"}), role="admin")


def _valid(model: type[M], data: Any) -> M:
    from oie.outcomes.service import input_error

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc) from None


def _app() -> Any:
    from oie.cli.context import app

    return app()


def _pairs(option: str, pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"{option} takes NAME=VALUE, not {pair!r}")
        found[name.strip()] = value.strip()
    return found


# -- senders --


@click.group(cls=OieGroup)
def sender() -> None:
    """Senders: the mailboxes a tenant sends from, their limits and warm-up pools."""


@sender.command("add")
@tenant_option
@click.option("--id", "sender_id", required=True, help="Short name of the sender (letters, digits, - and _).")
@click.option("--from", "from_email", required=True, help="From address.")
@click.option("--name", "from_name", default="", help="From name.")
@click.option("--daily", "daily_limit", type=int, default=300, show_default=True, help="Emails a day.")
@click.option("--hourly", "hourly_limit", type=int, default=60, show_default=True, help="Emails an hour.")
@click.option("--ip-pool", default=None, help="A dedicated IP pool that warms up.")
@click.option("--warmup-start", "warmup_started_on", default=None, help="Day the pool started warming up (YYYY-MM-DD).")
@click.option(
    "--assume-verified",
    is_flag=True,
    help="Local stack only (no SendGrid to ask): let the outbox send from this sender.",
)
@json_option
def sender_add(tenant_id: str, assume_verified: bool, **fields: Any) -> None:
    """Add a sender (or change one: the same --id replaces it)."""
    from oie.configuration.models import SenderIn

    wanted = _valid(SenderIn, {k: v for k, v in fields.items() if v is not None})
    saved = _app().sender_settings.add_sender(tenant_id, wanted, _actor(), assume_verified=assume_verified)
    emit(saved, summary=f"sender {saved['sender_id']} saved ({saved['verification']})")


@sender.command("list")
@tenant_option
@json_option
def sender_list(tenant_id: str) -> None:
    """The tenant's senders, their verification state (from SendGrid) and limits."""
    rows = _app().sender_settings.senders_of(tenant_id, _actor())
    columns = ["sender_id", "from_email", "from_name", "verification", "daily_limit", "hourly_limit", "ip_pool"]
    emit(rows, columns=columns, summary=None if rows else "no senders: add one with `oie sender add`")


@sender.command("remove")
@tenant_option
@click.option("--id", "sender_id", required=True)
@json_option
def sender_remove(tenant_id: str, sender_id: str) -> None:
    """Remove a sender."""
    _app().sender_settings.remove_sender(tenant_id, sender_id, _actor())
    emit({"removed": sender_id}, summary=f"sender {sender_id} removed")


# -- limits --


@click.group(cls=OieGroup)
def limits() -> None:
    """Sending limits: per tenant and per recipient domain (per hour)."""


def _limits_record(config: Any) -> dict[str, Any]:
    return config.model_dump(include={"tenant_hourly", "domain_hourly"})  # type: ignore[no-any-return]


@limits.command("show")
@tenant_option
@json_option
def limits_show(tenant_id: str) -> None:
    """The tenant's sending limits."""
    emit(_limits_record(_app().settings_service.limits(tenant_id, _actor())))


@limits.command("set")
@tenant_option
@click.option("--tenant-hourly", type=int, default=None, help="Emails an hour for the whole tenant.")
@click.option(
    "--domain", "domains", multiple=True, metavar="DOMAIN=N", help="Emails an hour to one domain (`*`: others)."
)
@click.option("--remove-domain", "removed", multiple=True, metavar="DOMAIN", help="Drop a domain's own limit.")
@json_option
def limits_set(tenant_id: str, tenant_hourly: int | None, domains: tuple[str, ...], removed: tuple[str, ...]) -> None:
    """Change limits; what is not named stays."""
    from oie.configuration.models import LimitsIn

    if tenant_hourly is None and not domains and not removed:
        raise click.UsageError("nothing to change: give --tenant-hourly, --domain or --remove-domain")
    service = _app().settings_service
    current = service.limits(tenant_id, _actor())
    per_domain = {k: v for k, v in current.domain_hourly.items() if k not in removed}
    for domain, raw in _pairs("--domain", domains).items():
        if not raw.isdigit():
            raise InputError(f"the limit for {domain!r} must be a whole number", field="domain_hourly")
        per_domain[domain] = int(raw)
    wanted = _valid(LimitsIn, {"tenant_hourly": tenant_hourly or current.tenant_hourly, "domain_hourly": per_domain})
    emit(_limits_record(service.set_limits(tenant_id, wanted, _actor())), summary=f"limits of {tenant_id} saved")


# -- alert channels --


@click.group(cls=OieGroup)
def alerts() -> None:
    """Alert channels: Slack incoming webhooks and signed HTTPS webhooks."""


@alerts.command("add")
@tenant_option
@click.option("--kind", type=click.Choice(["slack", "generic"]), required=True, help="generic: a signed JSON webhook.")
@click.option("--url", required=True, help="The webhook URL (kept secret: shown by its host only).")
@click.option("--min-level", type=click.Choice(["warm", "hot", "burning"]), default="hot", show_default=True)
@json_option
def alerts_add(tenant_id: str, kind: str, url: str, min_level: str) -> None:
    """Add an alert channel."""
    from oie.configuration.models import AlertChannelIn

    wanted = _valid(AlertChannelIn, {"kind": kind, "url": url, "min_level": min_level})
    saved = _app().settings_service.add_alert_channel(tenant_id, wanted, _actor())
    emit(saved, summary=f"channel {saved['channel_id']} added; try it with `oie alerts test`")


@alerts.command("list")
@tenant_option
@json_option
def alerts_list(tenant_id: str) -> None:
    """The tenant's alert channels."""
    rows = _app().settings_service.alert_channels(tenant_id, _actor())
    emit(rows, summary=None if rows else "no alert channels: add one with `oie alerts add`")


@alerts.command("remove")
@tenant_option
@click.option("--channel", "channel_id", required=True, help="The channel id from `oie alerts list`.")
@json_option
def alerts_remove(tenant_id: str, channel_id: str) -> None:
    """Remove an alert channel."""
    _app().settings_service.remove_alert_channel(tenant_id, channel_id, _actor())
    emit({"removed": channel_id}, summary=f"channel {channel_id} removed")


@alerts.command("test")
@tenant_option
@click.option("--channel", "channel_id", required=True, help="The channel id from `oie alerts list`.")
@json_option
def alerts_test(tenant_id: str, channel_id: str) -> None:
    """Send one signed test alert to a channel."""
    from oie.errors import BackendUnavailable

    result = _app().settings_service.test_alert_channel(tenant_id, channel_id, _actor())
    if not result["delivered"]:
        raise BackendUnavailable(f"the test alert was not delivered: {result['error']}")
    emit(result, summary=f"test alert delivered to {result['host']}")


# -- scoring --


@click.group(cls=OieGroup)
def scoring() -> None:
    """Scoring weights and page rules."""


def _scoring_in(tenant_id: str, sets: tuple[str, ...], file: Path | None) -> Any:
    from oie.configuration.models import ScoringIn

    current = _app().scoring_settings.show(tenant_id, _actor())
    body: dict[str, Any] = {"weights": current["weights"]}
    if file is not None:
        try:
            loaded = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {file}: {exc}", field="file") from None
        if not isinstance(loaded, dict):
            raise InputError('the file holds an object: {"weights": {…}, "page_rules": […]}', field="file")
        body = {
            "weights": {**body["weights"], **loaded.get("weights", {})},
            **{k: v for k, v in loaded.items() if k != "weights"},
        }
    for name, raw in _pairs("--set", sets).items():
        body["weights"][name] = raw
    return _valid(ScoringIn, body)


_scoring_options = [
    click.option("--set", "sets", multiple=True, metavar="WEIGHT=VALUE", help="One weight or threshold. Repeatable."),
    click.option(
        "--file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="JSON weights and page_rules."
    ),
]


def _with_scoring_options(command: Any) -> Any:
    for option in reversed(_scoring_options):
        command = option(command)
    return command


@scoring.command("show")
@tenant_option
@json_option
def scoring_show(tenant_id: str) -> None:
    """The weights and page rules in use (the defaults when the tenant has none of its own)."""
    shown = _app().scoring_settings.show(tenant_id, _actor())
    if wants_json():
        emit(shown)
        return
    emit(shown["weights"], summary="defaults" if shown["weights_are_default"] else None)
    emit(shown["page_rules"], summary="page rules: defaults" if shown["page_rules_are_default"] else "page rules")


def _preview_rows(preview: dict[str, Any]) -> str:
    return f"{preview['would_change']} of {preview['leads']} scored leads would change level"


@scoring.command("preview")
@tenant_option
@_with_scoring_options
@json_option
def scoring_preview(tenant_id: str, sets: tuple[str, ...], file: Path | None) -> None:
    """How many leads would change level under new weights (nothing is saved)."""
    preview = _app().scoring_settings.preview(tenant_id, _scoring_in(tenant_id, sets, file), _actor())
    emit(
        preview["changes"] if not wants_json() else preview,
        summary=_preview_rows(preview),
    )


@scoring.command("set")
@tenant_option
@_with_scoring_options
@json_option
def scoring_set(tenant_id: str, sets: tuple[str, ...], file: Path | None) -> None:
    """Save new weights (and page rules); the next score run uses them."""
    if not sets and file is None:
        raise click.UsageError("nothing to change: give --set WEIGHT=VALUE or --file")
    saved = _app().scoring_settings.set(tenant_id, _scoring_in(tenant_id, sets, file), _actor())
    emit(
        saved["weights"] if not wants_json() else saved,
        summary="saved; " + _preview_rows(saved["preview"]),
    )


# -- API keys --


@click.group(cls=OieGroup)
def keys() -> None:
    """API keys: admin keys change settings; member keys (SDRs) see leads, record outcomes, pause campaigns."""


@keys.command("create")
@tenant_option
@click.option("--label", required=True, help="Who uses the key (shown in the change log and on outcomes).")
@click.option("--role", type=click.Choice(["admin", "member"]), required=True)
@json_option
def keys_create(tenant_id: str, label: str, role: str) -> None:
    """Create a key; it is shown only now."""
    from oie.configuration.models import KeyIn

    created = _app().key_settings.create_api_key(tenant_id, _valid(KeyIn, {"label": label, "role": role}), _actor())
    emit(created, summary="the key is shown only now: keep it somewhere safe")


@keys.command("list")
@tenant_option
@json_option
def keys_list(tenant_id: str) -> None:
    """The tenant's keys (never their secrets)."""
    rows = _app().key_settings.api_keys(tenant_id, _actor())
    emit(rows, columns=["key_id", "label", "role", "scopes", "created_at", "revoked"])


@keys.command("revoke")
@tenant_option
@click.option("--key", "key_id", required=True, help="The key id (the 12 characters after oie_).")
@json_option
def keys_revoke(tenant_id: str, key_id: str) -> None:
    """Revoke a key: its API calls and its admin sessions stop at once."""
    _app().key_settings.revoke_api_key(tenant_id, key_id.removeprefix("oie_").split(".", 1)[0], _actor())
    emit({"revoked": key_id}, summary=f"key {key_id} revoked")


# -- the tenant's own settings and the change log --


@click.group(cls=OieGroup)
def settings() -> None:
    """The tenant's settings (webhook key, reply domain, origins, privacy mode) and their change log."""


@settings.command("show")
@tenant_option
@json_option
def settings_show(tenant_id: str) -> None:
    """The SendGrid webhook key (its fingerprint), reply domain, allowed origins and privacy mode."""
    emit(_app().settings_service.tenant_settings(tenant_id, _actor()))


@settings.command("set")
@tenant_option
@click.option(
    "--webhook-key", "sendgrid_webhook_public_key", default=None, help="SendGrid Event Webhook verification key."
)
@click.option("--reply-domain", default=None)
@click.option("--origin", "allowed_origins", multiple=True, help="The allowed origins (all of them). Repeatable.")
@click.option("--privacy", "ip_mode", type=click.Choice(["truncate", "hash", "full", "none"]), default=None)
@json_option
def settings_set(tenant_id: str, allowed_origins: tuple[str, ...], **fields: Any) -> None:
    """Change the tenant's settings; what is not named stays."""
    from oie.configuration.models import TenantSettingsIn

    given = {k: v for k, v in fields.items() if v is not None}
    if allowed_origins:
        given["allowed_origins"] = allowed_origins
    if not given:
        raise click.UsageError("nothing to change: give --webhook-key, --reply-domain, --origin or --privacy")
    shown = _app().settings_service.update_tenant_settings(tenant_id, _valid(TenantSettingsIn, given), _actor())
    emit(shown, summary=f"settings of {tenant_id} saved")


@settings.command("log")
@tenant_option
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@json_option
def settings_log(tenant_id: str, limit: int) -> None:
    """Who changed which setting when, newest first (secrets show only "changed")."""
    rows = [c.model_dump(mode="json") for c in _app().settings_service.changes(tenant_id, _actor(), limit)]
    emit(rows, columns=["at", "key_name", "setting", "old", "new"], summary=None if rows else "no changes yet")


GROUPS = (sender, limits, alerts, scoring, keys, settings)
