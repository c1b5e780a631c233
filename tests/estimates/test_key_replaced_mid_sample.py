"""A key replaced while a sample runs is always sampled again, with the new key — also when the
running sample was a manual one, inside the 5-minute Re-sample limit."""

import pytest
from django.urls import reverse

from connectors import crypto
from connectors.models import EstimateSource
from connectors.sandbox.catalogue import make_key
from estimates import sampling
from estimates.models import Sample
from estimates.sampling import run as sampling_run


def replace_key_during_fetch(monkeypatch, source, behaviour="flat"):
    """The owner pastes a new key while the sample is fetching with the old one."""
    original = sampling_run.fetch_window

    def fetch(*args, **kwargs):
        new = make_key(source.vendor, behaviour)
        EstimateSource.objects.filter(pk=source.pk).update(
            key_ciphertext=crypto.encrypt(new, source_public_id=source.public_id)
        )
        monkeypatch.setattr(sampling_run, "fetch_window", original)
        return original(*args, **kwargs)  # still with the old key

    monkeypatch.setattr(sampling_run, "fetch_window", fetch)


def test_a_key_replaced_during_a_manual_sample_is_sampled_again_with_the_new_key(
    make_source, monkeypatch
):
    source = make_source("revoked")
    sample = sampling.sample_request(source=source, trigger="manual")
    replace_key_during_fetch(monkeypatch, source)
    result = sampling.sample_run(sample_id=sample.pk)
    assert result.status == "failed" and "sampling again with the new one" in result.error
    follow_up = Sample.objects.get(source=source, status="queued")  # not held back by the limit
    assert sampling.sample_run(sample_id=follow_up.pk).status == "succeeded"
    source.refresh_from_db()
    assert source.status == "ready"


def test_a_key_replaced_during_a_sample_that_succeeds_is_sampled_again(make_source, monkeypatch):
    source = make_source("flat")
    sample = sampling.sample_request(source=source, trigger="manual")
    replace_key_during_fetch(monkeypatch, source)
    assert sampling.sample_run(sample_id=sample.pk).status == "succeeded"
    follow_up = Sample.objects.get(source=source, status="queued")
    assert sampling.sample_run(sample_id=follow_up.pk).status == "succeeded"
    assert not Sample.objects.filter(source=source, status="queued").exists()  # no loop


@pytest.mark.parametrize("behaviour", ["malformed", "revoked"])
def test_a_key_replaced_during_a_sample_that_fails_otherwise_is_sampled_again(
    make_source, monkeypatch, behaviour
):
    source = make_source(behaviour)
    sample = sampling.sample_request(source=source, trigger="manual")
    replace_key_during_fetch(monkeypatch, source)
    assert sampling.sample_run(sample_id=sample.pk).status == "failed"
    assert Sample.objects.filter(source=source, status="queued").count() == 1


def test_an_unchanged_key_is_not_sampled_again(make_source):
    source = make_source("flat")
    sample = sampling.sample_request(source=source, trigger="manual")
    assert sampling.sample_run(sample_id=sample.pk).status == "succeeded"
    assert not Sample.objects.filter(source=source, status="queued").exists()


def test_a_key_replaced_right_after_a_resample_is_sampled_with_the_new_key(
    make_source, owner_client
):
    source = make_source("revoked")
    owner_client.post(reverse("sources:sample", args=[source.public_id]))
    sample = Sample.objects.get(source=source)
    assert sampling.sample_run(sample_id=sample.pk).status == "failed"
    source.refresh_from_db()
    assert source.status == "needs_attention"

    # Within the 5 minutes a second Re-sample would wait for, the owner pastes a working key.
    response = owner_client.post(
        reverse("sources:replace", args=[source.public_id]),
        {"api_key": make_key("anthropic", "flat")},
    )
    assert response.status_code == 302
    follow_up = Sample.objects.get(source=source, status="queued")
    assert sampling.sample_run(sample_id=follow_up.pk).status == "succeeded"
    # The Re-sample button itself is still limited.
    response = owner_client.post(reverse("sources:sample", args=[source.public_id]), follow=True)
    assert "once every 5 minutes" in response.content.decode()
