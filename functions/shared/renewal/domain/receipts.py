"""The printable receipt page (HTML), from an order's receipt data: in the customer's language
(en, zh-CN), statuses in words, the seller (ours online, the store's at a counter) with its tax
number, staff by name, and printable on a phone-width page."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from renewal.domain.mail import REGION_NAMES, money
from renewal.domain.orders import Order
from renewal.domain.timeutil import local_time


@dataclass(frozen=True)
class Seller:
    """Who sold it, as a receipt must name them."""

    name: str
    address: str
    tax_id: str

    def view(self) -> dict[str, str]:
        return {"name": self.name, "address": self.address, "tax_id": self.tax_id}


_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Receipt",
        "seller": "Seller",
        "tax_id": "Tax number",
        "receipt": "Receipt",
        "order": "Order",
        "line": "Line (ICCID)",
        "store": "Store",
        "staff": "Served by",
        "plan": "Plan",
        "plan_detail": "{data}, {days}",
        "day": "1 day",
        "days": "{n} days",
        "amount": "Amount",
        "cash": "Cash received",
        "change": "Change",
        "refunded": "Refunded",
        "void_reason": "Void reason",
        "taken_back": "Taken back",
        "taken_back_detail": "{data}, {hours} hours of validity",
        "dispute": "Dispute",
        "status": "Status",
        "paid": "Paid",
        "activated": "Activated",
        "valid_until": "{region} plan valid until",
        "valid_for": "Valid for",
        "valid_for_detail": "{days} once the plan is active",
        "print": "Print",
        "status.pending": "Waiting for payment",
        "status.paid": "Paid",
        "status.activated": "Active",
        "status.expired": "Not paid",
        "status.failed": "Failed",
        "status.refunded": "Refunded",
        "status.voided": "Voided",
        "status.review": "Under review",
        "dispute.won": "Closed in your favour",
        "dispute.lost": "Lost",
        "dispute.open": "Open",
    },
    "zh-CN": {
        "title": "收据",
        "seller": "销售方",
        "tax_id": "税号",
        "receipt": "收据编号",
        "order": "订单",
        "line": "号码 (ICCID)",
        "store": "门店",
        "staff": "经办人",
        "plan": "套餐",
        "plan_detail": "{data}，{days}",
        "day": "1 天",
        "days": "{n} 天",
        "amount": "金额",
        "cash": "收到现金",
        "change": "找零",
        "refunded": "已退款",
        "void_reason": "作废原因",
        "taken_back": "已扣回",
        "taken_back_detail": "{data}，{hours} 小时有效期",
        "dispute": "争议",
        "status": "状态",
        "paid": "付款时间",
        "activated": "生效时间",
        "valid_until": "{region}套餐有效期至",
        "valid_for": "有效期",
        "valid_for_detail": "生效后 {days}",
        "print": "打印",
        "status.pending": "待付款",
        "status.paid": "已付款",
        "status.activated": "已生效",
        "status.expired": "未付款",
        "status.failed": "失败",
        "status.refunded": "已退款",
        "status.voided": "已作废",
        "status.review": "审核中",
        "dispute.won": "已胜诉",
        "dispute.lost": "已败诉",
        "dispute.open": "处理中",
    },
}

_STYLE = (
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,sans-serif;max-width:34em;margin:0 auto;padding:1.25rem;line-height:1.4;"
    "overflow-wrap:anywhere}"
    "h1{font-size:1.4rem;margin:0 0 .5rem}.seller{margin:0 0 1rem;color:#444}"
    "table{width:100%;border-collapse:collapse}th,td{text-align:left;vertical-align:top;padding:.3rem 0;"
    "border-bottom:1px solid #ddd}th{padding-right:1em;width:40%}"
    "@media print{button{display:none}body{padding:0}@page{margin:12mm}}"
)


def language(locale: str | None) -> str:
    return "zh-CN" if (locale or "").lower().startswith("zh") else "en"


def asked_language(accept_language: str | None) -> str | None:
    """The receipt language a client asks for with Accept-Language (its first choice, when it is
    one we write), else None: the order's own language."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip().lower()
    if first.startswith("zh"):
        return "zh-CN"
    return "en" if first.startswith("en") else None


def status_words(status: str, locale: str) -> str:
    texts = _TEXTS[language(locale)]
    return texts.get(f"status.{status}", status.replace("_", " "))


def _data(mb: int) -> str:
    return f"{mb / 1024:g} GB" if mb >= 1024 else f"{mb:,} MB"


def receipt_html(order: Order, seller: Seller, *, staff_name: str | None = None, locale: str | None = None) -> str:
    """The receipt in the order's time zone (the customer's, or the store's) and in `locale`, by
    default the order's language (the customer's)."""
    lang = language(locale or order.locale)
    texts = _TEXTS[lang]

    def local(value: datetime | None) -> str:
        return local_time(value, order.time_zone)

    def days(n: int) -> str:
        return texts["day"] if n == 1 else texts["days"].format(n=n)

    region = REGION_NAMES[lang].get(order.plan.region, order.plan.region)
    plan_name = order.plan.name if lang == "en" else f"{region} {_data(order.plan.data_mb)}"
    rows: list[tuple[str, Any]] = [
        (texts["receipt"], order.receipt_no),
        (texts["order"], order.order_id),
        (texts["line"], order.iccid),
        *([(texts["store"], order.store_id)] if order.store_id else []),
        *([(texts["staff"], staff_name)] if order.store_id and staff_name else []),
        (
            texts["plan"],
            f"{plan_name} ("
            + texts["plan_detail"].format(data=_data(order.plan.data_mb), days=days(order.plan.validity_days))
            + ")",
        ),
        (texts["amount"], money(order.amount, order.currency)),
        *(
            [
                (texts["cash"], money(order.cash_received, order.currency)),
                (texts["change"], money(order.cash_received - order.amount, order.currency)),
            ]
            if order.cash_received is not None
            else []
        ),
        *([(texts["refunded"], money(order.refunded_amount, order.currency))] if order.refunded_amount else []),
        *([(texts["void_reason"], order.void_reason)] if order.void_reason else []),
        *(
            [
                (
                    texts["taken_back"],
                    texts["taken_back_detail"].format(
                        data=_data(order.taken_back_mb), hours=f"{order.taken_back_s // 3600:,}"
                    ),
                )
            ]
            if order.taken_back_mb or order.taken_back_s
            else []
        ),
        *(
            [(texts["dispute"], texts.get(f"dispute.{order.dispute_status}", texts["dispute.open"]))]
            if order.dispute_status
            else []
        ),
        (texts["status"], status_words(order.status, lang)),
        (texts["paid"], local(order.paid_at)),
        (texts["activated"], local(order.activated_at)),
        # The expiry of the region's bundle this plan extended; before activation (a receipt
        # printed at the counter right after the sale) what the plan will give.
        (
            (texts["valid_until"].format(region=region), local(order.new_expires_at))
            if order.new_expires_at
            else (texts["valid_for"], texts["valid_for_detail"].format(days=days(order.plan.validity_days)))
        ),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    seller_lines = "<br>".join(
        html.escape(part)
        for part in (seller.name, seller.address, f"{texts['tax_id']}: {seller.tax_id}" if seller.tax_id else "")
        if part
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(texts['title'])} {html.escape(str(order.receipt_no))}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f'<h1>{html.escape(texts["title"])}</h1><p class="seller" aria-label="{html.escape(texts["seller"])}">'
        f"{seller_lines}</p><table>{body}</table>"
        f'<button onclick="print()">{html.escape(texts["print"])}</button></body></html>'
    )
