"""Django's Redis cache, with a kept client per thread, holding its own connection, instead of a
new client and a pool checkout on every call.

Django builds a new ``redis.Redis`` for every cache operation, and each command borrows a
connection from the pool (a lock, and a ``select`` to check the connection is clean) and returns
it; on loopback that costs more than the command. Each thread of each process keeps one client
with one connection of its own (``single_connection_client``); a command that finds it closed
(Redis restarted, an idle timeout) reconnects and is sent once more, as the pool's checkout
would have reconnected it. The process id is part of the key, so a forked child never shares its
parent's socket. A command interrupted between sending and reading its reply (a time limit's
exception) closes its connection: the reply left on it must never answer the next command.
And the keys are ours: the warnings about keys that memcached would refuse (a loop over every
character of every key, on every call) are skipped.
"""

import os
import threading

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.backoff import NoBackoff
from redis.retry import Retry

# A connect that long means Redis is gone: fail, don't hang. Replies have no timeout: one made
# every read poll first, and cost the weekly fan-out 6% of its throughput.
CONNECT_TIMEOUT_SECONDS = 5.0


class _KeptConnectionClient(redis.Redis):
    def execute_command(self, *args, **options):
        try:
            return super().execute_command(*args, **options)
        except BaseException:
            if self.connection is not None:
                self.connection.disconnect()
            raise


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._client = _KeptConnectionClient
        self._pool_options.setdefault("retry", Retry(NoBackoff(), retries=1))
        self._pool_options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT_SECONDS)
        self._local = threading.local()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self._local.__dict__.setdefault("clients", {})
        client = clients.get((os.getpid(), id(pool)))
        if client is None:
            client = self._client(connection_pool=pool, single_connection_client=True)
            clients[(os.getpid(), id(pool))] = client
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def validate_key(self, key):
        pass
