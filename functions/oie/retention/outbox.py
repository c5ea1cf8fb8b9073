"""The local outbox (`OutboxMailer`'s .eml files): an erasure deletes every file sent to the address."""

from __future__ import annotations

from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path


class OutboxFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def forget(self, email: str) -> int:
        """Delete the messages addressed to `email` (any case); how many there were."""
        if not self.folder.is_dir():
            return 0
        parser = BytesHeaderParser(policy=policy.default)
        removed = 0
        for path in sorted(self.folder.glob("*.eml")):
            with path.open("rb") as file:
                headers = parser.parse(file)
            recipients = getaddresses([str(v) for k in ("To", "Cc", "Bcc") for v in headers.get_all(k, [])])
            if any(address.strip().lower() == email for _, address in recipients):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
