"""Every mail we send is rendered here, in English or Simplified Chinese, with a plain-text and
an HTML part, and times in the account's own time zone."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from renewal.domain.orders import Order


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def _local(moment: datetime | None, time_zone: str) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M %Z")


def _money(amount: int, currency: str) -> str:
    from renewal.domain.countries import CURRENCY_EXPONENTS

    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{amount / 10**exponent:,.{exponent}f} {currency}"


_TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "subject": "Your {plan} is active",
        "lines": [
            "Thank you. Your plan is active on your eSIM {iccid}.",
            "Plan: {plan}",
            "Data added: {added} MB",
            "Data now on your line: {balance} MB",
            "Valid until: {expires}",
            "Paid: {paid}",
            "Receipt number: {receipt}",
        ],
    },
    "zh-CN": {
        "subject": "您的{plan}已生效",
        "lines": [
            "感谢您的购买。套餐已在您的 eSIM {iccid} 上生效。",
            "套餐：{plan}",
            "新增流量：{added} MB",
            "当前剩余流量：{balance} MB",
            "有效期至：{expires}",
            "支付金额：{paid}",
            "收据编号：{receipt}",
        ],
    },
}


def confirmation_mail(order: Order, balance_mb: int) -> Mail:
    texts = _TEXTS.get(order.locale, _TEXTS["en"])
    values = {
        "plan": order.plan.name,
        "iccid": order.iccid,
        "added": f"{order.plan.data_mb:,}",
        "balance": f"{balance_mb:,}",
        "expires": _local(order.new_expires_at, order.time_zone),
        "paid": _money(order.amount, order.currency),
        "receipt": order.receipt_no or "-",
    }
    lines = [line.format(**values) for line in texts["lines"]]
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return Mail(
        to=order.email,
        subject=str(texts["subject"]).format(**values),
        text="\n".join(lines) + "\n",
        html=f'<!doctype html><html lang="{order.locale}"><body>{body}</body></html>',
    )
