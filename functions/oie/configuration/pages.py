"""The console's Settings pages (admins only): one handler per section, each calling the settings services.

Every form is a POST with the session's CSRF token (checked in oie.outcomes.pages). A refused
form is shown again with what was typed and the field named; a saved one shows the change-log
entries it wrote (who, old, new). Scoring is saved in two steps: preview, then confirm.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Response
from pydantic import ValidationError

from oie.configuration import models
from oie.configuration.changelog import Change
from oie.configuration.service import require_admin
from oie.errors import BackendUnavailable, Forbidden, InputError, NotFound, OieError
from oie.tenants.models import IpMode, Level

if TYPE_CHECKING:
    from oie.outcomes.auth import Actor
    from oie.outcomes.pages import Page

TABS = (
    ("senders", "Senders"),
    ("limits", "Limits"),
    ("alerts", "Alerts"),
    ("tenant", "Webhook, domain, privacy"),
    ("scoring", "Scoring"),
    ("planner", "Planner"),
    ("crm", "CRM"),
    ("sequencers", "Sequencers"),
    ("keys", "API keys"),
    ("log", "Change log"),
)
LEVELS: tuple[Level, ...] = ("warm", "hot", "burning")
IP_MODES: tuple[IpMode, ...] = ("truncate", "hash", "full", "none")
MAX_LINES = 200
MEMBER_REFUSED = (
    "Only an admin key may see or change settings; this key's role is member. Ask an admin of this tenant "
    "to make the change. You can still see leads, record outcomes and pause campaigns."
)


def index(page: Page, args: dict[str, str]) -> Response:
    return page.redirect("/settings/senders")


def section(page: Page, args: dict[str, str]) -> Response:
    """One settings page; a member (an SDR) gets a 403 page, an unknown section a 404."""
    view = VIEWS.get(args["section"])
    if view is None:
        raise NotFound("no such settings page")
    try:
        require_admin(_actor(page))
    except Forbidden:
        return page.render("message.html", status=403, title="Settings are for admins", message=MEMBER_REFUSED)
    return view(page)


def _actor(page: Page) -> Actor:
    assert page.actor is not None  # handle() redirects to the login before any view
    return page.actor


def _typed(page: Page, *names: str) -> dict[str, str]:
    return {name: page.request.form.get(name, "")[:5000] for name in names}


def _error(exc: OieError | ValidationError) -> str:
    from oie.outcomes.service import input_error

    if isinstance(exc, ValidationError):
        exc = input_error(exc)
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


class Saving:
    """Runs one save and collects the change-log entries it wrote (shown as "what changed")."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.log = page.app.settings_log
        self.before = {c.change_id for c in self.log.recent(page.tenant, 20)}

    def changed(self) -> list[Change]:
        return [c for c in self.log.recent(self.page.tenant, 20) if c.change_id not in self.before]


def _show(page: Page, template: str, tab: str, result: dict[str, Any], **context: Any) -> Response:
    status = int(result.get("status", 400 if result.get("error") else 200))
    return page.render(template, status=status, tabs=TABS, tab=tab, result=result, fmt=_fmt, **context)


def _fmt(value: Any) -> str:
    """A logged value as a person reads it."""
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _run(page: Page, save: Callable[[], Any], ok: str) -> dict[str, Any]:
    """Save; the result names what changed, or the refused field."""
    saving = Saving(page)
    try:
        value = save()
    except BackendUnavailable:
        raise  # the 503 page, not a refusal of what was typed
    except (OieError, ValidationError) as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        return {"error": _error(exc), "status": status}
    changed = saving.changed()
    return {"ok": ok if changed else "Nothing changed.", "changes": changed, "value": value}


# -- senders --

SENDER_FIELDS = (
    "sender_id",
    "from_email",
    "from_name",
    "daily_limit",
    "hourly_limit",
    "ip_pool",
    "warmup_started_on",
    "warmup_daily_caps",
)


def _senders(page: Page) -> Response:
    service, actor, result = page.app.sender_settings, _actor(page), {}
    typed = dict.fromkeys(SENDER_FIELDS, "") | {"daily_limit": "300", "hourly_limit": "60"}
    if page.request.method == "POST":
        if page.request.form.get("action") == "remove":
            sender_id = page.request.form.get("sender_id", "")[:100]
            result = _run(page, lambda: service.remove_sender(page.tenant, sender_id, actor), f"Removed {sender_id}.")
        else:
            typed = _typed(page, *SENDER_FIELDS)
            assume = page.request.form.get("assume_verified") == "on"

            def add() -> Any:
                fields: dict[str, Any] = {k: v.strip() for k, v in typed.items() if v.strip()}
                if "warmup_daily_caps" in fields:
                    fields["warmup_daily_caps"] = [p.strip() for p in fields["warmup_daily_caps"].split(",")]
                sender = models.SenderIn.model_validate(fields)
                return service.add_sender(page.tenant, sender, actor, assume_verified=assume)

            result = _run(page, add, f"Saved sender {typed['sender_id']}.")
            if not result.get("error"):
                typed = dict.fromkeys(SENDER_FIELDS, "") | {"daily_limit": "300", "hourly_limit": "60"}
    rows = service.senders_of(page.tenant, actor)
    local = service.verification is None
    return _show(page, "settings_senders.html", "senders", result, senders=rows, typed=typed, local=local)


