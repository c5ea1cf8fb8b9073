"""Settings → CRM and Settings → Sequencers (admins only, registered in oie.configuration.pages).

CRM: connect HubSpot (a private app token) or Salesforce (a connected app's consumer key and
secret, and the org's My Domain), its options (create unknown contacts, read outcomes from
deal stages), its status, "sync now" and disconnect. Sequencers: create or replace the
Smartlead and Instantly webhook secrets (shown once) with the URL to paste.

Tokens and secrets arrive in password inputs of a POST, are handed to the services and
never rendered back, logged or put in a URL; the change log records only that they changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response

from oie.configuration.changelog import change
from oie.configuration.pages import _actor, _error, _run, _show, _typed
from oie.crm.models import CrmConfig, CrmStatus
from oie.errors import BackendUnavailable, InputError, OieError
from oie.webhooks.sequencers.auth import SECRET_HEADER, new_secret, webhook_url
from oie.webhooks.sequencers.models import SEQUENCERS, Sequencer

if TYPE_CHECKING:
    from oie.outcomes.pages import Page

CONNECT_FIELDS = ("provider", "salesforce_domain")
MAX_STAGES = 50


def stage_lines(text: str) -> dict[str, str]:
    """`closedwon = closed_won`, one a line: the deal stage, then the outcome type (after the last `=`)."""
    stages: dict[str, str] = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_STAGES:
        raise InputError(f"at most {MAX_STAGES} stages", field="deal_stages")
    for number, line in enumerate(lines, 1):
        stage, sep, outcome_type = line.rpartition("=")
        if not sep or not stage.strip() or not outcome_type.strip():
            raise InputError(
                f"line {number}: write a stage, =, an outcome type (closedwon = closed_won)", field="deal_stages"
            )
        stages[stage.strip()] = outcome_type.strip()
    return stages


def _options_typed(status: CrmStatus) -> dict[str, Any]:
    return {
        "allow_create": status.allow_create,
        "read_outcomes": status.read_outcomes,
        "deal_stages": "\n".join(f"{stage} = {kind}" for stage, kind in status.deal_stages.items()),
    }


def crm_settings(page: Page) -> Response:
    """GET shows the connection; POST connects, changes its options, syncs now or disconnects."""
    connections, actor, form = page.app.crm_connections, _actor(page), page.request.form
    status: CrmStatus = connections.status(page.tenant)
    typed: dict[str, Any] = {"provider": "hubspot", "salesforce_domain": "", "allow_create": False}
    options = _options_typed(status)
    result: dict[str, Any] = {}
    if page.request.method == "POST":
        action, now = form.get("action", ""), page.app.clock.now()
        log = page.app.settings_log

        def logged(setting: str, old: Any, new: Any, secret: bool = False) -> None:
            if old != new or secret:
                log.add(change(page.tenant, actor, f"crm.{setting}", old, new, now, secret=secret))

        if action == "connect":
            typed = {**_typed(page, *CONNECT_FIELDS), "allow_create": form.get("allow_create") == "on"}

            def connect() -> CrmStatus:
                config = CrmConfig.model_validate(
                    {
                        "provider": typed["provider"],
                        "allow_create": typed["allow_create"],
                        "salesforce_domain": typed["salesforce_domain"].strip().lower(),
                    }
                )
                if config.provider == "salesforce":
                    key, secret = form.get("consumer_key", "").strip(), form.get("consumer_secret", "").strip()
                    if not key or not secret:
                        raise InputError(
                            "the connected app's consumer key and consumer secret are both needed", field="token"
                        )
                    token = f"{key}:{secret}"
                else:
                    token = form.get("token", "")
                done: CrmStatus = connections.connect(page.tenant, config, token[:4000])
                logged("provider", status.provider, done.provider)
                logged("token", None, None, secret=True)
                logged("allow_create", status.allow_create, done.allow_create)
                return done

            result = _connecting(page, connect, typed)
        elif action == "options":
            options = {
                "allow_create": form.get("allow_create") == "on",
                "read_outcomes": form.get("read_outcomes") == "on",
                "deal_stages": _typed(page, "deal_stages")["deal_stages"],
            }

            def configure() -> CrmStatus:
                stages = stage_lines(options["deal_stages"])
                # Saving the provider's defaults as they are shown keeps following them.
                stages = {} if stages == CrmConfig(provider=status.provider or "hubspot").stage_outcomes() else stages
                done: CrmStatus = connections.configure(
                    page.tenant,
                    allow_create=options["allow_create"],
                    read_outcomes=options["read_outcomes"],
                    deal_stages=stages,
                )
                logged("allow_create", status.allow_create, done.allow_create)
                logged("read_outcomes", status.read_outcomes, done.read_outcomes)
                logged("deal_stages", status.deal_stages, done.deal_stages)
                return done

            result = _run(page, configure, "CRM options saved.")
        elif action == "sync":
            result = _sync_now(page)
        elif action == "disconnect":

            def disconnect() -> None:
                connections.disconnect(page.tenant)
                logged("provider", status.provider, None)

            result = _run(page, disconnect, "Disconnected: nothing is written to the CRM until you connect again.")
        status = connections.status(page.tenant)
        if action != "options" or not result.get("error"):
            options = _options_typed(status)
    # `crm`, not `status`: the page's HTTP status goes by that name.
    return _show(page, "settings_crm.html", "crm", result, crm=status, typed=typed, options=options)


def _connecting(page: Page, connect: Any, typed: dict[str, Any]) -> dict[str, Any]:
    """Connect; a CRM that does not answer is said on the form (503), not a page of its own."""
    try:
        return _run(page, connect, "Connected. The engine's fields exist in the CRM now.")
    except BackendUnavailable as exc:
        return {"error": exc.message, "status": 503}


def _sync_now(page: Page) -> dict[str, Any]:
    """The tenant's warm or hotter leads, written now; the counts, or why it stopped."""
    try:
        run = page.app.crm_sync.sync_now(page.tenant)
    except BackendUnavailable:
        raise
    except OieError as exc:
        return {"error": _error(exc), "status": 404 if exc.code == "not_found" else 400}
    counts = f"{run.synced} updated, {run.created} created, {run.skipped} skipped, {run.notes} notes"
    if run.error:
        return {"error": f"The sync stopped: {run.error} ({counts})", "status": 200}
    return {"ok": f"Synced now: {counts}."}


