from datetime import UTC, datetime, timedelta

from renewal.domain.pins import FAILURE_WINDOW, MAX_FAILURES, PBKDF2_ITERATIONS, FailureWindow, hash_pin, verify_pin

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def test_pin_is_stored_salted_and_verifies() -> None:
    first, second = hash_pin("1234"), hash_pin("1234")
    # Only a scheme, a salt and a digest are kept. (Not `"1234" not in first`: hex holds "1234"
    # by chance about one time in 700, and that made this test fail once.)
    scheme, iterations, salt, digest = first.split("$")
    assert (scheme, iterations, len(salt), len(digest)) == ("pbkdf2_sha256", str(PBKDF2_ITERATIONS), 32, 64)
    assert first != second  # a new salt each time
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