# -- limits --


def _limits(page: Page) -> Response:
    service, actor, result = page.app.settings_service, _actor(page), {}
    current = service.limits(page.tenant, actor)
    typed = {
        "tenant_hourly": str(current.tenant_hourly),
        "domain_hourly": "\n".join(f"{d} {n}" for d, n in sorted(current.domain_hourly.items())),
    }
    if page.request.method == "POST":
        typed = _typed(page, "tenant_hourly", "domain_hourly")

        def save() -> Any:
            domains = _domain_lines(typed["domain_hourly"])
            wanted = models.LimitsIn.model_validate({"tenant_hourly": typed["tenant_hourly"], "domain_hourly": domains})
            return service.set_limits(page.tenant, wanted, actor)

        result = _run(page, save, "Limits saved.")
    return _show(page, "settings_limits.html", "limits", result, typed=typed)


def _domain_lines(text: str) -> dict[str, Any]:
    """`gmail.com 100` (or `gmail.com = 100`) one a line; `*` for any other domain."""
    found: dict[str, Any] = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        raise InputError(f"at most {MAX_LINES} domains", field="domain_hourly")
    for number, line in enumerate(lines, 1):
        parts = re.split(r"[\s=:,]+", line)
        if len(parts) != 2 or not re.fullmatch(r"[0-9]{1,9}", parts[1]):
            raise InputError(
                f"line {number} ({line[:60]!r}): write a domain and a number, e.g. gmail.com 100", field="domain_hourly"
            )
        found[parts[0]] = int(parts[1])
    return found


# -- alert channels --


def _alerts(page: Page) -> Response:
    service, actor, result = page.app.settings_service, _actor(page), {}
    typed = {"kind": "slack", "url": "", "min_level": "hot"}
    tested: dict[str, Any] = {}
    if page.request.method == "POST":
        action, channel = page.request.form.get("action", ""), page.request.form.get("channel_id", "")[:40]
        if action == "remove":
            result = _run(page, lambda: service.remove_alert_channel(page.tenant, channel, actor), "Channel removed.")
        elif action == "test":
            try:
                ref = models.ChannelRef(channel_id=channel)
                tested = service.test_alert_channel(page.tenant, ref.channel_id, actor)
                result = {"status": 200}  # the page answered; whether the channel did is in `tested`
            except BackendUnavailable:
                raise
            except (OieError, ValidationError) as exc:
                result = {"error": _error(exc)}
        else:
            typed = _typed(page, "kind", "url", "min_level")

            def add() -> Any:
                return service.add_alert_channel(page.tenant, models.AlertChannelIn.model_validate(typed), actor)

            result = _run(page, add, "Channel added.")
            if not result.get("error"):
                typed = {"kind": "slack", "url": "", "min_level": "hot"}
    channels = service.alert_channels(page.tenant, actor)
    return _show(
        page, "settings_alerts.html", "alerts", result, channels=channels, typed=typed, tested=tested, levels=LEVELS
    )


# -- the tenant's own settings --


def _tenant(page: Page) -> Response:
    service, actor, result = page.app.settings_service, _actor(page), {}
    current = service.tenant_settings(page.tenant, actor)
    typed = {
        "sendgrid_webhook_public_key": "",
        "reply_domain": current["reply_domain"] or "",
        "allowed_origins": "\n".join(current["allowed_origins"]),
        "ip_mode": current["ip_mode"],
    }
    if page.request.method == "POST":
        typed = _typed(page, *typed)

        def save() -> Any:
            origins = [line.strip() for line in typed["allowed_origins"].splitlines() if line.strip()]
            fields: dict[str, Any] = {"allowed_origins": origins, "ip_mode": typed["ip_mode"]}
            for name in ("sendgrid_webhook_public_key", "reply_domain"):
                if typed[name].strip():  # left empty: kept as it is
                    fields[name] = typed[name].strip()
            return service.update_tenant_settings(page.tenant, models.TenantSettingsIn.model_validate(fields), actor)

        result = _run(page, save, "Settings saved.")
        if not result.get("error"):
            current = result["value"]
            typed["sendgrid_webhook_public_key"] = ""  # never echoed back once stored
    return _show(page, "settings_tenant.html", "tenant", result, current=current, typed=typed, ip_modes=IP_MODES)


