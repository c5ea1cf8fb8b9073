"""The language-model port: one prompt in, one generation (text and token counts) out.

Adapters raise ModelUnavailable when the model could not answer in time (timeouts, 429s and
5xx after their retries) and ModelRefused when it refused the request itself (other 4xx);
the planner falls back to the template plan on either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from oie.errors import BackendUnavailable, OieError


@dataclass(frozen=True)
class GenerationRequest:
    """What one model call sends: the prompt, the JSON Schema the answer must follow, limits."""

    prompt: str
    response_schema: dict[str, Any]
    system: str = ""
    max_output_tokens: int = 4096
    temperature: float = 0.4


@dataclass(frozen=True)
class Generation:
    """What the model answered, with the usage it reported and how long the call took."""

    text: str
    prompt_tokens: int
    output_tokens: int
    model: str
    latency: float
    finish_reason: str = ""
    attempts: int = 1


class ModelUnavailable(BackendUnavailable):
    """The model did not answer within the deadline (timeouts, 429s, 5xx after retries)."""

    code = "model_unavailable"


class ModelRefused(OieError):
    """The model API refused the request (a 4xx other than 429): retrying would not help."""

    code = "model_refused"


class LanguageModel(Protocol):
    def generate(self, request: GenerationRequest) -> Generation:
        """One generation within the call's deadline; raises ModelUnavailable or ModelRefused."""
        ...
