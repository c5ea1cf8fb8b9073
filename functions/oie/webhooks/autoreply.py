"""Recognising automatic replies (out of office, vacation, autoresponders), which are not replies.

Headers first (RFC 3834 `Auto-Submitted`, Exchange's `X-Auto-Response-Suppress`, the
de-facto `X-Autoreply` / `X-Autorespond`, `Precedence`), then subject lines in the
languages B2B outreach meets most.
"""

from __future__ import annotations

import re
from email.message import Message

_SUBJECTS = re.compile(
    r"^\s*(?:"
    r"out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|away from (?:the )?office"
    r"|on vacation|vacation reply|abwesenheit|automatische antwort|abwesenheitsnotiz|au[ßs]er haus"
    r"|r[ée]ponse automatique|absence|absent du bureau|respuesta autom[áa]tica|fuera de la oficina"
    r"|risposta automatica|fuori sede|fuori ufficio|automatisch antwoord|afwezig|niet aanwezig"
    r"|resposta autom[áa]tica|fora do escrit[óo]rio|automatyczna odpowied[źz]|autosvar|automatisk svar"
    r")\s*(?:[:(\-\u2013]|$)",  # "Out of Office: …", not a person's "out of office software"
    re.IGNORECASE,
)


def auto_reply_reasons(headers: Message, subject: str) -> list[str]:
    """Why a message looks automatic; empty for a message a person wrote."""
    reasons = []
    submitted = (headers.get("Auto-Submitted") or "").strip().lower()
    if submitted and submitted != "no":
        reasons.append(f"auto_submitted:{submitted.split(';')[0]}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if headers.get(name):
            reasons.append(name.lower())
    precedence = (headers.get("Precedence") or "").strip().lower()
    if precedence in ("auto_reply", "bulk", "junk", "list"):
        reasons.append(f"precedence:{precedence}")
    if _SUBJECTS.match(subject):
        reasons.append("subject")
    return reasons
