"""The Redis cache keeps one client, with its own connection, per thread and process."""

import os
import threading

import pytest
import redis

from tokenoffset import redis_cache
from tokenoffset.redis_cache import ReusedClientRedisCache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (make test)")


@pytest.fixture
def cache():
    cache = ReusedClientRedisCache(os.environ.get("REDIS_URL", ""), {"KEY_PREFIX": "redis-cache"})
    yield cache
    cache.delete_many(["k"])


def client_in_another_thread(cache):
    found = []
    thread = threading.Thread(target=lambda: found.append(cache._cache.get_client()))
    thread.start()
    thread.join()
    return found[0]


def test_a_thread_reuses_its_client_and_its_one_connection(cache):
    client = cache._cache.get_client("k", write=True)
    assert cache._cache.get_client("other", write=False) is client
    cache.set("k", "v")
    assert cache.get("k") == "v" and client.connection is not None
    assert client_in_another_thread(cache) is not client


def test_a_forked_process_never_uses_its_parents_client(cache, monkeypatch):
    parent = cache._cache.get_client()
    monkeypatch.setattr(redis_cache.os, "getpid", lambda: -1)
    assert cache._cache.get_client() is not parent


def test_a_connection_closed_by_the_server_is_replaced(cache):
    cache.set("k", "before")
    client = cache._cache.get_client()
    redis.Redis.from_url(os.environ["REDIS_URL"]).client_kill_filter(_id=client.client_id())
    assert cache.get("k") == "before"
    cache.set("k", "after")
    assert cache.get("k") == "after"


class Interrupted(BaseException):
    """As a task's time limit strikes: between a command and its reply."""


def test_a_command_interrupted_before_its_reply_never_answers_the_next_one(cache, monkeypatch):
    cache.set("k", "k's value")
    client = cache._cache.get_client()
    connection = client.connection

    def interrupted(*args, **kwargs):
        monkeypatch.undo()
        raise Interrupted

    monkeypatch.setattr(connection, "read_response", interrupted)
    with pytest.raises(Interrupted):
        cache.get("k")  # sent; its reply is left unread
    cache.set("other", "other's value")
    assert cache.get("other") == "other's value"
    assert cache.get("k") == "k's value"
    cache.delete("other")
