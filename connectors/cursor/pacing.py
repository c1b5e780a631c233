"""Pacing requests under a vendor's per-team, per-minute rate limit.

Cursor limits each team to a number of requests per minute (60 for usage events) and shares
that budget between every client of the team. A sample fetches from several threads at once, so
one `Pacer` per team is shared by all of them: at most `limit` requests within any `window`
seconds, each counted from the moment its answer arrived. A request reaches the vendor before
its answer reaches us, so requests sent this way arrive more than `window` seconds apart at the
vendor too, whatever its clock or its way of counting minutes.

The clock is injected: production sleeps; tests and the benchmark skip the waits instead
(`SkipClock`), so nothing waits out real minutes.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

MAX_REAL_WAIT = 5.0  # seconds between re-checks while requests are in flight


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep_until(self, moment: float) -> None: ...


class RealClock:
    """Monotonic seconds; waits really wait."""

    def now(self) -> float:
        return time.monotonic()

    def sleep_until(self, moment: float) -> None:
        delay = moment - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class SkipClock:
    """Monotonic seconds plus every wait skipped: sleeping moves the clock forward instead.

    Waits are given as moments, so threads waiting for the same moment move the clock once.
    `skipped` is the total moved forward: real elapsed time + skipped = what the run would
    have taken with real waits.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.skipped = 0.0
        self.sleeps = 0

    def now(self) -> float:
        return time.monotonic() + self.skipped

    def sleep_until(self, moment: float) -> None:
        with self._lock:
            self.sleeps += 1
            self.skipped += max(0.0, moment - self.now())


class Pacer:
    """At most `limit` requests in any `window` seconds (see the module docstring)."""

    def __init__(self, limit: int, window: float = 60.0, *, clock: Clock) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit, self.window, self.clock = limit, window, clock
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._done: deque[float] = deque()  # when the last answers arrived, oldest first
        self._in_flight = 0
        self._hold_until = -math.inf

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request's place in the budget while it is sent and answered."""
        self._acquire()
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._done.append(self.clock.now())
                self._answered.notify_all()

    def hold(self, seconds: float) -> None:
        """The vendor said the budget is spent (a 429): nobody sends for `seconds`."""
        with self._lock:
            self._hold_until = max(self._hold_until, self.clock.now() + seconds)

    def sleep(self, seconds: float) -> None:
        """Wait on this pacer's clock (a retry's backoff)."""
        self.clock.sleep_until(self.clock.now() + seconds)

    def _acquire(self) -> None:
        while True:
            with self._lock:
                now = self.clock.now()
                while self._done and self._done[0] + self.window <= now:
                    self._done.popleft()
                until = self._hold_until
                if until <= now:
                    if self._in_flight + len(self._done) < self.limit:
                        self._in_flight += 1
                        return
                    if not self._done:  # every place is in flight: wait for an answer
                        self._answered.wait()
                        continue
                    until = self._done[0] + self.window
                if self._in_flight:
                    # Answers due soon free places or start the count anew: wait for them in
                    # real time, so a skipping clock never jumps over a request in flight.
                    self._answered.wait(timeout=min(until - now, MAX_REAL_WAIT))
                    continue
            self.clock.sleep_until(until)


# Tests and the benchmark swap in a SkipClock (and call `forget_all`).
CLOCK: Clock = RealClock()
_pacers: dict[tuple[str, int], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(key: str, limit: int) -> Pacer:
    """The pacer every thread of this process uses for the team of `key` and one rate bucket."""
    # Keyed by a digest: the key itself is never held outside the call that uses it.
    team = hashlib.sha256(key.encode()).hexdigest()
    with _pacers_lock:
        pacer = _pacers.get((team, limit))
        if pacer is None or pacer.clock is not CLOCK:
            pacer = _pacers[(team, limit)] = Pacer(limit, clock=CLOCK)
        return pacer


def forget_all() -> None:
    """Drop every team's pacer (tests)."""
    with _pacers_lock:
        _pacers.clear()
