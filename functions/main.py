"""Cloud Function entry points, one per deployed function.

Each handler imports its capability lazily, so a cold start of `go` never pays for
BigQuery jobs or SendGrid, and the module itself imports nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import functions_framework

if TYPE_CHECKING:
    from flask import Request, Response


@functions_framework.errorhandler(404)  # type: ignore[misc]  # functions-framework ships no types for it
def not_routed(error: Exception) -> Response:
    """A path functions-framework's router cannot match (a control character in it) gets the
    same JSON error envelope as every other refusal, not Flask's HTML page."""
    from oie.errors import NotFound
    from oie.http import error_response

    return error_response(NotFound("no such path", field="path"))


@functions_framework.http
def go(request: Request) -> Response:
    """Resolve a tracking id, record the click, redirect to the landing page."""
    from oie.go.http import handle

    return handle(request)


@functions_framework.http
def track(request: Request) -> Response:
    """Accept event batches from the pixel."""
    from oie.track.http import handle

    return handle(request)


@functions_framework.http
def personalize(request: Request) -> Response:
    """Serve a known visitor's whitelisted personalization profile."""
    from oie.personalize.http import handle

    return handle(request)


@functions_framework.http
def outcomes(request: Request) -> Response:
    """Outcome API and admin pages."""
    from oie.outcomes.http import handle

    return handle(request)


@functions_framework.http
def webhooks(request: Request) -> Response:
    """SendGrid event webhooks and inbound replies."""
    from oie.webhooks.http import handle

    return handle(request)


@functions_framework.http
def campaign_step(request: Request) -> Response:
    """Run one due step of one contact's campaign (called by Cloud Tasks)."""
    from oie.campaigns.http import handle

    return handle(request)


@functions_framework.http
def campaign_plan(request: Request) -> Response:
    """Plan one contact with the language model, then start it or queue it for review (Cloud Tasks)."""
    from oie.planner.http import handle

    return handle(request)


@functions_framework.http
def jobs(request: Request) -> Response:
    """Run one registered job now (called by Cloud Scheduler)."""
    from oie.jobs.http import handle

    return handle(request)
