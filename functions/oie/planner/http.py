"""`campaign_plan`: Cloud Tasks deliver one contact's planning task here (queue campaign-planning).

2xx acknowledges: planned and started, queued for review, already done, or too broken to
ever succeed (logged). 503 asks Cloud Tasks to retry: a backend or the model is down, or the
tenant's concurrency cap is reached; the queue's back-off then paces the retries.
"""

from __future__ import annotations

import math

from flask import Request, Response
from pydantic import ValidationError

from oie import deadlines
from oie.errors import BackendUnavailable, OieError, RateLimited
from oie.http import error_response, json_response, read_body
from oie.logs import get_logger
from oie.planner.tasks import PlanningPayload
from oie.wiring import container

log = get_logger(__name__)
MAX_BODY = 256 * 1024  # a payload is one contact and a few ids


@deadlines.serving("campaign_plan")
def handle(request: Request) -> Response:
    """Plan one contact; 2xx acknowledges, 503 (with Retry-After when known) retries."""
    task = request.headers.get("X-CloudTasks-TaskName", "")
    try:
        payload = PlanningPayload.model_validate_json(read_body(request, MAX_BODY))
        outcome = container().planning_tasks.run(payload)
    except ValidationError as exc:
        log.error("planning task acknowledged unread: malformed", extra={"task": task, "error": str(exc)[:1000]})
        return json_response({"outcome": "ignored", "reason": "malformed"})
    except (BackendUnavailable, RateLimited) as exc:
        log.warning("planning task will be retried", extra={"task": task, "error": exc.message})
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(math.ceil(retry_after))} if retry_after else None
        # A concurrency cap is a reason to come back later, not a refusal: 503 so Cloud Tasks retries.
        return error_response(BackendUnavailable(exc.message, field=exc.field), headers)
    except OieError as exc:
        log.error("planning task cannot succeed; acknowledged", extra={"task": task, "error": exc.message})
        return json_response({"outcome": "ignored", "reason": exc.code})
    log.info("planning task", extra={"task": task, "outcome": outcome})
    return json_response({"outcome": outcome})
