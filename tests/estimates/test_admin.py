"""Staff: coefficient sets read-only once referenced, clone, edit, activate; unclassified models."""

import uuid
from decimal import Decimal

import pytest

from billing.models import Offset
from billing.selectors import band_offer
from billing.services import offset_choose_band
from connectors import crypto
from connectors.models import EstimateSource
from estimates.admin import coefficient_set_clone
from estimates.coefficients import coefficient_set_active
from estimates.models import Band, Coefficient, CoefficientSet, ModelClassRule, UnclassifiedModel
from tests.billing.helpers import make_projection, make_source

CHANGELIST = "/admin/estimates/coefficientset/"


def change_url(coefficient_set):
    return f"{CHANGELIST}{coefficient_set.pk}/change/"


def run_action(client, action, *sets):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [s.pk for s in sets], "index": 0}
    )


@pytest.fixture
def in_force(db):
    """The set the migrations seeded and activated (successor)."""
    return coefficient_set_active()


@pytest.fixture
def referenced(in_force, account, owner):
    """The set in force once an owner chose a band priced with it."""
    offset_choose_band(account=account, user=owner, band_slug="agentic", expected_price_cents=295)
    return in_force


def parts(coefficient_set):
    return (
        sorted(coefficient_set.coefficients.values_list("group", "vendor", "name", "value", "low")),
        sorted(coefficient_set.bands.values_list("slug", "volume", "mix_output", "model_class")),
        sorted(coefficient_set.model_class_rules.values_list("vendor", "position", "pattern")),
    )


def test_staff_see_the_sets_with_their_state(admin_client, referenced):
    body = admin_client.get(CHANGELIST).content.decode()
    assert "v2" in body and "Referenced (read-only)" in body
    assert "Clone as next version" in body and "Activate" in body
    assert "delete_selected" not in body


def test_an_unreferenced_set_is_editable_with_its_inlines(admin_client, in_force):
    clone = coefficient_set_clone(source=in_force)
    body = admin_client.get(change_url(clone)).content.decode()
    assert 'name="version"' in body and 'name="_save"' in body
    for prefix in ("coefficients", "bands", "model_class_rules"):
        assert f'name="{prefix}-0-' in body and f'name="{prefix}-TOTAL_FORMS"' in body