# -- sequencers --


def sequencer_settings(page: Page) -> Response:
    """GET shows which sequencers have a secret; POST makes a new one, shown once with its URL."""
    secrets, actor = page.app.sequencer_secrets, _actor(page)
    result: dict[str, Any] = {}
    created: dict[str, str] | None = None
    if page.request.method == "POST":
        wanted = page.request.form.get("sequencer", "")
        sequencer: Sequencer | None = next((s for s in SEQUENCERS if s == wanted), None)

        def rotate() -> dict[str, str]:
            if sequencer is None:
                raise InputError(f"sequencer must be one of {', '.join(SEQUENCERS)}", field="sequencer")
            had = secrets.get(page.tenant, sequencer) is not None
            secret, stored = new_secret(page.tenant, sequencer)
            now = page.app.clock.now()
            secrets.put(page.tenant, sequencer, stored, now)
            setting = f"sequencers.{sequencer}.secret"
            page.app.settings_log.add(change(page.tenant, actor, setting, had, True, now, secret=True))
            return {"sequencer": sequencer, "secret": secret, **_paste(page, sequencer, secret)}

        result = _run(page, rotate, f"New {wanted.capitalize()} webhook secret created; the old one no longer works.")
        if not result.get("error"):
            created = result["value"]
    rows = [
        {"sequencer": s, "has_secret": secrets.get(page.tenant, s) is not None, **_paste(page, s, None)}
        for s in SEQUENCERS
    ]
    return _show(
        page, "settings_sequencers.html", "sequencers", result, rows=rows, created=created, header=SECRET_HEADER
    )


def _paste(page: Page, sequencer: Sequencer, secret: str | None) -> dict[str, str]:
    """The URL to paste: Smartlead's carries the secret as its password; Instantly's sends it as a header."""
    base = str(page.app.settings.functions_base_url)
    return {"url": webhook_url(base, sequencer, page.tenant, secret if sequencer == "smartlead" else None)}
