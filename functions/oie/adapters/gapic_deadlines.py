"""Google API clients whose every call ends within the budget oie.deadlines gives it.

A generated (GAPIC) client looks each RPC up in its transport's `_wrapped_methods`;
wrapping those once, where the client is built, bounds every call site at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from google.api_core.gapic_v1.method import DEFAULT

from oie import deadlines


class UntilDeadline:
    """api_core's per-attempt timeout, as whatever is left until one deadline.

    (api_core's own TimeToDeadlineTimeout restarts from the full timeout once less than
    a second is left, which would let retries run past a short budget.)
    """

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def with_timeout(*args: Any, **kwargs: Any) -> Any:
            kwargs["timeout"] = max(self._deadline - time.monotonic(), 0.001)
            return func(*args, **kwargs)

        return with_timeout


class Bounded:
    """One wrapped RPC whose retries and attempts all end within the current budget of `kind`."""

    def __init__(self, method: Any, kind: deadlines.Kind) -> None:
        self._method = method
        self._kind: deadlines.Kind = kind
        # Firestore's Query.stream reads the default retry's predicate here to resume streams.
        self._retry = getattr(method, "_retry", None)

    def __call__(self, *args: Any, timeout: Any = DEFAULT, retry: Any = DEFAULT, **kwargs: Any) -> Any:
        # Call sites' own timeouts were per attempt, under a retry of minutes: the budget decides.
        budget = deadlines.seconds(self._kind)
        retry = self._retry if retry is DEFAULT else retry
        if retry is not None:
            retry = retry.with_timeout(budget)
        return self._method(*args, timeout=UntilDeadline(time.monotonic() + budget), retry=retry, **kwargs)


class _Stub:
    """A gRPC stub that also carries its wrapped method's retry.

    Firestore's `Query.stream` decides whether to resume after an error mid-stream by reading
    `transport.run_query._retry`; a raw gRPC stub has no such attribute, so the error became an
    AttributeError (a 500) instead of the outage it is.
    """

    __slots__ = ("_retry", "_stub")

    def __init__(self, stub: Any, retry: Any) -> None:
        self._stub = stub
        self._retry = retry

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._stub(*args, **kwargs)


def bound_transport(transport: Any, kind: deadlines.Kind) -> None:
    """Wrap every RPC of a GAPIC transport in `Bounded` (idempotent)."""
    wrapped = {
        stub: method if isinstance(method, Bounded) else Bounded(method, kind)
        for stub, method in transport._wrapped_methods.items()
    }
    stubs: dict[str, Any] = getattr(transport, "_stubs", {})  # gRPC transports only
    for name, stub in list(stubs.items()):
        retry = getattr(wrapped.get(stub), "_retry", None)
        if stub in wrapped and retry is not None and not isinstance(stub, _Stub):
            # The client finds each method by its stub: the carrier replaces it under both names.
            stubs[name] = carrier = _Stub(stub, retry)
            wrapped[carrier] = wrapped.pop(stub)
    transport._wrapped_methods = wrapped