def test_a_referenced_set_is_read_only_and_cannot_be_deleted(admin_client, referenced):
    response = admin_client.get(change_url(referenced))
    body = response.content.decode()

    assert response.status_code == 200
    assert 'name="_save"' not in body and 'name="version"' not in body
    assert 'name="coefficients-0-value"' not in body and 'name="bands-0-volume"' not in body
    assert "Clone as next version" in body
    response = admin_client.post(change_url(referenced), {"version": "v2-edited"})
    assert response.status_code == 403
    delete = admin_client.post(f"{CHANGELIST}{referenced.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert CoefficientSet.objects.filter(pk=referenced.pk, version="v2").exists()


def test_a_set_referenced_by_a_projection_is_read_only_too(admin_client, in_force, account):
    clone = coefficient_set_clone(source=in_force)
    projection = make_projection(make_source(account))
    projection.coefficient_set = clone
    projection.save()
    assert 'name="_save"' not in admin_client.get(change_url(clone)).content.decode()


def test_the_active_set_cannot_be_deleted(admin_client, in_force):
    assert (
        admin_client.post(f"{CHANGELIST}{in_force.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert CoefficientSet.objects.filter(pk=in_force.pk).exists()


def test_clone_as_next_version_copies_everything_and_stays_inactive(admin_client, referenced):
    response = run_action(admin_client, "clone_next_version", referenced)

    # v3 (the Stripe Climate price) is seeded inactive, so the clone is v4.
    successor = CoefficientSet.objects.get(version="v4")
    assert response.status_code == 302 and response.url == change_url(successor)
    assert (
        not successor.is_active and successor.activated_at is None and not successor.is_referenced
    )
    assert parts(successor) == parts(referenced)
    assert successor.coefficients.count() == referenced.coefficients.count() > 0
    assert successor.bands.count() == 4 and successor.model_class_rules.count() > 0
    # The original is untouched, and still the active set.
    assert coefficient_set_active() == referenced
    # The next clone is v5.
    run_action(admin_client, "clone_next_version", successor)
    assert CoefficientSet.objects.filter(version="v5").exists()


def test_the_change_page_has_a_clone_button_that_posts_the_action(admin_client, referenced):
    body = admin_client.get(change_url(referenced)).content.decode()
    assert f'name="_selected_action" value="{referenced.pk}"' in body
    assert 'value="clone_next_version"' in body


def test_activate_makes_exactly_one_set_active(admin_client, in_force):
    successor = coefficient_set_clone(source=in_force)
    response = run_action(admin_client, "activate", successor)

    assert response.status_code == 302
    assert list(CoefficientSet.objects.filter(is_active=True)) == [successor]
    successor.refresh_from_db()
    assert successor.activated_at is not None
    run_action(admin_client, "activate", in_force)
    assert list(CoefficientSet.objects.filter(is_active=True)) == [in_force]


def test_activate_refuses_two_sets_or_an_incomplete_one(admin_client, in_force):
    successor = coefficient_set_clone(source=in_force)
    response = run_action(admin_client, "activate", in_force, successor)
    assert "Select exactly one set" in admin_client.get(response.url).content.decode()

    Coefficient.objects.filter(coefficient_set=successor, name="price_per_tonne_usd").delete()
    response = run_action(admin_client, "activate", successor)
    assert "missing a coefficient" in admin_client.get(response.url).content.decode()
    assert coefficient_set_active() == in_force


def test_activating_a_set_with_other_coefficients_never_changes_a_price(
    admin_client, account, owner, referenced
):
    before = Offset.objects.get(account=account)
    assert (before.band_slug, before.price_cents) == ("agentic", 295)
    successor = coefficient_set_clone(source=referenced)
    # Staff edit the editable successor: carbon removal got dearer.
    Coefficient.objects.filter(coefficient_set=successor, name="price_per_tonne_usd").update(
        value=Decimal("600")
    )

    run_action(admin_client, "activate", successor)

    assert coefficient_set_active() == successor
    assert band_offer(slug="agentic").price_cents != 295  # the band now prices differently
    after = Offset.objects.get(account=account)
    assert (after.price_cents, after.coefficient_set_id, after.chosen_at) == (
        295,
        referenced.pk,
        before.chosen_at,
    )


def test_unclassified_models_are_listed_with_counts_and_searchable(admin_client):
    UnclassifiedModel.objects.create(vendor="openai", model="gpt-9-turbo", times_seen=42)
    UnclassifiedModel.objects.create(vendor="anthropic", model="claude-next", times_seen=7)

    body = admin_client.get("/admin/estimates/unclassifiedmodel/").content.decode()
    assert "gpt-9-turbo" in body and "42" in body and "claude-next" in body
    body = admin_client.get("/admin/estimates/unclassifiedmodel/?q=gpt-9").content.decode()
    assert "gpt-9-turbo" in body and "claude-next" not in body
    assert admin_client.get("/admin/estimates/unclassifiedmodel/add/").status_code == 403


@pytest.mark.parametrize(
    "url",
    [CHANGELIST, "/admin/estimates/unclassifiedmodel/", "/admin/billing/offset/calibration/"],
)
def test_non_staff_are_sent_to_the_admin_login(owner_client, url):
    response = owner_client.get(url)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_keys_never_appear_in_the_admin(admin_client, account, referenced):
    key = "sk-ant-admin01-" + "Zz9" * 20 + "-hint"
    public_id = uuid.uuid4()
    ciphertext = crypto.encrypt(key, source_public_id=public_id)
    source = EstimateSource.objects.create(
        account=account,
        public_id=public_id,
        vendor="anthropic",
        label="Acme",
        key_ciphertext=ciphertext,
        key_hint="hint",
    )
    pages = [
        "/admin/",
        "/admin/connectors/estimatesource/",
        f"/admin/connectors/estimatesource/{source.pk}/change/",
        "/admin/billing/offset/calibration/",
        "/admin/billing/offset/aggregates.csv",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert key[:-4].encode() not in response.content
        assert bytes(ciphertext) not in response.content


def test_inlines_cover_every_part_of_a_set():
    from django.contrib import admin

    model_admin = admin.site._registry[CoefficientSet]
    assert {inline.model for inline in model_admin.inlines} == {Coefficient, Band, ModelClassRule}
