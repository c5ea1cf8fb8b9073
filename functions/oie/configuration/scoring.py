"""Scoring weights and page rules in the warehouse, and how many leads a change would move."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oie.configuration.changelog import change
from oie.configuration.models import PageRule, ScoringIn, ScoringWeights
from oie.configuration.service import TenantSettings, require_admin
from oie.outcomes.auth import Actor
from oie.ports import Warehouse

DEFAULT = "*"  # the tenant id of the default model in scoring_config and page_rules


@dataclass
class ScoringSettings(TenantSettings):
    warehouse: Warehouse

    def _weights(self, tenant_id: str) -> tuple[ScoringWeights, bool]:
        rows = {r["tenant_id"]: r for r in self.warehouse.query("scoring_config_of", {"tenant_id": tenant_id})}
        row = rows.get(tenant_id) or rows[DEFAULT]
        fields = {name: row[name] for name in ScoringWeights.model_fields if row.get(name) is not None}
        return ScoringWeights.model_validate(fields), tenant_id not in rows

    def _rules(self, tenant_id: str) -> tuple[list[PageRule], bool]:
        rows = self.warehouse.query("page_rules_of", {"tenant_id": tenant_id})
        own = [r for r in rows if r["tenant_id"] == tenant_id]
        chosen = own or [r for r in rows if r["tenant_id"] == DEFAULT]
        return [PageRule(page_class=r["page_class"], path_pattern=r["path_pattern"]) for r in chosen], not own

    def show(self, tenant_id: str, actor: Actor) -> dict[str, Any]:
        require_admin(actor)
        self.tenant(tenant_id)
        weights, default_weights = self._weights(tenant_id)
        rules, default_rules = self._rules(tenant_id)
        return {
            "weights": weights.model_dump(),
            "weights_are_default": default_weights,
            "page_rules": [r.model_dump() for r in rules],
            "page_rules_are_default": default_rules,
        }

    def preview(self, tenant_id: str, wanted: ScoringIn, actor: Actor) -> dict[str, Any]:
        """How many of the tenant's scored leads would change level under the new weights.

        Page rules decide which visits count as pricing or product views; their effect shows
        only once sessions are rebuilt, so the preview counts the weights alone.
        """
        require_admin(actor)
        self.tenant(tenant_id)
        params = {**wanted.weights.model_dump(), "tenant_id": tenant_id}
        rows = self.warehouse.query("scoring_preview", params)
        moves = [
            {"from_level": r["from_level"], "to_level": r["to_level"], "leads": int(r["leads"])}
            for r in rows
            if r["from_level"] != r["to_level"]
        ]
        return {
            "leads": sum(int(r["leads"]) for r in rows),
            "would_change": sum(m["leads"] for m in moves),
            "changes": moves,
        }

    def set(self, tenant_id: str, wanted: ScoringIn, actor: Actor) -> dict[str, Any]:
        """Store new weights (and page rules when given); the next score run uses them."""
        preview = self.preview(tenant_id, wanted, actor)
        old_weights, _ = self._weights(tenant_id)
        now = self.clock.now()
        row = {"tenant_id": tenant_id, **wanted.weights.model_dump(), "updated_at": now}
        self.warehouse.upsert_rows("scoring_config", [row], key_fields=("tenant_id",))
        changed = {
            name: [getattr(old_weights, name), value]
            for name, value in wanted.weights.model_dump().items()
            if getattr(old_weights, name) != value
        }
        if changed:
            old = {name: pair[0] for name, pair in changed.items()}
            new = {name: pair[1] for name, pair in changed.items()}
            self.log.add(change(tenant_id, actor, "scoring.weights", old, new, now))
        if wanted.page_rules is not None:
            old_rules, _ = self._rules(tenant_id)
            self.warehouse.execute("page_rules_clear", {"tenant_id": tenant_id})
            rules = [{"tenant_id": tenant_id, **r.model_dump()} for r in wanted.page_rules]
            self.warehouse.upsert_rows("page_rules", rules, key_fields=("tenant_id", "page_class", "path_pattern"))
            old_list, new_list = [r.model_dump() for r in old_rules], [r.model_dump() for r in wanted.page_rules]
            if old_list != new_list:
                self.log.add(change(tenant_id, actor, "scoring.page_rules", old_list, new_list, now))
        return {**self.show(tenant_id, actor), "preview": preview}
