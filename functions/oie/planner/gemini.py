"""The google-genai adapter of the language-model port: Vertex AI Gemini, or a local server.

Production authenticates as the function's service account (ADC). Locally and in tests the
same SDK, in the same Vertex mode and URL layout, talks to `oie.devstack.gemini_server` with
a static token. The SDK's own retries are off: this adapter retries 429s, 5xx and timeouts
with back-off (honouring Retry-After) inside the call's total deadline from oie.deadlines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types

from oie import deadlines
from oie.planner.model import Generation, GenerationRequest, ModelRefused, ModelUnavailable

RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0
_NO_SDK_RETRIES = types.HttpRetryOptions(attempts=1)


def vertex_client(project: str, location: str) -> genai.Client:
    """Vertex AI as the process's service account; nothing is fetched until the first call."""
    return genai.Client(
        vertexai=True, project=project, location=location, http_options=types.HttpOptions(retry_options=_NO_SDK_RETRIES)
    )


def local_client(base_url: str, project: str, location: str) -> genai.Client:
    """The same Vertex-mode SDK pointed at a local server, with a static token instead of ADC."""
    from google.oauth2.credentials import Credentials

    return genai.Client(
        vertexai=True,
        project=project,
        location=location,
        credentials=Credentials(token="local-gemini"),  # type: ignore[no-untyped-call]
        http_options=types.HttpOptions(base_url=base_url, retry_options=_NO_SDK_RETRIES),
    )


def retry_after(exc: errors.APIError) -> float | None:
    """Seconds the API asked us to wait: a Retry-After header, or RetryInfo's retryDelay ("2s")."""
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
    details = (exc.details or {}).get("error", {}).get("details", []) if isinstance(exc.details, dict) else []
    for detail in details:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(detail.get("retryDelay", "")))
        if match:
            return float(match.group(1))
    return None


class GeminiModel:
    """LanguageModel on google-genai's `models.generate_content` with structured JSON output."""

    def __init__(
        self,
        client: genai.Client,
        model: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._model = model
        self._sleep = sleep
        self._monotonic = monotonic

    def generate(self, request: GenerationRequest) -> Generation:
        budget = deadlines.seconds("http")
        started = self._monotonic()
        ends_at = started + budget
        backoff = FIRST_BACKOFF
        attempt = 0
        while True:
            attempt += 1
            left = ends_at - self._monotonic()
            if left <= 0.05:
                raise ModelUnavailable(f"the model did not answer within {budget:.0f} s ({attempt - 1} attempts)")
            try:
                response = self._client.models.generate_content(
                    model=self._model, contents=request.prompt, config=self._config(request, left)
                )
            except errors.APIError as exc:
                if exc.code not in RETRIED_STATUSES:
                    raise ModelRefused(f"the model refused the request ({exc.code} {exc.status})") from exc
                wait = retry_after(exc)
                reason = f"{exc.code} {exc.status}"
            except (httpx2.TimeoutException, httpx2.TransportError) as exc:
                wait, reason = None, type(exc).__name__
            else:
                return self._generation(response, self._monotonic() - started, attempt)
            wait = backoff if wait is None else wait
            backoff = min(backoff * 2, MAX_BACKOFF)
            if self._monotonic() + wait >= ends_at:
                raise ModelUnavailable(f"the model is unavailable ({reason}) and the {budget:.0f} s deadline is near")
            self._sleep(wait)

    def _config(self, request: GenerationRequest, left: float) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            system_instruction=request.system or None,
            response_mime_type="application/json",
            response_json_schema=request.response_schema,
            max_output_tokens=request.max_output_tokens,
            temperature=request.temperature,
            # Per attempt: what is left of the total deadline (the SDK takes milliseconds).
            http_options=types.HttpOptions(timeout=max(int(left * 1000), 1), retry_options=_NO_SDK_RETRIES),
        )

    def _generation(self, response: types.GenerateContentResponse, latency: float, attempts: int) -> Generation:
        usage = response.usage_metadata
        candidate = response.candidates[0] if response.candidates else None
        finish: Any = candidate.finish_reason if candidate else None
        return Generation(
            text=response.text or "",
            prompt_tokens=(usage.prompt_token_count or 0) if usage else 0,
            output_tokens=(usage.candidates_token_count or 0) if usage else 0,
            model=response.model_version or self._model,
            latency=latency,
            finish_reason=str(getattr(finish, "value", finish) or ""),
            attempts=attempts,
        )
