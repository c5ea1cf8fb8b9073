"""Builds the adapters from settings: the only module that knows which backend is in use.

Every adapter is built on first use and cached, so a function pays only for what it
touches (a warm `go` instance never imports SendGrid or BigQuery jobs code).
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from oie.settings import Settings, get_settings

if TYPE_CHECKING:
    from oie.adapters.firestore_outcomes import FirestoreOutcomes
    from oie.alerts.service import HotLeadAlerts
    from oie.configuration.changelog import ChangeLog
    from oie.configuration.keys import KeySettings
    from oie.configuration.scoring import ScoringSettings
    from oie.configuration.senders import SenderSettings
    from oie.configuration.service import SettingsService
    from oie.console.service import ConsoleService
    from oie.go.cache import ReadThroughCache
    from oie.go.service import GoService
    from oie.links.models import Link
    from oie.links.service import CampaignImporter
    from oie.outcomes.auth import Sessions
    from oie.outcomes.ports import ApiKeyStore
    from oie.outcomes.service import OutcomesService
    from oie.personalize.service import PersonalizeService
    from oie.ports import (
        CampaignStore,
        ClickSpool,
        Clock,
        CompanyLookup,
        LeadStore,
        LinkStore,
        Mailer,
        ProfileStore,
        SecretResolver,
        TaskQueue,
        TenantStore,
        Warehouse,
    )
    from oie.retention.service import Retention
    from oie.suppressions.store import SuppressionStore
    from oie.tenants.models import Tenant
    from oie.track.service import TrackService


class Container:
    """The adapters and services of one process, built lazily from settings."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        # Tests and the local stack hand in ready-made parts (a fixed clock, a dispatcher).
        for name, value in overrides.items():
            setattr(self, name, value)

    @cached_property
    def firestore(self) -> Any:
        from oie.adapters.firestore_store import make_client

        if self.settings.env == "local":
            # A local CLI talks to the local stack's emulator, never to a real project.
            os.environ.setdefault("FIRESTORE_EMULATOR_HOST", self.settings.local_firestore_emulator)

        return make_client(self.settings.gcp_project, self.settings.firestore_database)

    @cached_property
    def tenants(self) -> TenantStore:
        from oie.adapters.firestore_store import FirestoreTenants

        return FirestoreTenants(self.firestore)

    @cached_property
    def links(self) -> LinkStore:
        from oie.adapters.firestore_store import FirestoreLinks

        return FirestoreLinks(self.firestore)

    @cached_property
    def leads(self) -> LeadStore:
        from oie.adapters.firestore_store import FirestoreLeads

        return FirestoreLeads(self.firestore)

    @cached_property
    def campaigns(self) -> CampaignStore:
        from oie.adapters.firestore_store import FirestoreCampaigns

        return FirestoreCampaigns(self.firestore)

    @cached_property
    def click_spool(self) -> ClickSpool:
        from oie.adapters.firestore_store import FirestoreClickSpool

        return FirestoreClickSpool(self.firestore)

    @cached_property
    def warehouse(self) -> Warehouse:
        if self.settings.warehouse == "bigquery":
            from oie import deadlines
            from oie.adapters.bigquery_warehouse import BigQueryWarehouse

            # Built once per process: the deployed function's budget, not the first request's.
            return BigQueryWarehouse(
                self.settings.gcp_project,
                self.settings.bq_dataset,
                timeout_seconds=deadlines.for_function(deadlines.process_function()).bigquery_seconds,
            )
        from oie.adapters.duckdb_warehouse import DuckDBWarehouse

        return DuckDBWarehouse(self.settings.duckdb_path)

    @cached_property
    def tasks(self) -> TaskQueue:
        if self.settings.tasks == "cloud":
            from oie.adapters.cloud_tasks import CloudTasksQueue

            return CloudTasksQueue(
                self.settings.gcp_project,
                self.settings.tasks_location,
                str(self.settings.functions_base_url),
                self.settings.tasks_invoker_service_account,
            )
        from oie.adapters.local_tasks import LocalTaskDispatcher

        dispatcher = LocalTaskDispatcher(str(self.settings.functions_base_url))
        dispatcher.start()
        return dispatcher

    @cached_property
    def mailer(self) -> Mailer:
        if self.settings.mailer == "sendgrid":
            from oie.adapters.sendgrid_mailer import SendGridMailer

            return SendGridMailer(self.settings.sendgrid_api_key.get_secret_value(), host=self.settings.sendgrid_host)
        from oie.adapters.outbox_mailer import OutboxMailer

        return OutboxMailer(self.settings.outbox_dir)

    @cached_property
    def clock(self) -> Clock:
        from oie.adapters.clock import SystemClock

        return SystemClock()

    @cached_property
    def secrets(self) -> SecretResolver:
        from oie.adapters.secrets import SecretResolver as Resolver

        return Resolver(allow_local=self.settings.env != "prod")

    @cached_property
    def go_service(self) -> GoService:
        from oie.go.service import GoService

        return GoService(
            links=self.link_cache,
            tenants=self.tenant_cache,
            tenant_store=self.tenants,
            warehouse=self.warehouse,
            spool=self.click_spool,
            clock=self.clock,
            default_landing_url=str(self.settings.default_landing_url),
            ip_hash_key=self.derived_key("ip"),
            token_key=self.derived_key("identity"),
        )

    @cached_property
    def tenant_cache(self) -> ReadThroughCache[Tenant]:
        from oie.go.cache import ReadThroughCache

        return ReadThroughCache(self.tenants.get, 1000, self.settings.link_cache_ttl_seconds)

    @cached_property
    def origin_tenants(self) -> ReadThroughCache[Tenant]:
        """Which tenant (if any) an origin belongs to, for CORS answers."""
        from oie.go.cache import ReadThroughCache

        return ReadThroughCache(self.tenants.find_by_origin, 1000, self.settings.link_cache_ttl_seconds)

    @cached_property
    def companies(self) -> CompanyLookup:
        from oie.adapters.ip_companies import FileCompanyLookup

        return FileCompanyLookup(self.settings.ip_company_file)

    @cached_property
    def track_service(self) -> TrackService:
        from oie.track.service import TrackService

        return TrackService(
            tenants=self.tenant_cache,
            warehouse=self.warehouse,
            clock=self.clock,
            companies=self.companies,
            token_key=self.derived_key("identity"),
            ip_hash_key=self.derived_key("ip"),
            intent=self.intent_handoff,
        )

    @cached_property
    def intent_handoff(self) -> Any:
        """oie.track.intent.IntentHandoff: /track's cached look-up of the intent watch, and its queue."""
        from oie.go.cache import ReadThroughCache
        from oie.track.intent import IntentHandoff

        def load(key: str) -> Any:
            tenant_id, tracking_id = key.split("/", 1)
            return self.intent_watch.get(tenant_id, tracking_id)

        # Hits for a minute, misses for 10 s (ReadThroughCache): a contact just started is seen soon.
        return IntentHandoff(watched=ReadThroughCache(load, 10_000, 60.0), tasks=lambda: self.tasks)

    @cached_property
    def profiles(self) -> ProfileStore:
        from oie.adapters.firestore_store import FirestoreProfiles

        return FirestoreProfiles(self.firestore)

    @cached_property
    def personalize_service(self) -> PersonalizeService:
        from oie.go.cache import ReadThroughCache
        from oie.personalize.service import PersonalizeService

        def load(key: str) -> dict[str, Any] | None:
            tenant_id, lead_id = key.split("/", 1)
            return self.profiles.get(tenant_id, lead_id)

        return PersonalizeService(
            tenants=self.tenant_cache,
            links=self.link_cache,
            profiles=ReadThroughCache(load, 10_000, self.settings.profile_cache_ttl_seconds),
            clock=self.clock,
            token_key=self.derived_key("identity"),
        )

    @cached_property
    def link_cache(self) -> ReadThroughCache[Link]:
        from oie.go.cache import ReadThroughCache

        return ReadThroughCache(self.links.get, self.settings.link_cache_size, self.settings.link_cache_ttl_seconds)

    @cached_property
    def hot_lead_alerts(self) -> HotLeadAlerts:
        from oie.adapters.firestore_store import FirestoreAlertMarkers
        from oie.adapters.http_sender import HttpSender
        from oie.alerts.service import HotLeadAlerts

        return HotLeadAlerts(
            warehouse=self.warehouse,
            tenants=self.tenants,
            leads=self.leads,
            markers=FirestoreAlertMarkers(self.firestore),
            sender=HttpSender(allow_http=self.settings.env != "prod"),
            secrets=self.secrets,
            clock=self.clock,
        )

    @cached_property
    def retention(self) -> Retention:
        from oie.retention.firestore import FirestorePersonData
        from oie.retention.outbox import OutboxFiles
        from oie.retention.service import Retention

        return Retention(
            warehouse=self.warehouse,
            tenants=self.tenants,
            people=FirestorePersonData(self.firestore),
            suppressions=self.suppressions,
            secrets=self.secrets,
            clock=self.clock,
            outbox=OutboxFiles(self.settings.outbox_dir) if self.settings.mailer == "outbox" else None,
            crm=self.crm_erasure,
        )

    @cached_property
    def suppressions(self) -> SuppressionStore:
        from oie.suppressions.store import FirestoreSuppressions

        return FirestoreSuppressions(self.firestore)

    # -- outcomes (issue 5): add its adapters and services below this line --
    @cached_property
    def outcome_store(self) -> FirestoreOutcomes:
        from oie.adapters.firestore_outcomes import FirestoreOutcomes

        return FirestoreOutcomes(self.firestore)

    @cached_property
    def api_keys(self) -> ApiKeyStore:
        from oie.adapters.firestore_outcomes import FirestoreApiKeys

        return FirestoreApiKeys(self.firestore)

    @cached_property
    def outcomes_service(self) -> OutcomesService:
        from oie.outcomes.service import OutcomesService

        return OutcomesService(
            store=self.outcome_store,
            warehouse=self.warehouse,
            profiles=self.profiles,
            clock=self.clock,
            tasks=self.tasks,
        )

    @cached_property
    def admin_sessions(self) -> Sessions:
        from oie.outcomes.auth import Sessions

        # Each session read checks its key (cached a few seconds): a revoked key's sessions end.
        return Sessions(self.derived_key("admin-session"), keys=self.api_keys)

    # -- settings (issue 12: senders, limits, alert channels, scoring, keys, change log) --

    @cached_property
    def settings_log(self) -> ChangeLog:
        from oie.configuration.firestore import FirestoreChangeLog

        return FirestoreChangeLog(self.firestore)

    @cached_property
    def settings_service(self) -> SettingsService:
        """The tenant's own settings, limits, alert channels and the change log."""
        from oie.configuration.service import SettingsService

        return SettingsService(
            tenants=self.tenants,
            log=self.settings_log,
            clock=self.clock,
            senders=self.campaign_senders,
            alerts=self.hot_lead_alerts,
        )

    @cached_property
    def sender_settings(self) -> SenderSettings:
        from oie.configuration.senders import SenderSettings
        from oie.configuration.verification import SendGridSenderStates

        return SenderSettings(
            tenants=self.tenants,
            log=self.settings_log,
            clock=self.clock,
            senders=self.campaign_senders,
            verification=SendGridSenderStates(self.mailer) if self.settings.mailer == "sendgrid" else None,
        )

    @cached_property
    def key_settings(self) -> KeySettings:
        from oie.configuration.firestore import FirestoreKeyAdmin
        from oie.configuration.keys import KeySettings

        return KeySettings(
            tenants=self.tenants,
            log=self.settings_log,
            clock=self.clock,
            keys=self.api_keys,
            key_admin=FirestoreKeyAdmin(self.firestore),
            sessions=self.admin_sessions,
        )

    @cached_property
    def scoring_settings(self) -> ScoringSettings:
        from oie.configuration.scoring import ScoringSettings

        return ScoringSettings(tenants=self.tenants, log=self.settings_log, clock=self.clock, warehouse=self.warehouse)

    # -- console (issue 12: hot leads and lead timeline read models) --

    @cached_property
    def console_service(self) -> ConsoleService:
        from oie.console.firestore import FirestoreConsole
        from oie.console.service import ConsoleService

        reads = FirestoreConsole(self.firestore)
        return ConsoleService(
            warehouse=self.warehouse,
            leads=self.outcome_store,
            lead_docs=reads,
            campaigns=reads,
            alerts=reads,
            tenants=self.tenant_cache,
            clock=self.clock,
        )

    # -- campaigns (issue 6: plans, engine, sending): add below this line --

    @cached_property
    def campaign_senders(self) -> Any:
        """Sender identities, sending limits and IP warm-up pools (oie.campaigns.ports.SenderStore)."""
        from oie.campaigns.firestore import FirestoreSenders

        return FirestoreSenders(self.firestore)

    @cached_property
    def campaign_service(self) -> Any:
        """oie.campaigns.service.CampaignService on Firestore, the task queue and the mailer."""
        from oie.campaigns import firestore as stores
        from oie.campaigns.limits_firestore import FirestoreRateLimiter
        from oie.campaigns.send_step_firestore import FirestoreSendSteps
        from oie.campaigns.sending import Links
        from oie.campaigns.service import CampaignService

        states, limiter = stores.FirestoreCampaignStates(self.firestore), FirestoreRateLimiter(self.firestore)
        return CampaignService(
            states=states,
            plans=stores.FirestorePlanVersions(self.firestore),
            senders=self.campaign_senders,
            steps=FirestoreSendSteps(self.firestore, states, limiter),
            contacts=stores.FirestoreContactSource(self.firestore),
            tenants=self.tenant_cache,
            tasks=self.tasks,
            warehouse=self.warehouse,
            mailer=self.mailer,
            clock=self.clock,
            links=Links(
                go_base_url=str(self.settings.go_base_url),
                functions_base_url=str(self.settings.functions_base_url),
                unsubscribe_key=self.derived_key("unsubscribe"),
            ),
            message_key=self.derived_key("message"),
            message_id_header=self.settings.mailer == "sendgrid",
            watch=self.intent_watch,
            experiments=self.campaign_experiments,
        )

    @cached_property
    def campaign_experiments(self) -> Any:
        """A/B/n winners per send node (oie.campaigns.ports.Experiments), read by sends, set by the job."""
        from oie.campaigns.firestore import FirestoreExperiments

        return FirestoreExperiments(self.firestore)

    @cached_property
    def intent_watch(self) -> Any:
        """oie.campaigns.watch.IntentWatch: who waits on a pixel trigger."""
        from oie.campaigns.watch_firestore import FirestoreIntentWatch

        return FirestoreIntentWatch(self.firestore)

    @cached_property
    def signal_service(self) -> Any:
        """oie.campaigns.signals.SignalService: intent signals applied to a lead's contact campaigns."""
        from oie.campaigns.page_rules import PageRules
        from oie.campaigns.signals import SignalService

        return SignalService(
            campaigns=self.campaign_service,
            links=self.link_cache,
            watch=self.intent_watch,
            pages=PageRules(self.warehouse),
        )

    @cached_property
    def campaign_control(self) -> Any:
        """oie.campaigns.control_service.ControlService: pause, resume and stop."""
        from oie.campaigns.control_service import ControlService

        return ControlService(self.campaign_service, lambda t, c: self.campaigns.get(t, c) is not None)

    # -- webhooks (issue 6: SendGrid events, inbound replies, unsubscribes): add below this line --

    @cached_property
    def webhook_markers(self) -> Any:  # oie.webhooks.store.EventMarkers
        from oie.webhooks.store import FirestoreEventMarkers

        return FirestoreEventMarkers(self.firestore)

    @cached_property
    def outbound_messages(self) -> Any:  # oie.webhooks.store.OutboundMessages
        from oie.webhooks.store import FirestoreOutboundMessages

        return FirestoreOutboundMessages(self.firestore)

    @cached_property
    def event_webhooks(self) -> Any:  # oie.webhooks.events.EventWebhooks
        from oie.webhooks.events import EventWebhooks

        return EventWebhooks(
            tenants=self.tenant_cache,
            markers=self.webhook_markers,
            outbound=self.outbound_messages,
            warehouse=self.warehouse,
            tasks=self.tasks,
            suppressions=self.suppressions,
            clock=self.clock,
            max_age_seconds=self.settings.webhook_max_age_seconds,
            ip_hash_key=self.derived_key("ip"),
        )

    @cached_property
    def inbound_replies(self) -> Any:  # oie.webhooks.inbound.InboundReplies
        from oie.webhooks.inbound import InboundReplies

        legacy = self.settings.inbound_parse_accept_legacy_token
        return InboundReplies(
            tenants=self.tenants,  # uncached: a new or revoked credential counts at once
            outbound=self.outbound_messages,
            markers=self.webhook_markers,
            warehouse=self.warehouse,
            tasks=self.tasks,
            clock=self.clock,
            legacy_token=self.settings.inbound_parse_token.get_secret_value() if legacy else None,
        )

    @cached_property
    def unsubscribes(self) -> Any:  # oie.webhooks.unsubscribe.Unsubscribes
        from oie.webhooks.unsubscribe import Unsubscribes

        return Unsubscribes(
            key=self.derived_key("unsubscribe"),
            suppressions=self.suppressions,
            outbound=self.outbound_messages,
            warehouse=self.warehouse,
            tasks=self.tasks,
            clock=self.clock,
            accept_legacy=self.settings.unsubscribe_accept_legacy_links,
        )

    # -- sequencer webhooks (issue 15: Smartlead, Instantly) --

    @cached_property
    def sequencer_secrets(self) -> Any:  # oie.webhooks.sequencers.store.SecretHashes
        from oie.webhooks.sequencers.store import FirestoreSecretHashes

        return FirestoreSecretHashes(self.firestore)

    @cached_property
    def sequencer_webhooks(self) -> Any:  # oie.webhooks.sequencers.service.SequencerWebhooks
        from oie.webhooks.sequencers.service import SequencerWebhooks
        from oie.webhooks.sequencers.store import IdentityLeads

        return SequencerWebhooks(
            tenants=self.tenant_cache,
            secrets=self.sequencer_secrets,  # uncached: a new secret counts at once
            leads=IdentityLeads(self.links, self.warehouse),
            markers=self.webhook_markers,
            warehouse=self.warehouse,
            tasks=self.tasks,
            suppressions=self.suppressions,
            clock=self.clock,
        )

    # -- planner (issue 13: the language-model planner) --

    @cached_property
    def planner_configs(self) -> Any:
        """oie.planner.config.PlannerConfigs: each tenant's offer, brief, banned phrases and limits."""
        from oie.planner.firestore import FirestorePlannerConfigs

        return FirestorePlannerConfigs(self.firestore)

    @cached_property
    def language_model(self) -> Any:
        """oie.planner.model.LanguageModel: Vertex AI Gemini, or the local server at planner_base_url."""
        from oie.planner import gemini

        s = self.settings
        client = (
            gemini.local_client(s.planner_base_url, s.gcp_project, s.planner_region)
            if s.planner_base_url
            else gemini.vertex_client(s.gcp_project, s.planner_region)
        )
        return gemini.GeminiModel(client, s.planner_model)

    @cached_property
    def language_planner(self) -> Any:
        """oie.planner.service.LanguageModelPlanner: per-contact plans, budgets and records."""
        from datetime import timedelta

        from oie.planner.firestore import (
            FirestoreGenerationRecords,
            FirestoreLeadSummaries,
            FirestoreSlots,
            FirestoreTokenBudget,
        )
        from oie.planner.inputs import WarehouseEvidence
        from oie.planner.records import Prices
        from oie.planner.service import LanguageModelPlanner

        s = self.settings
        return LanguageModelPlanner(
            model=self.language_model,
            model_name=s.planner_model,
            configs=self.planner_configs,
            tenants=self.tenant_cache,
            leads=self.leads,
            evidence=WarehouseEvidence(self.warehouse),
            records=FirestoreGenerationRecords(self.firestore),
            warehouse=self.warehouse,
            budget=FirestoreTokenBudget(self.firestore),
            slots=FirestoreSlots(self.firestore),
            summaries=FirestoreLeadSummaries(self.firestore),
            clock=self.clock,
            prices=Prices(s.planner_price_input_per_1m, s.planner_price_output_per_1m),
            max_output_tokens=s.planner_max_output_tokens,
            lease=timedelta(seconds=s.planner_lease_seconds),
        )

    @cached_property
    def plan_reviews(self) -> Any:
        """oie.planner.review.ReviewService: plans waiting for a person, approve (or edit) and reject."""
        from oie.planner.review import FirestorePlanReviews, ReviewService
        from oie.planner.review_checks import planner_guardrails

        service = self.campaign_service
        return ReviewService(
            store=FirestorePlanReviews(self.firestore),
            campaigns=service,
            clock=self.clock,
            guardrails=planner_guardrails(self.language_planner, service.plans),
        )

    @cached_property
    def planning_tasks(self) -> Any:
        """oie.planner.tasks.PlanningTasks: queue a campaign's planning, run one contact's task."""
        from oie.planner.tasks import PlanningTasks

        return PlanningTasks(
            campaigns=self.campaign_service,
            planner=self.language_planner,
            configs=self.planner_configs,
            reviews=self.plan_reviews.store,
            tasks=self.tasks,
            clock=self.clock,
        )

    # -- CRM sync (issue 15: HubSpot, Salesforce) --

    @cached_property
    def crm_store(self) -> Any:  # oie.crm.ports.CrmStore
        from oie.crm.firestore import FirestoreCrmStore

        return FirestoreCrmStore(self.firestore)

    @cached_property
    def crm_clients(self) -> Any:  # oie.crm.ports.CrmClients
        from oie.crm.clients import CrmClientFactory

        if self.settings.env == "prod" and self.settings.crm_salesforce_base_url:
            raise ValueError("OIE_CRM_SALESFORCE_BASE_URL is for the local CRM server only")
        hubspot, salesforce = self.settings.crm_hubspot_host, self.settings.crm_salesforce_base_url
        unset = not {"crm_hubspot_host", "crm_salesforce_base_url"} & self.settings.model_fields_set
        if self.settings.env == "local" and unset:
            from oie.devstack.crm_servers import local_bases

            # A command beside `make run` talks to the stack's local CRM servers, never a real CRM.
            hubspot, salesforce = local_bases(self.settings.data_dir) or (hubspot, salesforce)
        return CrmClientFactory(hubspot, salesforce)

    @cached_property
    def crm_sync(self) -> Any:  # oie.crm.sync.CrmSync
        from oie.crm.sync import CrmSync

        return CrmSync(
            warehouse=self.warehouse,
            store=self.crm_store,
            secrets=self.secrets,
            clients=self.crm_clients,
            clock=self.clock,
            deadline_seconds=self.settings.crm_sync_deadline_seconds,
        )

    @cached_property
    def crm_connections(self) -> Any:  # oie.crm.service.CrmConnections: connect, status, lead_sync_state
        from oie.crm.secret_store import LocalTokens, SecretManagerTokens
        from oie.crm.service import CrmConnections

        tokens = SecretManagerTokens(self.settings.gcp_project) if self.settings.env == "prod" else LocalTokens()
        return CrmConnections(tenants=self.tenants, store=self.crm_store, tokens=tokens, clients=self.crm_clients)

    @cached_property
    def crm_readback(self) -> Any:  # oie.crm.readback.CrmReadback: outcomes from deal stages (crm_reconcile)
        from oie.crm.readback import CrmReadback

        return CrmReadback(
            store=self.crm_store,
            secrets=self.secrets,
            clients=self.crm_clients,
            outcomes=self.outcomes_service,
            history=self.outcome_store,
            clock=self.clock,
        )

    @cached_property
    def crm_erasure(self) -> Any:  # oie.crm.erasure.CrmErasure
        from oie.crm.erasure import CrmErasure

        return CrmErasure(store=self.crm_store, secrets=self.secrets, clients=self.crm_clients)

    def derived_key(self, purpose: str) -> bytes:
        """A key for one purpose, derived from the token signing secret (one secret to rotate)."""
        secret = self.settings.token_signing_key.get_secret_value().encode()
        return hashlib.sha256(f"{purpose}|".encode() + secret).digest()

    @cached_property
    def importer(self) -> CampaignImporter:
        from oie.links.service import CampaignImporter

        return CampaignImporter(
            tenants=self.tenants,
            campaigns=self.campaigns,
            links=self.links,
            leads=self.leads,
            profiles=self.profiles,
            warehouse=self.warehouse,
            secrets=self.secrets,
            clock=self.clock,
        )

    def close(self) -> None:
        """Release what was built: the DuckDB file, the Firestore channel, the task dispatcher."""
        built = vars(self)
        if "tasks" in built and hasattr(self.tasks, "stop"):
            self.tasks.stop()
        if "warehouse" in built and hasattr(self.warehouse, "close"):
            self.warehouse.close()
        if "firestore" in built:
            self.firestore.close()


_lock = threading.Lock()
_current: Container | None = None


def container() -> Container:
    """The process's container, built from the environment on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Container(get_settings())
        return _current


def use(new: Container | None) -> None:
    """Replace the process's container (tests, the local stack); None rebuilds from settings."""
    global _current
    with _lock:
        _current = new
