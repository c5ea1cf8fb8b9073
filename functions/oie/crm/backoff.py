"""Back-off on the CRMs' rate limits within one total deadline, and what a job notes when a CRM stops it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from oie.crm.ports import CrmAuthFailed, CrmError, CrmRateLimited, CrmUnavailable
from oie.errors import BackendUnavailable, OieError
from oie.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")
FIRST_WAIT = 1.0
MAX_WAIT = 30.0
# A CRM that does not answer gets this many more tries; a rate limit as many as the deadline allows.
UNAVAILABLE_RETRIES = 2


@dataclass
class Deadline:
    """A sync's budget for every CRM call it makes, waits included."""

    seconds: float
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    waited: float = 0.0
    retries: int = 0
    ends_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.ends_at = self.monotonic() + self.seconds

    def left(self) -> float:
        return self.ends_at - self.monotonic()

    def call(self, call: Callable[[], T], retry_unavailable: bool = True) -> T:
        """Run a CRM call, waiting out rate limits (Retry-After, else doubling) while time is left.

        The last error is raised once the next wait would end past the deadline; no call
        starts after it. `retry_unavailable=False` for a create: a call that got no answer
        may have gone through, so it is not sent again blindly.
        """
        attempt = unavailable = 0
        while True:
            if self.left() <= 0:
                raise CrmUnavailable("the CRM sync's deadline passed before the call")
            try:
                return call()
            except CrmRateLimited as exc:
                wait = exc.retry_after if exc.retry_after is not None else FIRST_WAIT * 2**attempt
                error: Exception = exc
            except CrmUnavailable as exc:
                unavailable += 1
                if not retry_unavailable or unavailable > UNAVAILABLE_RETRIES:
                    raise
                wait, error = FIRST_WAIT * 2**attempt, exc
            wait = min(max(wait, 0.0), MAX_WAIT)
            if wait >= self.left():
                raise error
            self.sleep(wait)
            self.waited += wait
            self.retries += 1
            attempt += 1


def stopped(exc: CrmError | OieError, tenant_id: str, message: str) -> tuple[str, bool]:
    """Log why a tenant's CRM job stopped; its error, and whether it is transient (the next run repeats it).

    A refused token is logged as an error (a person must reconnect); anything else as a warning.
    """
    error = str(exc)
    level = log.error if isinstance(exc, CrmAuthFailed) else log.warning
    level(message, extra={"tenant_id": tenant_id, "error": error})
    return error, isinstance(exc, CrmRateLimited | CrmUnavailable | BackendUnavailable)
