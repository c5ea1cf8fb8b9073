"""SendGrid's v3 API through the official client: mail send, and the sender identities' state.

What each answer means for a campaign step (oie.campaigns.sending.deliver):

- 2xx: accepted; `X-Message-Id` is the provider id the Event Webhook's `sg_message_id` starts with.
- 400, 413 and other 4xx: this message can never be sent: InputError, recorded as failed.
- 401, 403, 404: our key or host is wrong, not the message: SendGridUnavailable, so the step is
  retried with Cloud Tasks' back-off instead of failing every message until the key is fixed.
- 408, 429, 5xx, and no connection: nothing was sent: SendGridUnavailable (with SendGrid's
  reset time as `retry_after`), retried.
- No answer in time after the request went out: MaybeSent, retried but never sent again.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict
from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, Content, CustomArg, Email, Header, IpPoolName, Mail, ReplyTo, To

from oie import deadlines
from oie.campaigns.sending import MaybeSent
from oie.errors import BackendUnavailable, InputError, OieError
from oie.ports import OutboundEmail

DEFAULT_HOST = "https://api.sendgrid.com"
_RETRIED = frozenset({401, 403, 404, 408, 429})
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SendGridUnavailable(BackendUnavailable):
    """SendGrid did not take the request and asking again later may work."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VerifiedSender(BaseModel):
    """One sender identity of the SendGrid account (`GET /v3/verified_senders`)."""

    model_config = ConfigDict(frozen=True)

    sender_id: int
    from_email: str
    from_name: str = ""
    verified: bool
    locked: bool = False

    @property
    def verification(self) -> Literal["verified", "pending"]:
        """As `SenderIdentity.verification` holds it."""
        return "verified" if self.verified else "pending"


def build_mail(email: OutboundEmail) -> Mail:
    """The SendGrid request for one message: custom args map its events back to us."""
    mail = Mail(
        from_email=Email(email.from_email, email.from_name or None),
        to_emails=To(email.to_email, email.to_name or None),
        subject=email.subject,
    )
    # SendGrid refuses an empty content value (400): a part is sent only when it has text.
    if email.text:
        mail.add_content(Content("text/plain", email.text))
    if email.html:
        mail.add_content(Content("text/html", email.html))
    if email.reply_to:
        mail.reply_to = ReplyTo(email.reply_to)
    for name, value in email.headers.items():
        mail.add_header(Header(name, value))
    for key, value in {**email.custom_args, "oie_message_id": email.message_id}.items():
        mail.add_custom_arg(CustomArg(key, value))
    # Categories are SendGrid's own statistics buckets: kept few (engine, tenant), never per message.
    tenant = email.custom_args.get("tenant_id")
    for category in ("oie", f"tenant-{tenant}") if tenant else ("oie",):
        mail.add_category(Category(category))
    if email.ip_pool:
        mail.ip_pool_name = IpPoolName(email.ip_pool)
    return mail


def _checked_host(host: str) -> str:
    """The API base without a trailing slash; the key only ever travels over TLS (or to this machine)."""
    parts = urlsplit(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS):
        raise ValueError(f"the SendGrid host must be https:// (got {host!r})")
    return host.rstrip("/")


def _retry_after(headers: Any) -> float | None:
    """Seconds until SendGrid takes requests again: `Retry-After`, else its `X-RateLimit-Reset` time."""
    if headers is None:
        return None
    value = headers.get("Retry-After")
    try:
        if value:
            seconds = (
                float(value) if value.strip().isdigit() else parsedate_to_datetime(value).timestamp() - time.time()
            )
        elif headers.get("X-RateLimit-Reset"):
            seconds = float(headers.get("X-RateLimit-Reset")) - time.time()
        else:
            return None
    except (TypeError, ValueError):
        return None
    return min(max(seconds, 1.0), 3600.0)


def _reasons(body: Any) -> str:
    """SendGrid's `{"errors": [{"field", "message"}]}` as one short line."""
    try:
        errors = json.loads(body)["errors"]
        text = "; ".join(f"{e['field']}: {e['message']}" if e.get("field") else str(e["message"]) for e in errors)
    except (TypeError, ValueError, KeyError, AttributeError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return text[:500] or "no details"


def _refusal(exc: http_errors.HTTPError, what: str) -> OieError:
    status = int(getattr(exc, "status_code", 0) or 0)
    reasons = _reasons(getattr(exc, "body", b""))
    if status in _RETRIED or status >= 500:
        return SendGridUnavailable(
            f"sendgrid answered {status} to {what}: {reasons}", retry_after=_retry_after(getattr(exc, "headers", None))
        )
    return InputError(f"sendgrid refused {what} ({status}): {reasons}")


class SendGridMailer:
    """The Mailer port on SendGrid; `host` is SendGrid's (or its EU region's, or a local stand-in)."""

    def __init__(
        self, api_key: str, host: str = DEFAULT_HOST, timeout: float | None = None, page_size: int = 100
    ) -> None:
        if not api_key:
            raise ValueError("a SendGrid API key is needed")  # the library would read SENDGRID_API_KEY instead
        self.client = SendGridAPIClient(api_key=api_key, host=_checked_host(host))
        self.timeout = timeout
        self.page_size = page_size
        # python_http_client logs every request's headers, the API key among them, at DEBUG.
        logging.getLogger("python_http_client").setLevel(logging.INFO)

    def _deadline(self) -> float:
        # urllib applies it to the connect and to each read: with SendGrid's small answers, the call.
        return self.timeout if self.timeout is not None else deadlines.seconds("http")

    def send(self, email: OutboundEmail) -> str:
        body = build_mail(email).get()
        try:
            response = self.client.client.mail.send.post(request_body=body, timeout=self._deadline())
        except http_errors.HTTPError as exc:
            raise _refusal(exc, "the message") from exc
        except urllib.error.URLError as exc:
            # urllib wraps what fails before the request is out (DNS, connect, TLS): nothing was sent.
            raise SendGridUnavailable(f"sendgrid is unreachable ({exc.reason})") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise MaybeSent(f"sendgrid did not answer in time ({exc!r}); the message may have been sent") from exc
        return str(response.headers.get("X-Message-Id", ""))

    def verified_senders(self) -> list[VerifiedSender]:
        """Every sender identity of the account with its verification state, all pages."""
        found: list[VerifiedSender] = []
        last_seen: int | None = None
        while True:
            query: dict[str, int] = {"limit": self.page_size}
            if last_seen is not None:
                query["lastSeenID"] = last_seen
            page = [VerifiedSender.model_validate({**r, "sender_id": r["id"]}) for r in self._get_senders(query)]
            found.extend(page)
            if len(page) < self.page_size or page[-1].sender_id == last_seen:
                return found
            last_seen = page[-1].sender_id

    def _get_senders(self, query: dict[str, int]) -> list[dict[str, Any]]:
        try:
            response = self.client.client.verified_senders.get(query_params=query, timeout=self._deadline())
        except http_errors.HTTPError as exc:
            raise _refusal(exc, "the sender list") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise SendGridUnavailable(f"sendgrid is unreachable ({exc!r})") from exc
        try:
            results = json.loads(response.body)["results"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SendGridUnavailable("sendgrid answered the sender list with something unreadable") from exc
        return [r for r in results if isinstance(r, dict)]
