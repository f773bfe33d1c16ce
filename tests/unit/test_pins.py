from datetime import UTC, datetime, timedelta

from renewal.domain.pins import FAILURE_WINDOW, MAX_FAILURES, FailureWindow, hash_pin, verify_pin

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def test_pin_is_stored_salted_and_verifies() -> None:
    first, second = hash_pin("1234"), hash_pin("1234")
    assert first != second and "1234" not in first
    assert verify_pin("1234", first)
    assert not verify_pin("1235", first)
    assert not verify_pin("1234", "garbage")


def test_locks_after_max_failures_within_the_window_then_unlocks() -> None:
    window = FailureWindow(0, None)
    for _ in range(MAX_FAILURES - 1):
        window = window.after_failure(NOW)
        assert window.locked_until(NOW) is None
    window = window.after_failure(NOW)
    assert window.locked_until(NOW + timedelta(minutes=1)) == NOW + FAILURE_WINDOW
    assert window.locked_until(NOW + FAILURE_WINDOW) is None


def test_a_failure_after_the_window_starts_a_new_count() -> None:
    window = FailureWindow(MAX_FAILURES, NOW).after_failure(NOW + FAILURE_WINDOW)
    assert window == FailureWindow(1, NOW + FAILURE_WINDOW)
