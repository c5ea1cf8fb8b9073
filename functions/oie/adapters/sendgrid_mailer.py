"""SendGrid's v3 mail send, through the official client."""

from __future__ import annotations

from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Content, CustomArg, Email, Header, IpPoolName, Mail, ReplyTo, To

from oie.errors import BackendUnavailable, InputError
from oie.ports import OutboundEmail


def build_mail(email: OutboundEmail) -> Mail:
    """The SendGrid request for one message: custom args map its events back to us."""
    mail = Mail(
        from_email=Email(email.from_email, email.from_name or None),
        to_emails=To(email.to_email, email.to_name or None),
        subject=email.subject,
    )
    mail.add_content(Content("text/plain", email.text))
    mail.add_content(Content("text/html", email.html))
    if email.reply_to:
        mail.reply_to = ReplyTo(email.reply_to)
    for name, value in email.headers.items():
        mail.add_header(Header(name, value))
    for key, value in {**email.custom_args, "oie_message_id": email.message_id}.items():
        mail.add_custom_arg(CustomArg(key, value))
    if email.ip_pool:
        mail.ip_pool_name = IpPoolName(email.ip_pool)
    return mail


class SendGridMailer:
    def __init__(self, api_key: str, host: str = "https://api.sendgrid.com") -> None:
        self.client = SendGridAPIClient(api_key=api_key, host=host)

    def send(self, email: OutboundEmail) -> str:
        try:
            response = self.client.send(build_mail(email))
        except http_errors.HTTPError as exc:
            status = getattr(exc, "status_code", 0)
            if status == 429 or status >= 500:
                raise BackendUnavailable(f"sendgrid answered {status}") from exc
            raise InputError(f"sendgrid refused the message ({status}): {exc.body!r}") from exc
        return str(response.headers.get("X-Message-Id", ""))
