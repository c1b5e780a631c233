"""Counting attempts in the shared cache: the limits on actions that cost us or others."""

from django.core.cache import cache


def limit_exceeded(cache_key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt under ``cache_key``; True once more than ``limit`` fall in the window.

    The window is fixed: it starts with the first attempt and the count resets when it ends.
    """
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        attempts = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        attempts = 1
    return attempts > limit
