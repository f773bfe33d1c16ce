"""The orders adapter writes only attributes the model declares (no getattr on a name)."""

from __future__ import annotations

import pytest

from renewal.adapters.dynamodb_orders import _actions


def test_known_changes_become_update_actions_and_paid_orders_wait_for_activation() -> None:
    actions = _actions({"status": "paid", "paid_at": None, "taken_back_mb": 5})
    kinds = [type(a).__name__ for a in actions]
    assert kinds == ["SetAction", "SetAction", "RemoveAction", "SetAction"]  # awaiting, status, paid_at, taken
    assert str(actions[0].values[0]) == "awaiting"  # a paid order waits in the by_awaiting index


def test_an_unknown_change_is_refused_before_anything_is_written() -> None:
    with pytest.raises(ValueError, match="statuss"):
        _actions({"statuss": "paid"})
