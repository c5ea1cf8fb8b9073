"""Settings → Planner: the tenant's offer, brief, banned phrases, review switch and limits (admins only).

Shown among the Settings pages (oie.configuration.pages registers it); each changed field is
written to the settings change log like every other setting, with who changed it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Response

from oie.configuration.changelog import change
from oie.configuration.pages import _actor, _run, _show, _typed
from oie.planner.config import PlannerConfig

if TYPE_CHECKING:
    from oie.outcomes.pages import Page

TEXT_FIELDS = ("offer", "brief", "sender_company", "banned_phrases", "daily_token_budget", "max_concurrent")


def _shown(config: PlannerConfig) -> dict[str, Any]:
    return {
        "offer": config.offer,
        "brief": config.brief,
        "sender_company": config.sender_company,
        "banned_phrases": "\n".join(config.banned_phrases),
        "daily_token_budget": str(config.daily_token_budget),
        "max_concurrent": str(config.max_concurrent),
        "review_ai_plans": config.review_ai_plans,
    }


def wanted_config(typed: dict[str, Any]) -> PlannerConfig:
    """The form as a PlannerConfig; a bad value is a ValidationError naming its field."""
    return PlannerConfig.model_validate(
        {
            **{k: typed[k] for k in ("offer", "brief", "sender_company", "daily_token_budget", "max_concurrent")},
            "banned_phrases": tuple(line.strip() for line in str(typed["banned_phrases"]).splitlines()),
            "review_ai_plans": bool(typed["review_ai_plans"]),
        }
    )


def planner_settings(page: Page) -> Response:
    """GET shows the planner settings; POST saves them and logs each changed field."""
    configs, actor = page.app.planner_configs, _actor(page)
    current = configs.get(page.tenant)
    typed, result = _shown(current), {}
    if page.request.method == "POST":
        typed = {**_typed(page, *TEXT_FIELDS), "review_ai_plans": page.request.form.get("review_ai_plans") == "on"}

        def save() -> PlannerConfig:
            wanted = wanted_config(typed)
            now = page.app.clock.now()
            old, new = current.model_dump(mode="json"), wanted.model_dump(mode="json")
            configs.put(page.tenant, wanted)
            for name in PlannerConfig.model_fields:
                if old[name] != new[name]:
                    page.app.settings_log.add(change(page.tenant, actor, f"planner.{name}", old[name], new[name], now))
            return wanted

        result = _run(page, save, "Planner settings saved.")
    return _show(page, "settings_planner.html", "planner", result, typed=typed)
