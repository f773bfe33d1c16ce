"""The printable receipt page (HTML), from an order's receipt data."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from renewal.domain.mail import money
from renewal.domain.orders import Order


def receipt_html(order: Order) -> str:
    data = order.receipt()
    zone = ZoneInfo(order.time_zone)

    def local(value: str | None) -> str:
        from renewal.domain.timeutil import from_iso

        return from_iso(value).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if value else "-"

    rows = [
        ("Receipt", data["receipt_no"]),
        ("Order", data["order_id"]),
        ("Line (ICCID)", data["iccid"]),
        *([("Store", order.store_id), ("Staff", order.staff_id)] if order.store_id else []),
        ("Plan", f"{order.plan.name} ({order.plan.data_mb:,} MB, {order.plan.validity_days} days)"),
        ("Amount", money(order.amount, order.currency)),
        *(
            [
                ("Cash received", money(order.cash_received, order.currency)),
                ("Change", money(order.cash_received - order.amount, order.currency)),
            ]
            if order.cash_received is not None
            else []
        ),
        ("Refunded", money(order.refunded_amount, order.currency) if order.refunded_amount else "-"),
        *([("Void reason", order.void_reason)] if order.void_reason else []),
        *(
            [("Taken back", f"{order.taken_back_mb:,} MB, {order.taken_back_s // 3600:,} hours of validity")]
            if order.taken_back_mb or order.taken_back_s
            else []
        ),
        *([("Dispute", order.dispute_status)] if order.dispute_status else []),
        ("Status", order.status),
        ("Paid", local(data["paid_at"])),
        ("Activated", local(data["activated_at"])),
        ("Line valid until", local(data["new_expires_at"])),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Receipt '
        f"{html.escape(str(data['receipt_no']))}</title>"
        "<style>body{font-family:sans-serif;max-width:32em;margin:2em auto}"
        "th{text-align:left;padding-right:1em}@media print{button{display:none}}</style></head><body>"
        f'<h1>Receipt</h1><table>{body}</table><button onclick="print()">Print</button></body></html>'
    )
