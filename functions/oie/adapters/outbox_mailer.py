"""The local mailer: every message becomes an .eml file a person can open."""

from __future__ import annotations

import json
import re
from email import policy
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

from oie.ports import OutboundEmail


class OutboxMailer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, email: OutboundEmail) -> str:
        # Long structured headers (List-Unsubscribe URLs) must stay as written: the default
        # policy would fold them into RFC 2047 encoded words, which mail clients do not decode there.
        message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
        message["Message-ID"] = f"<{email.message_id}@outbox.local>"
        message["From"] = formataddr((email.from_name, email.from_email))
        message["To"] = formataddr((email.to_name, email.to_email))
        message["Subject"] = email.subject
        if email.reply_to:
            message["Reply-To"] = email.reply_to
        for name, value in email.headers.items():
            message[name] = value
        message["X-OIE-Custom-Args"] = json.dumps(email.custom_args, sort_keys=True)
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        self.folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", email.message_id)
        (self.folder / f"{safe}.eml").write_bytes(bytes(message))
        return f"outbox-{safe}"
