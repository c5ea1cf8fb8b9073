"""`campaign_step`: Cloud Tasks deliver due steps, engine events and intent signals here.

2xx acknowledges (done, duplicate, superseded, or too broken to ever succeed: logged);
503 asks Cloud Tasks to retry a transient fault.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Request, Response
from pydantic import ValidationError

from oie import deadlines
from oie.campaigns.contracts import EngineEvent, IntentSignal
from oie.campaigns.service import StepPayload
from oie.errors import BackendUnavailable, OieError
from oie.http import error_response, json_response
from oie.logs import get_logger
from oie.wiring import container

log = get_logger(__name__)


@deadlines.serving("campaign_step")
def handle(request: Request) -> Response:
    """Run one step or engine event; 2xx acknowledges, 503 (with Retry-After when known) retries."""
    body: Any = request.get_json(silent=True)
    task = request.headers.get("X-CloudTasks-TaskName", "")
    kind = body.get("kind") if isinstance(body, dict) else None
    try:
        service = container().campaign_service
        if kind == "step":
            outcome = service.run_step(StepPayload.model_validate(body))
        elif kind == "event":
            outcome = service.apply_event(EngineEvent.model_validate(body.get("event")))
        elif kind == "signal":
            outcome = container().signal_service.apply(IntentSignal.model_validate(body.get("signal")))
        else:
            log.error("campaign task acknowledged unread: unknown kind", extra={"task": task, "kind": str(kind)})
            return json_response({"outcome": "ignored", "reason": "unknown kind"})
    except ValidationError as exc:
        log.error("campaign task acknowledged unread: malformed", extra={"task": task, "error": str(exc)[:1000]})
        return json_response({"outcome": "ignored", "reason": "malformed"})
    except BackendUnavailable as exc:
        log.warning("campaign task will be retried", extra={"task": task, "error": exc.message})
        # Cloud Tasks honours Retry-After on 503/429: a provider's rate-limit reset, when it gave one.
        retry_after = getattr(exc, "retry_after", None)
        return error_response(exc, {"Retry-After": str(math.ceil(retry_after))} if retry_after else None)
    except OieError as exc:
        log.error("campaign task cannot succeed; acknowledged", extra={"task": task, "error": exc.message})
        return json_response({"outcome": "ignored", "reason": exc.code})
    log.info("campaign task", extra={"task": task, "kind": kind, "outcome": outcome})
    return json_response({"outcome": outcome})
