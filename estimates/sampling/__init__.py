"""Sampling a source: request, claim, run, fail with a message, fan out weekly, reap, expire.

Callers use the names below; each concern lives in its own module of this package.
"""

from .claim import MAX_ATTEMPTS, Busy, sample_claim
from .failures import RetryLater
from .fanout import FanoutResult, samples_weekly_fanout
from .reaper import samples_reap
from .requests import AlreadySampling, TooSoon, sample_request
from .retention import daily_rows_expire
from .run import sample_run

__all__ = [
    "MAX_ATTEMPTS",
    "AlreadySampling",
    "Busy",
    "FanoutResult",
    "RetryLater",
    "TooSoon",
    "daily_rows_expire",
    "sample_claim",
    "sample_request",
    "sample_run",
    "samples_reap",
    "samples_weekly_fanout",
]
