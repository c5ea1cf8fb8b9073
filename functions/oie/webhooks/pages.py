"""The unsubscribe pages: plain HTML, one form, no script, no cookie (RFC 8058 needs neither)."""

from __future__ import annotations

import html

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}
button{{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:.4rem;background:#222;color:#fff;cursor:pointer}}
</style></head><body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), body=body)


def confirm(token: str) -> str:
    # No address on the page: whoever the email was forwarded to must not learn whose it was.
    return page(
        "Unsubscribe",
        "<p>Stop these emails to the address this message was sent to?</p>"
        f'<form method="post" action="?t={html.escape(token, quote=True)}">'
        '<input type="hidden" name="confirm" value="yes"><button type="submit">Unsubscribe</button></form>',
    )


def done() -> str:
    return page("You are unsubscribed", "<p>This address will not receive these emails again.</p>")


def invalid() -> str:
    return page("This link is not valid", "<p>The unsubscribe link is incomplete or was changed. Nothing was done.</p>")
