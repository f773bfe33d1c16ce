"""The eSIM pool (issue 14): signing up takes no line. The write that moves an account's first
order to `paid` (or records a store sale for an account without a line) takes one from the pool:
it gives the account the line only if the account has none, and puts it on the order; a
concurrent payment that loses re-reads the account and uses the line the winner took."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from renewal.domain.errors import Unavailable
from renewal.domain.orders import Order
from renewal.ports import AccountHasLine, Accounts, LineStore, LineTaken, PaysWithLine, SellsWithLine

ATTEMPTS = 10
POOL_PAGE = 25


def _no_line() -> Unavailable:
    return Unavailable("no eSIM lines are free right now; try again later", code="no_lines_available")


def _line_for(accounts: Accounts, lines: LineStore, account_id: str) -> tuple[str, bool]:
    """The account's line (False: not from the pool), or a random pool line to take (True).
    Random, so concurrent first payments of different accounts rarely want the same line."""
    record = accounts.get(account_id)
    held = record.account.iccid if record else None
    if held:
        return held, False
    candidates = lines.pool_candidates(POOL_PAGE)
    if not candidates:
        raise _no_line()
    return random.choice(candidates), True


def pay_taking_line(
    orders: PaysWithLine, accounts: Accounts, lines: LineStore, order: Order, changes: dict[str, Any]
) -> Order:
    """`order` (pending, no line yet) moved to paid with the account's line, taken from the pool
    by this very write when the account has none. StaleWrite (the order moved) is the caller's."""
    for _ in range(ATTEMPTS):
        iccid, from_pool = _line_for(accounts, lines, order.account_id)
        try:
            return orders.pay_with_line(order, iccid, from_pool=from_pool, changes=changes)
        except (AccountHasLine, LineTaken):
            continue  # another payment gave the account a line, or took this one: read again
    raise Unavailable("could not reserve an eSIM line; try again", code="no_lines_available")


def sell_taking_line(
    orders: SellsWithLine, accounts: Accounts, lines: LineStore, order: Order, store_id: str, sequence: int
) -> Order:
    """A store sale for an online account without a line: the sale's write takes one from the
    pool, as a first payment would. StaleWrite (another till took `sequence`) is the caller's."""
    for _ in range(ATTEMPTS):
        iccid, from_pool = _line_for(accounts, lines, order.account_id)
        sale = replace(order, iccid=iccid)
        try:
            orders.create_store_sale_with_line(sale, store_id, sequence, from_pool=from_pool)
            return sale
        except (AccountHasLine, LineTaken):
            continue
    raise Unavailable("could not reserve an eSIM line; try again", code="no_lines_available")
