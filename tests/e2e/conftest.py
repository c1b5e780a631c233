"""Browser tests: Playwright drives the system's Chromium against the live server.

No ``playwright install``: the browser is Debian's ``chromium`` found on PATH. ``make test``
installs it when missing (WITH_CHROMIUM=1); under CI a missing browser fails these tests, on a
developer machine it skips them with the reason.

pytest-playwright's browser fixtures are session-scoped. Its sync API leaves an asyncio loop
marked as running in the main thread for as long as Playwright runs, which makes Django refuse
ORM calls there (SynchronousOnlyOperation). So Playwright lives only as long as this package:
the fixtures below narrow the plugin's ``playwright`` and the session fixtures built on it to
package scope, and DJANGO_ALLOW_ASYNC_UNSAFE is set for exactly that time.
"""

import os
import shutil
import threading
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, BrowserType, Page, Playwright, expect, sync_playwright

from conftest import ensure_coefficient_set
from connectors.sandbox.catalogue import make_key
from tests.factories import UserFactory
from tokenoffset.accounts.models import User
from tokenoffset.accounts.services import account_create_for_user

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",  # required when running as root (containers, CI)
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # No calls out from the browser itself: the test network is closed.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 20_000  # the slow sandbox key takes ~1.5 s per vendor call


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="package")
def chromium_executable() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    if _in_ci():
        pytest.fail(
            "chromium is not on PATH, so the browser tests cannot run. `make test` installs it "
            "(WITH_CHROMIUM=1 scripts/services.sh); on Debian/Ubuntu: apt-get install chromium.",
            pytrace=False,
        )
    pytest.skip("chromium is not installed (apt-get install chromium, or run `make test`)")


@pytest.fixture(scope="package")
def _async_unsafe_allowed():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def browser_type_launch_args(chromium_executable: str, pytestconfig) -> dict:
    args = {"executable_path": chromium_executable, "args": CHROMIUM_ARGS, "headless": True}
    if pytestconfig.getoption("--headed"):
        args["headless"] = False
    if pytestconfig.getoption("--slowmo"):
        args["slow_mo"] = pytestconfig.getoption("--slowmo")
    return args


@pytest.fixture(scope="package")
def playwright(chromium_executable, _async_unsafe_allowed, _pw_api_request_contexts):
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    expect.set_options(timeout=TIMEOUT_MS)
    yield pw
    pw.stop()


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args: dict, browser_type: BrowserType):
    def launch(**kwargs) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="package")
def browser(launch_browser) -> Browser:
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args(live_server) -> dict:
    return {
        "base_url": live_server.url,
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-US",
        "timezone_id": "UTC",
    }


@pytest.fixture
def page(context) -> Page:
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture(scope="package", autouse=True)
def _coefficient_set_restored(django_db_setup, django_db_blocker):
    """Put the migration-seeded coefficient set back once these tests are done.

    They commit, and pytest-django ends each of them with a flush that empties every table,
    migration data included; tests that run after this package expect the seeded set.
    ``serialized_rollback`` cannot do it here: with Playwright's loop running, Django hands the
    main thread another connection object than the one the serialized data is kept on.
    """
    yield
    with django_db_blocker.unblock():
        ensure_coefficient_set()


@pytest.fixture(autouse=True)
def _coefficient_set(transactional_db) -> None:
    """Each test starts with the seeded set, also after an earlier test's flush."""
    ensure_coefficient_set()


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a full-page screenshot of a key screen under var/screenshots/ (every run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> None:
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take


class Worker:
    """An in-process Celery worker on the real Redis broker, started when the test says so.

    Tasks run in the worker's thread on its own connection to the test database, closed after
    every task so the database can be flushed and dropped afterwards.
    """

    def __init__(self):
        from tokenoffset.celery import app

        app.control.purge()  # messages queued by earlier tests are not ours
        self._stack = ExitStack()
        self._done = threading.Condition()
        self.finished: list[tuple[str, str]] = []  # (task name, state)

    def _task_finished(self, task=None, state=None, **kwargs):
        connections.close_all()
        with self._done:
            self.finished.append((task.name, state))
            self._done.notify_all()

    def start(self) -> None:
        from celery.contrib.testing.worker import start_worker
        from celery.signals import task_postrun

        from tokenoffset.celery import app

        task_postrun.connect(self._task_finished, weak=False)
        self._stack.callback(task_postrun.disconnect, self._task_finished)
        self._stack.enter_context(
            start_worker(
                app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"
            )
        )

    def wait_for(self, task_name: str, count: int = 1, timeout: float = 60) -> list[str]:
        """Block until ``count`` runs of the task finished; their states."""
        with self._done:
            self._done.wait_for(
                lambda: len([n for n, _ in self.finished if n == task_name]) >= count, timeout
            )
            states = [state for name, state in self.finished if name == task_name]
        assert len(states) >= count, f"{task_name} finished {len(states)} of {count} times"
        return states

    def stop(self) -> None:
        self._stack.close()


@pytest.fixture
def celery_worker(transactional_db) -> Worker:
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs the Redis that `make test` starts (REDIS_URL)")
    worker = Worker()
    yield worker
    worker.stop()


@pytest.fixture
def login(context, live_server, client):
    """Sign the browser in as ``user`` (through a session cookie; the login form has its test)."""

    def as_user(user: User) -> None:
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )

    return as_user


def make_owner(email: str) -> User:
    """A user with an account of their own, as sign-up leaves them."""
    user = UserFactory(email=email)
    account_create_for_user(user=user)
    return user


def sandbox_key(behaviour: str, vendor: str = "anthropic", **params) -> str:
    return make_key(vendor, behaviour, params=params or None)
