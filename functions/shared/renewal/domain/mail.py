"""Every mail we send is rendered here, in English or Simplified Chinese, with a plain-text and
an HTML part, and times in the account's own time zone."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from renewal.domain.orders import Order
from renewal.domain.timeutil import local_time


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


def money(amount: int, currency: str) -> str:
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
        "added": f"{order.credited_mb if order.credited_mb is not None else order.plan.data_mb:,}",
        "balance": f"{balance_mb:,}",
        "expires": local_time(order.new_expires_at, order.time_zone),
        "paid": money(order.amount, order.currency),
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


# ------------------------------------------------------------------ reminders and alerts
REGION_NAMES: dict[str, dict[str, str]] = {
    "en": {"EU": "Europe", "ASIA": "Asia", "NA": "North America", "GLOBAL": "Global", "JP": "Japan"},
    "zh-CN": {"EU": "欧洲", "ASIA": "亚洲", "NA": "北美", "GLOBAL": "全球", "JP": "日本"},
}

_REMINDER_TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "expiring_subject": "Your {region} plan ends in {left}",
        "expiring_lines": [
            "Your {region} data plan on eSIM {iccid} ends on {expires} ({left} from now).",
            "Data left: {remaining} MB",
            "Renew now to keep your line active: {renew_url}",
        ],
        "expired_subject": "Your eSIM plan has expired",
        "expired_lines": [
            "The last plan on your eSIM {iccid} ended on {expires}; the line has no data now.",
            "Renew to get back online: {renew_url}",
            "A line left without a plan for 180 days can no longer be renewed.",
        ],
        "low_subject": "You have used {percent}% of your {region} data",
        "low_lines": [
            "You have used {percent}% of the data on your {region} plan on eSIM {iccid}.",
            "Data left: {remaining} MB, valid until {expires}.",
            "Top up before it runs out: {renew_url}",
        ],
        "days": lambda n: "1 day" if n == 1 else f"{n} days",
        "hours": lambda n: "1 hour" if n == 1 else f"{n} hours",
    },
    "zh-CN": {
        "expiring_subject": "您的{region}套餐将在{left}后到期",
        "expiring_lines": [
            "您的 eSIM {iccid} 上的{region}流量套餐将于 {expires} 到期（还剩{left}）。",
            "剩余流量：{remaining} MB",
            "立即续订，保持线路可用：{renew_url}",
        ],
        "expired_subject": "您的 eSIM 套餐已到期",
        "expired_lines": [
            "您的 eSIM {iccid} 上的最后一个套餐已于 {expires} 到期，线路目前没有可用流量。",
            "续订即可恢复上网：{renew_url}",
            "线路无套餐满 180 天后将无法续订。",
        ],
        "low_subject": "您的{region}流量已使用 {percent}%",
        "low_lines": [
            "您的 eSIM {iccid} 上的{region}套餐流量已使用 {percent}%。",
            "剩余流量：{remaining} MB，有效期至 {expires}。",
            "请在用完之前续订：{renew_url}",
        ],
        "days": lambda n: f"{n} 天",
        "hours": lambda n: f"{n} 小时",
    },
}


@dataclass(frozen=True)
class ReminderFacts:
    """What a reminder or alert tells: filled in by the sender from the line and the account."""

    kind: str  # expires_in_<n>d | expires_in_<n>h | expired | data_used_<percent>
    to: str
    locale: str
    time_zone: str
    iccid: str
    region: str  # the bundle's region; "*" for the whole line
    remaining_mb: int
    expires_at: datetime
    renew_url: str
    as_of: datetime  # the run's time: "ends in ..." counts from it


def _time_left(left: timedelta, texts: dict[str, Any]) -> str:
    """What is left, as a person would say it: whole days from a day on, else whole hours (a run
    on the daily schedule can find a "7 days" threshold with 6 days 20 hours to go)."""
    if left >= timedelta(days=1):
        return str(texts["days"](int((left + timedelta(hours=12)) // timedelta(days=1))))
    return str(texts["hours"](max(1, math.ceil(left / timedelta(hours=1)))))


def reminder_mail(facts: ReminderFacts) -> Mail:
    """The one renderer of reminders and alerts: subject, plain text and HTML, in the account's
    language and time zone, always with the renew link."""
    locale = facts.locale if facts.locale in _REMINDER_TEXTS else "en"
    texts = _REMINDER_TEXTS[locale]
    values: dict[str, Any] = {
        "region": REGION_NAMES[locale].get(facts.region, facts.region),
        "iccid": facts.iccid,
        "remaining": f"{facts.remaining_mb:,}",
        "expires": local_time(facts.expires_at, facts.time_zone),
        "renew_url": facts.renew_url,
    }
    if facts.kind == "expired":
        section = "expired"
    elif facts.kind.startswith("data_used_"):
        section = "low"
        values["percent"] = facts.kind.removeprefix("data_used_")
    elif facts.kind.startswith("expires_in_"):
        section = "expiring"
        values["left"] = _time_left(facts.expires_at - facts.as_of, texts)
    else:
        raise ValueError(f"no mail for reminder kind {facts.kind!r}")
    lines = [line.format(**values) for line in texts[f"{section}_lines"]]
    link = html.escape(facts.renew_url, quote=True)
    anchor = '<a href="' + link + '">' + link + "</a>"
    body = "".join("<p>" + html.escape(line).replace(link, anchor) + "</p>" for line in lines)
    return Mail(
        to=facts.to,
        subject=str(texts[f"{section}_subject"]).format(**values),
        text="\n".join(lines) + "\n",
        html=f'<!doctype html><html lang="{locale}"><body>{body}</body></html>',
    )


# ------------------------------------------------------------------ refunds, voids, lost disputes
_TAKE_BACK_TEXTS: dict[str, dict[str, Any]] = {
    "en": {
        "subject": {
            "refund": "Your refund for {plan}",
            "void": "Your store purchase of {plan} was cancelled",
            "dispute": "Your payment for {plan} was reversed",
        },
        "first": {
            "refund": "We refunded {amount} of your order {receipt} ({plan}).",
            "void": "The store cancelled your purchase {receipt} ({plan}); {amount} was given back.",
            "dispute": "Your bank reversed {amount} of your order {receipt} ({plan}).",
        },
        "lines": [
            "Taken back from your eSIM {iccid}: {taken_mb} MB and {taken_time} of validity.",
            "Left on your line for this region: {left_mb} MB, valid until {left_until}.",
        ],
        "nothing_left": "Left on your line for this region: no data.",
        "days": lambda n: "1 day" if n == 1 else f"{n} days",
        "hours": lambda n: "1 hour" if n == 1 else f"{n} hours",
    },
    "zh-CN": {
        "subject": {
            "refund": "您的{plan}退款",
            "void": "您在门店购买的{plan}已取消",
            "dispute": "您的{plan}付款已被撤回",
        },
        "first": {
            "refund": "我们已为您的订单 {receipt}（{plan}）退款 {amount}。",
            "void": "门店已取消您的购买 {receipt}（{plan}），已退还 {amount}。",
            "dispute": "您的银行撤回了订单 {receipt}（{plan}）的 {amount}。",
        },
        "lines": [
            "已从您的 eSIM {iccid} 收回：{taken_mb} MB 流量和{taken_time}有效期。",
            "该地区剩余：{left_mb} MB，有效期至 {left_until}。",
        ],
        "nothing_left": "该地区剩余：无可用流量。",
        "days": lambda n: f"{n} 天",
        "hours": lambda n: f"{n} 小时",
    },
}


def _duration(seconds: int, texts: dict[str, Any]) -> str:
    """Whole days, and the hours beyond them (rounded up), as a person says it."""
    days, rest = divmod(max(0, seconds), 86_400)
    hours = math.ceil(rest / 3600)
    if hours == 24:
        days, hours = days + 1, 0
    parts = ([str(texts["days"](days))] if days else []) + ([str(texts["hours"](hours))] if hours else [])
    return " ".join(parts) if parts else str(texts["hours"](0))


def take_back_mail(order: Order, kind: str, amount: int, taken_mb: int, taken_s: int,
                   left_mb: int, left_until: datetime | None) -> Mail:  # fmt: skip
    """What a refund, a store void or a lost dispute took back, and what is left."""
    locale = order.locale if order.locale in _TAKE_BACK_TEXTS else "en"
    texts = _TAKE_BACK_TEXTS[locale]
    kind = kind if kind in texts["subject"] else "refund"
    values = {
        "plan": order.plan.name,
        "receipt": order.receipt_no or order.order_id,
        "amount": money(amount, order.currency),
        "iccid": order.iccid,
        "taken_mb": f"{taken_mb:,}",
        "taken_time": _duration(taken_s, texts),
        "left_mb": f"{left_mb:,}",
        "left_until": local_time(left_until, order.time_zone),
    }
    lines = [texts["first"][kind].format(**values), texts["lines"][0].format(**values)]
    lines.append(texts["lines"][1].format(**values) if left_until is not None else texts["nothing_left"])
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return Mail(
        to=order.email,
        subject=str(texts["subject"][kind]).format(**values),
        text="\n".join(lines) + "\n",
        html=f'<!doctype html><html lang="{locale}"><body>{body}</body></html>',
    )