# -- scoring: preview, then confirm --

WEIGHTS = tuple(name for name in models.ScoringWeights.model_fields if name != "id_only_max_level")


def _scoring(page: Page) -> Response:
    service, actor, result = page.app.scoring_settings, _actor(page), {}
    shown = service.show(page.tenant, actor)
    typed = {name: str(value) for name, value in shown["weights"].items()}
    typed["page_rules"] = "\n".join(f"{r['page_class']} {r['path_pattern']}" for r in shown["page_rules"])
    preview: dict[str, Any] | None = None
    token = ""
    if page.request.method == "POST":
        typed = _typed(page, *WEIGHTS, "id_only_max_level", "page_rules")
        try:
            wanted = _scoring_in(typed)
        except (OieError, ValidationError) as exc:
            wanted, result = None, {"error": _error(exc)}
        if wanted is not None:
            token = _digest(wanted)
            confirmed = page.request.form.get("step") == "save" and page.request.form.get("previewed") == token
            if confirmed:
                result = _run(page, lambda: service.set(page.tenant, wanted, actor), "Scoring saved.")
                if not result.get("error"):
                    shown, token = service.show(page.tenant, actor), ""
            else:
                preview = service.preview(page.tenant, wanted, actor)
    return _show(
        page,
        "settings_scoring.html",
        "scoring",
        result,
        shown=shown,
        typed=typed,
        weights=WEIGHTS,
        levels=LEVELS,
        preview=preview,
        previewed=token,
    )


def _scoring_in(typed: dict[str, str]) -> models.ScoringIn:
    weights = {name: typed[name].strip() for name in (*WEIGHTS, "id_only_max_level")}
    rules = []
    lines = [line.strip() for line in typed["page_rules"].splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        raise InputError(f"at most {MAX_LINES} page rules", field="page_rules")
    for number, line in enumerate(lines, 1):
        page_class, _, pattern = line.partition(" ")
        if not pattern.strip():
            raise InputError(
                f"line {number}: write a page class and a pattern, e.g. pricing ^/pricing", field="page_rules"
            )
        rules.append({"page_class": page_class, "path_pattern": pattern.strip()})
    return models.ScoringIn.model_validate({"weights": weights, "page_rules": rules or None})


def _digest(wanted: models.ScoringIn) -> str:
    """Names exactly the values previewed, so "save" saves what the preview counted."""
    return hashlib.sha256(wanted.model_dump_json().encode()).hexdigest()[:24]


# -- API keys --


def _keys(page: Page) -> Response:
    service, actor, result = page.app.key_settings, _actor(page), {}
    typed = {"label": "", "role": "member"}
    created: dict[str, Any] | None = None
    if page.request.method == "POST":
        if page.request.form.get("action") == "revoke":
            key_id = page.request.form.get("key_id", "")[:40]
            result = _run(page, lambda: service.revoke_api_key(page.tenant, key_id, actor), f"Revoked key {key_id}.")
            if key_id == actor.key_id and not result.get("error"):
                return page.redirect("/login")  # this session's own key: it has ended
        else:
            typed = _typed(page, "label", "role")

            def create() -> Any:
                return service.create_api_key(page.tenant, models.KeyIn.model_validate(typed), actor)

            result = _run(page, create, "Key created.")
            if not result.get("error"):
                created, typed = result["value"], {"label": "", "role": "member"}
    keys = service.api_keys(page.tenant, actor)
    return _show(page, "settings_keys.html", "keys", result, keys=keys, typed=typed, created=created, me=actor.key_id)


# -- the change log --


def _log(page: Page) -> Response:
    changes = page.app.settings_service.changes(page.tenant, _actor(page), 100)
    return _show(page, "settings_log.html", "log", {}, changes=changes)


def _planner(page: Page) -> Response:
    from oie.planner.settings_page import planner_settings  # the planner's own page; it imports this module

    return planner_settings(page)


def _crm(page: Page) -> Response:
    from oie.configuration.crm_pages import crm_settings  # it imports this module

    return crm_settings(page)


def _sequencers(page: Page) -> Response:
    from oie.configuration.crm_pages import sequencer_settings

    return sequencer_settings(page)


VIEWS: dict[str, Callable[[Page], Response]] = {
    "senders": _senders,
    "limits": _limits,
    "alerts": _alerts,
    "tenant": _tenant,
    "scoring": _scoring,
    "planner": _planner,
    "crm": _crm,
    "sequencers": _sequencers,
    "keys": _keys,
    "log": _log,
}
