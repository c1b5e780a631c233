import inspect
from dataclasses import replace
from datetime import date
from types import SimpleNamespace

import pytest

from connectors import registry
from connectors.interface import Connector, Delivery, Report, SourceKind
from connectors.keys import KeyRejected, key_shape_check, vendor_base_url
from connectors.models import Kind, Vendor
from connectors.records import UsageRecord
from estimates import fetch

START, END = date(2026, 6, 1), date(2026, 8, 30)


def usage(day):
    return UsageRecord(day, "m", "", "", "", 1, 0, 0, 0, 1, None)


@pytest.mark.parametrize("connector", registry.CONNECTORS.values(), ids=lambda c: c.id)
def test_every_registered_kind_exposes_the_interface(connector, settings):
    assert isinstance(connector, Connector)
    assert registry.get(connector.id) is connector
    assert connector.name and connector.sees
    assert isinstance(connector.kind, SourceKind) and isinstance(connector.delivery, Delivery)
    if connector.pulled:
        assert connector.id in Vendor.values  # stored as EstimateSource.vendor
        assert getattr(settings, connector.base_url_setting).startswith("https://")
        assert callable(connector.validate) and connector.create_key_help
        assert connector.usage is not None and "usage" in connector.reports()
        for report in connector.reports().values():
            assert report.max_days >= 1
            assert "on_page" in inspect.signature(report.fetch).parameters
        assert connector.has_spend == ("costs" in connector.reports() or connector.spend_in_usage)


def test_every_registered_kind_is_a_vendor_or_a_kind_a_source_can_store():
    assert set(registry.CONNECTORS) <= set(Vendor.values) | set(Kind.values)
    assert [c.id for c in registry.pulled()] == ["anthropic", "openai", "cursor", "google"]


def test_the_connect_form_offers_exactly_the_registered_admin_key_vendors():
    from tokenoffset.dashboard.forms import SourceAddForm

    offered = [value for value, _ in SourceAddForm().fields["vendor"].choices]
    assert offered == [c.id for c in registry.pulled() if c.kind == SourceKind.ADMIN_KEY]


def test_an_unknown_kind_is_a_clear_error():
    known = r"'nonesuch'.*known: anthropic, cursor, google, live, local_logs"
    with pytest.raises(registry.UnknownSourceKind, match=known):
        registry.get("nonesuch")
    with pytest.raises(LookupError):
        key_shape_check("nonesuch", "key_" + "x" * 40)


def test_a_sample_of_an_unknown_kind_fails_before_any_call():
    source = SimpleNamespace(kind="admin_key", vendor="nonesuch", is_sandbox=False)
    with pytest.raises(registry.UnknownSourceKind):
        fetch.fetch_window(source, "key", START, END)


def test_vendor_urls_come_from_the_setting_the_connector_names(settings):
    settings.OPENAI_API_BASE_URL = "https://openai.example"
    assert vendor_base_url("openai", is_sandbox=False) == "https://openai.example"


def test_the_key_shape_check_asks_the_kind_for_its_own_rules(monkeypatch):
    anthropic = registry.get("anthropic")
    picky = replace(anthropic, key_shape_problem=lambda key: "Not one of ours.")
    monkeypatch.setitem(registry.CONNECTORS, "anthropic", picky)
    with pytest.raises(KeyRejected, match="Not one of ours."):
        key_shape_check("anthropic", "sk-ant-admin01-" + "x" * 40)


def test_estimates_fetches_exactly_the_reports_the_registry_declares(monkeypatch):
    calls = []

    def fetch_usage(client, key, start, end, *, on_page=None):
        calls.append((start, end))
        on_page(1, False)
        return [usage(start)]

    # A kind without spend (as a Google source without a billing export will be).
    usage_only = replace(
        registry.get("openai"),
        usage=Report(fetch=fetch_usage, max_days=45),
        more_usage={},
        spend=None,
    )
    monkeypatch.setitem(registry.CONNECTORS, "openai", usage_only)
    source = SimpleNamespace(kind="admin_key", vendor="openai", is_sandbox=False)
    snapshots = []
    got = fetch.fetch_window(source, "sk-admin-x", START, END, on_progress=snapshots.append)
    assert sorted(calls) == [(START, date(2026, 7, 16)), (date(2026, 7, 16), END)]
    assert [r.day for r in sorted(got.usage, key=lambda r: r.day)] == [START, date(2026, 7, 16)]
    assert got.costs == []
    assert [s for s in snapshots if s][-1] == {
        "reports": {"usage": {"pages_done": 2, "pages_total": 2}}
    }
    assert not usage_only.has_spend


def test_a_pushed_kind_is_never_fetched(monkeypatch):
    pushed = Connector(
        id="local_logs",
        name="Local logs",
        kind=SourceKind.LOCAL_LOGS,
        delivery=Delivery.PUSHED,
        sees="What is still on this computer.",
    )
    monkeypatch.setitem(registry.CONNECTORS, "local_logs", pushed)
    assert pushed.reports() == {} and not pushed.pulled
    assert "local_logs" not in [c.id for c in registry.pulled()]
    assert pushed not in registry.pulled()
    assert registry.pulled()[:2] == [registry.get("anthropic"), registry.get("openai")]
    with pytest.raises(ValueError, match="pushed"):
        fetch.fetch_window(SimpleNamespace(kind="local_logs", vendor="anthropic"), "", START, END)


def test_a_source_finds_its_connector_by_vendor_and_its_kind_matches_the_models(db):
    from connectors.interface import SourceKind
    from connectors.models import EstimateSource, Kind

    assert {k.value for k in SourceKind} == set(Kind.values)
    source = EstimateSource(vendor="openai", kind=Kind.ADMIN_KEY)
    assert registry.for_source(source) is registry.get("openai")
    pushed = EstimateSource(vendor="anthropic", kind=Kind.LIVE)
    assert registry.for_source(pushed) is registry.get("live")  # by kind, not by vendor
