"""Sender verification as SendGrid knows it (`GET /v3/verified_senders`), asked once per listing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class SendGridSenderStates:
    mailer: Any  # oie.adapters.sendgrid_mailer.SendGridMailer

    def states(self) -> dict[str, str]:
        return {s.from_email.strip().lower(): s.verification for s in self.mailer.verified_senders()}
