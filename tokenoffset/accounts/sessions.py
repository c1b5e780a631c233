"""Django's cached database sessions, read in the same round trip as the viewer's stamps.

When this process has seen the session signed in before, the session's cache entry and its
user's stamps (``viewers``) come back from one MGET: a signed-in request then needs no other
round trip to know whether the rows kept for its user still hold.
"""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db

from . import viewers


class SessionStore(cached_db.SessionStore):
    viewer_stamps = None  # (user id, {stamp key: stamp}) read with the session, else None

    def load(self):
        user_id = viewers.session_user(self.session_key)
        data = None
        if user_id is not None:
            keys = viewers.stamp_keys(user_id)
            try:
                found = self._cache.get_many([self.cache_key, *keys])
            except Exception:  # noqa: BLE001 - as Django's: an unreadable entry is a miss
                found = {}
            data = found.get(self.cache_key)
            if data is not None and data.get(SESSION_KEY) == user_id:
                self.viewer_stamps = (user_id, {key: found.get(key) for key in keys})
        if data is None:
            data = super().load()
        viewers.session_loaded(self.session_key, data.get(SESSION_KEY))
        return data
