"""The hosted Checkout page (HTML) served at a session's ``url``."""

from __future__ import annotations

from html import escape
from typing import Any

from .objects import format_amount

OUTCOMES = ("succeeded", "declined", "async_succeeded", "async_failed")
_BUTTONS = (
    ("succeeded", "Pay"),
    ("declined", "Decline"),
    ("async_succeeded", "Pay later (async success)"),
    ("async_failed", "Pay later (async failure)"),
)

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1f36;
overflow-wrap:anywhere}
@media (max-width:480px){body{margin:1rem auto}.card{padding:1rem}.amount{font-size:1.6rem}}
.card{border:1px solid #e3e8ee;border-radius:8px;padding:1.5rem}
.amount{font-size:2rem;font-weight:600;margin:.5rem 0}
.error{background:#fde8e8;color:#9b1c1c;padding:.75rem;border-radius:6px}
button{display:block;width:100%;margin:.5rem 0;padding:.7rem;font-size:1rem;border-radius:6px;
border:1px solid #635bff;background:#635bff;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#635bff}
small{color:#697386}
"""


def _wrap(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><div class="card">{body}</div>'
        "<p><small>Stripe stand-in (local test double). No real payment is made.</small></p>"
        "</body></html>"
    )


def checkout_page(session: dict[str, Any], items: list[dict[str, Any]], error: str | None = None) -> str:
    currency = str(session.get("currency") or "usd")
    rows = "".join(
        f'<li data-line-item="{escape(str(i["id"]))}">{escape(str(i["description"]))} &times; {int(i["quantity"])}'
        f" &mdash; {escape(format_amount(int(i['amount_total']), currency))}</li>"
        for i in items
    )
    plan = escape(str(items[0]["description"])) if items else "Checkout"
    total = escape(format_amount(int(session.get("amount_total") or 0), currency))
    err = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    secondary = ' class="secondary"'
    buttons = "".join(
        f'<button type="submit" name="outcome" value="{v}"{secondary if v != "succeeded" else ""}>'
        f"{escape(label)}</button>"
        for v, label in _BUTTONS
    )
    cancel = session.get("cancel_url")
    back = f'<p><a href="{escape(str(cancel))}">&larr; Back</a></p>' if cancel else ""
    email = session.get("customer_email")
    who = f"<p><small>Paying as {escape(str(email))}</small></p>" if email else ""
    body = (
        f'{back}<h1 id="plan">{plan}</h1>'
        f'<p class="amount" id="amount" data-amount="{int(session.get("amount_total") or 0)}"'
        f' data-currency="{escape(currency)}">{total}</p>'
        f"<ul>{rows}</ul>{who}{err}"
        f'<form method="post" action="{escape(str(session.get("url") or ""))}">{buttons}</form>'
        f"<p><small>Session {escape(str(session['id']))}</small></p>"
    )
    return _wrap(f"Pay {plan}", body)


def message_page(title: str, message: str) -> str:
    return _wrap(title, f'<h1>{escape(title)}</h1><p id="message">{escape(message)}</p>')
