"""Django's Redis cache, with one client object per connection pool instead of one per call.

Django builds a new ``redis.Redis`` for every cache operation; building it (its table of response
callbacks) costs more than a small GET on loopback. A client is thread-safe and only holds its
pool, so one per pool is kept and reused. And the keys are ours: the warnings about keys that
memcached would refuse (a loop over every character of every key, on every call) are skipped.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def validate_key(self, key):
        pass
