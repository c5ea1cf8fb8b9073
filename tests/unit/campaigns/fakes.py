"""In-memory stand-ins for the campaign ports (the send step's own port: send_fakes.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from oie.campaigns.limits import LimitsConfig, Rule, WarmupPool
from oie.campaigns.models import (
    Contact,
    ContactCampaign,
    Controls,
    ScheduledAction,
    ScopeControl,
    SenderIdentity,
    campaign_of,
)
from oie.campaigns.plan import Plan
from oie.campaigns.ports import Commit, Decide, Seen
from oie.ports import OutboundEmail


class MemoryStates:
    def __init__(self) -> None:
        self.states: dict[tuple[str, str], ContactCampaign] = {}
        self.actions: dict[tuple[str, str], ScheduledAction] = {}
        self.controls: dict[tuple[str, str | None], ScopeControl] = {}

    def get(self, tenant_id: str, ccid: str) -> ContactCampaign | None:
        return self.states.get((tenant_id, ccid))

    def _controls(self, tenant_id: str, ccid: str) -> Controls:
        return Controls(tenant=self.control(tenant_id, None), campaign=self.control(tenant_id, campaign_of(ccid)))

    def read(self, tenant_id: str, ccid: str) -> Seen:
        state = self.get(tenant_id, ccid)
        return Seen(state, self._controls(tenant_id, ccid), token=state)

    def read_step(self, tenant_id: str, ccid: str, key: str) -> Seen:
        seen = self.read(tenant_id, ccid)
        return Seen(seen.state, seen.controls, seen.token, action=self.get_action(tenant_id, key), action_read=True)

    def change_seen(self, seen: Seen, commit: Commit) -> bool:
        if seen.state is None or self.get(seen.state.tenant_id, seen.state.contact_campaign_id) is not seen.token:
            return False  # the token is the very object read: any change since replaced it
        self.change(seen.state.tenant_id, seen.state.contact_campaign_id, None, lambda *_: commit)
        return True

    def control(self, tenant_id: str, campaign_id: str | None) -> ScopeControl:
        return self.controls.get((tenant_id, campaign_id), ScopeControl())

    def set_control(self, tenant_id: str, campaign_id: str | None, decide: Any) -> tuple[ScopeControl, bool]:
        new = decide(self.control(tenant_id, campaign_id))
        if new is None:
            return self.control(tenant_id, campaign_id), False
        self.controls[(tenant_id, campaign_id)] = new
        return new, True

    def held(self, tenant_id: str, campaign_id: str | None, limit: int) -> list[ContactCampaign]:
        found = [s for (t, _), s in self.states.items() if t == tenant_id and s.held]
        return [s for s in found if campaign_id is None or s.campaign_id == campaign_id][:limit]

    def of_contact(
        self, tenant_id: str, *, lead_id: str | None = None, email: str | None = None
    ) -> list[ContactCampaign]:
        return [
            s
            for (t, _), s in self.states.items()
            if t == tenant_id and (s.contact.lead_id == lead_id if lead_id is not None else s.contact.email == email)
        ]

    def get_action(self, tenant_id: str, key: str) -> ScheduledAction | None:
        return self.actions.get((tenant_id, key))

    def create(self, state: ContactCampaign, action: ScheduledAction | None) -> bool:
        if (state.tenant_id, state.contact_campaign_id) in self.states:
            return False
        self.states[(state.tenant_id, state.contact_campaign_id)] = state
        if action:
            self.actions[(state.tenant_id, action.key)] = action
        return True

    def create_many(
        self, starts: Sequence[tuple[ContactCampaign, ScheduledAction | None]]
    ) -> list[ContactCampaign | None]:
        return [None if self.create(s, a) else self.get(s.tenant_id, s.contact_campaign_id) for s, a in starts]

    def change(self, tenant_id: str, ccid: str, action_key: str | None, decide: Decide) -> Commit | None:
        state = self.get(tenant_id, ccid)
        action = self.get_action(tenant_id, action_key) if action_key else None
        commit = decide(state, action, self._controls(tenant_id, ccid))
        if commit is None:
            return None
        # Every write worked out before any is made: a commit is written whole or (raising) not at all.
        actions = {(tenant_id, commit.new_action.key): commit.new_action} if commit.new_action else {}
        if commit.close:
            key, status = commit.close
            actions[(tenant_id, key)] = self.actions[(tenant_id, key)].model_copy(update={"status": status})
        self.states[(tenant_id, ccid)] = commit.state
        self.actions.update(actions)
        return commit

    def in_campaign(self, tenant_id: str, campaign_id: str | None, limit: int) -> list[ContactCampaign]:
        return [s for (t, _), s in self.states.items() if t == tenant_id and campaign_id in (None, s.campaign_id)][
            :limit
        ]

    def overdue(self, before: datetime, limit: int) -> list[ScheduledAction]:
        return [a for a in self.actions.values() if a.status == "scheduled" and a.due_at < before][:limit]


class MemoryPlans:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Plan] = {}

    def put(self, tenant_id: str, plan: Plan) -> tuple[str, bool]:
        key = (tenant_id, plan.content_hash())
        new = key not in self.items
        self.items.setdefault(key, plan)
        return key[1], new

    def get(self, tenant_id: str, version: str) -> Plan | None:
        return self.items.get((tenant_id, version))


class MemorySenders:
    def __init__(self, *senders: SenderIdentity, config: LimitsConfig | None = None) -> None:
        self.items = {s.sender_id: s for s in senders}
        self.config = config or LimitsConfig()
        self.pools: dict[str, WarmupPool] = {}

    def get(self, tenant_id: str, sender_id: str) -> SenderIdentity | None:
        return self.items.get(sender_id)

    def put(self, tenant_id: str, sender: SenderIdentity) -> None:
        self.items[sender.sender_id] = sender

    def all(self, tenant_id: str) -> list[SenderIdentity]:
        return list(self.items.values())

    def limits(self, tenant_id: str) -> LimitsConfig:
        return self.config

    def warmup(self, tenant_id: str, pool: str) -> WarmupPool | None:
        return self.pools.get(pool)


class MemoryLimiter:
    """oie.campaigns.ports.RateLimiter in memory: one counter per rule and UTC window (shards need
    no spreading here); like FirestoreRateLimiter it remembers a one-shard rule seen full until its
    window ends, so later sends defer without taking."""

    def __init__(self) -> None:
        self.used: dict[tuple[str, datetime], int] = {}
        self.full: dict[tuple[str, datetime], datetime] = {}

    def acquire(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        """One send from every rule, or from none: None when taken, else (when it reopens, which rule)."""
        windows = [(rule, (rule.key, rule.window(now)[0])) for rule in rules]
        for rule, window in windows:
            if self.used.get(window, 0) >= rule.capacity:
                if rule.shard_count() == 1:
                    self.full[window] = rule.window(now)[1]
                return rule.window(now)[1], rule.key
        for _, window in windows:
            self.used[window] = self.used.get(window, 0) + 1
        return None

    def known_full(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        for rule in rules:
            until = self.full.get((rule.key, rule.window(now)[0]))
            if until is not None and until > now:
                return until, rule.key
        return None


class MemoryMessages:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get(self, tenant_id: str, message_id: str) -> dict[str, Any] | None:
        return self.items.get(message_id)

    def claim(self, tenant_id: str, message_id: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        if message_id in self.items:
            return self.items[message_id]
        self.items[message_id] = dict(doc)
        return None

    def update(self, tenant_id: str, message_id: str, fields: dict[str, Any]) -> None:
        self.items[message_id].update(fields)

    def release(self, tenant_id: str, message_id: str) -> None:
        self.items.pop(message_id, None)


class MemoryContacts:
    def __init__(self, *contacts: Contact) -> None:
        self.items = list(contacts)

    def contacts(self, tenant_id: str, campaign_id: str) -> Iterable[Contact]:
        return iter(self.items)


class RecordingMailer:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[OutboundEmail] = []
        self.fail_with = fail_with

    def send(self, email: OutboundEmail) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(email)
        return f"sg-{len(self.sent)}"


class MemoryExperiments:
    """oie.campaigns.ports.Experiments in memory: the first winner of a node stays."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}

    def winner(self, tenant_id: str, campaign_id: str, node_id: str) -> str | None:
        found = self.items.get((tenant_id, campaign_id, node_id))
        return found[0] if found else None

    def set_winner(
        self, tenant_id: str, campaign_id: str, node_id: str, variant_id: str, details: dict[str, Any]
    ) -> bool:
        key = (tenant_id, campaign_id, node_id)
        if key in self.items:
            return False
        self.items[key] = (variant_id, dict(details))
        return True
