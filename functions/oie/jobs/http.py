"""`POST /jobs {"job": name}` from Cloud Scheduler: run one job, 5xx on failure so it retries."""

from __future__ import annotations

from flask import Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from oie import deadlines
from oie.errors import InputError, OieError
from oie.http import error_response, json_response
from oie.jobs.runner import run_job
from oie.logs import get_logger
from oie.wiring import container

log = get_logger(__name__)


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job: str


@deadlines.serving("jobs")
def handle(request: Request) -> Response:
    """Parse, run, answer with what the job reported."""
    if request.method != "POST":
        return Response(status=405, headers={"Allow": "POST"})
    try:
        body = JobRequest.model_validate_json(request.get_data() or b"{}")
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        return error_response(InputError(first["msg"], field=field))
    try:
        result = run_job(body.job, container())
    except OieError as exc:
        return error_response(exc)
    except Exception:
        # Cloud Scheduler retries a 5xx; the run is already recorded as failed in job_runs.
        log.exception("job crashed", extra={"job": body.job})
        return json_response({"error": {"code": "job_failed", "message": f"{body.job} failed"}}, status=500)
    log.info("job ran", extra={"job": body.job, **result})
    return json_response({"job": body.job, **result})
