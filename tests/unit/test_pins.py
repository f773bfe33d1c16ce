from datetime import UTC, datetime, timedelta

from renewal.domain.pins import (
    DUMMY_PIN_HASH,
    FAILURE_WINDOW,
    LOCK_AFTER,
    MAX_ATTEMPTS,
    PBKDF2_ITERATIONS,
    AttemptCounter,
    Refusal,
    hash_pin,
    verify_pin,
)

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


def test_a_counter_refuses_after_max_attempts_within_the_window_then_starts_again() -> None:
    counter = AttemptCounter()
    for _ in range(MAX_ATTEMPTS):
        assert counter.refusal(NOW, lockable=True) is None
        counter = counter.after_attempt(NOW)
    assert counter.refusal(NOW + timedelta(minutes=1), lockable=True) == Refusal(retry_after=14 * 60)
    later = NOW + FAILURE_WINDOW
    assert counter.refusal(later, lockable=True) is None
    assert counter.after_attempt(later) == AttemptCounter(1, later, MAX_ATTEMPTS + 1, NOW)


def test_a_lockable_counter_locks_after_ten_in_a_day_a_caller_does_not() -> None:
    counter = AttemptCounter(0, None, LOCK_AFTER, NOW)
    assert counter.refusal(NOW + timedelta(hours=23), lockable=True) == Refusal(locked=True)
    assert counter.refusal(NOW + timedelta(hours=23), lockable=False) is None
    assert AttemptCounter(locked=True).refusal(NOW + timedelta(days=30), lockable=True) == Refusal(locked=True)


def test_the_dummy_hash_is_a_real_hash_of_the_same_cost() -> None:
    scheme, iterations, salt, digest = DUMMY_PIN_HASH.split("$")
    assert (scheme, int(iterations), len(salt), len(digest)) == ("pbkdf2_sha256", PBKDF2_ITERATIONS, 32, 64)
    assert verify_pin("00000000", DUMMY_PIN_HASH)
