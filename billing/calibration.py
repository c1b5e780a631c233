"""Calibration: the bands accounts chose (offsets) against the usage they sampled
(projections), and the de-identified aggregate export. Billing is the lowest layer that may read
both; the sampled side comes from ``estimates.calibration``."""

import csv
from collections import defaultdict
from datetime import datetime

from django.utils import timezone

from estimates import sanity
from estimates.calibration import (
    Sampled,
    accounts_with_real_source,
    median_or_none,
    previous_quarter_start,
    quarter_label,
    quarter_start,
    quartiles,
    sampled_by_account,
)
from estimates.coefficients import NoActiveCoefficientSet, coefficient_set_active
from tokenoffset.accounts.spreadsheets import spreadsheet_cell

from .models import Offset, OffsetKind

# Groups with fewer accounts than this are left out of the export (k-anonymity).
MIN_GROUP_ACCOUNTS = 5
AGGREGATE_COLUMNS = [
    "group", "value", "accounts", "monthly_tokens_total", "monthly_tokens_p25",
    "monthly_tokens_median", "monthly_tokens_p75", "kwh_total", "co2e_kg_total", "water_l_total",
]  # fmt: skip


def calibration_report(*, now: datetime | None = None) -> dict:
    """Per band: accounts that chose it with a connected source, their sampled monthly tokens
    (quartiles) against the band's volume, and the median's change over the last quarter."""
    now = now or timezone.now()
    this_quarter = quarter_start(now)
    last_quarter = previous_quarter_start(this_quarter)
    band_of = dict(
        Offset.objects.filter(kind=OffsetKind.BAND).values_list("account_id", "band_slug")
    )
    connected = accounts_with_real_source(among=band_of)
    latest = sampled_by_account()
    current = sampled_by_account(since=this_quarter)
    previous = sampled_by_account(since=last_quarter, until=this_quarter)
    try:
        bands = list(coefficient_set_active().bands.all())
    except NoActiveCoefficientSet:
        bands = []
    rows = []
    for band in bands:
        accounts = [a for a in connected if band_of[a] == band.slug]
        spread = quartiles(sorted(latest[a].tokens for a in accounts if a in latest))
        now_median = median_or_none([current[a].tokens for a in accounts if a in current])
        then_median = median_or_none([previous[a].tokens for a in accounts if a in previous])
        change = None
        if now_median is not None and then_median:
            change = round((now_median - then_median) / then_median * 100, 1)
        rows.append(
            {
                "band": band,
                "accounts": len(accounts),
                "sampled": sum(1 for a in accounts if a in latest),
                "p25": spread and spread[0],
                "median": spread and spread[1],
                "p75": spread and spread[2],
                "median_vs_volume": spread and round(spread[1] / band.volume, 2),
                "median_this_quarter": now_median,
                "median_last_quarter": then_median,
                "qoq_pct": change,
            }
        )
    return {
        "rows": rows,
        "sanity": sanity_rows(),
        "flag_above": sanity.FLAG_ABOVE,
        "this_quarter": this_quarter,
        "last_quarter": last_quarter,
        "this_label": quarter_label(this_quarter),
        "last_label": quarter_label(last_quarter),
    }


def sanity_rows() -> list[dict]:
    """Each real source's latest projection with spend: its energy against the GPU energy its
    projected spend buys, highest ratio first (flagged above 30%)."""
    rows = []
    for p in sanity.latest_with_spend().filter(source__is_sandbox=False):
        rows.append(
            {
                "projection": p,
                "spend_buys_kwh": sanity.spend_energy_kwh(p.provider_spend_usd),
                "ratio_pct": round(p.energy_spend_ratio * 100, 1),
                "flagged": sanity.flagged(p.energy_spend_ratio),
            }
        )
    return rows


def aggregate_rows() -> list[dict]:
    """De-identified aggregates: per band, offset kind and vendor × model class. No account,
    user, email, org name, key, source id or label; groups under 5 accounts are left out."""
    sampled = sampled_by_account()
    offsets = dict(Offset.objects.filter(account_id__in=sampled).values_list("account_id", "kind"))
    bands = dict(
        Offset.objects.filter(account_id__in=sampled, kind=OffsetKind.BAND).values_list(
            "account_id", "band_slug"
        )
    )
    groups: dict[tuple[str, str], list[Sampled]] = defaultdict(list)
    for account_id, s in sampled.items():
        groups[("all", "all")].append(s)
        groups[("offset_kind", offsets.get(account_id, "none"))].append(s)
        if account_id in bands:
            groups[("band", bands[account_id])].append(s)
        for key, tokens in s.by_class.items():
            groups[("vendor_model_class", key)].append(Sampled(tokens=tokens))
    rows = []
    for (group, value), members in sorted(groups.items()):
        if len(members) < MIN_GROUP_ACCOUNTS:
            continue
        spread = quartiles(sorted(m.tokens for m in members))
        per_class = group == "vendor_model_class"  # footprints are stored per source only

        def total(attr, per_class=per_class, members=members):
            return "" if per_class else f"{sum(getattr(m, attr) for m in members):.3f}"

        rows.append(
            {
                "group": group,
                "value": value,
                "accounts": len(members),
                "monthly_tokens_total": sum(m.tokens for m in members),
                "monthly_tokens_p25": round(spread[0]),
                "monthly_tokens_median": round(spread[1]),
                "monthly_tokens_p75": round(spread[2]),
                "kwh_total": total("kwh"),
                "co2e_kg_total": total("co2e_kg"),
                "water_l_total": total("water_l"),
            }
        )
    return rows


def aggregates_csv_write(out) -> None:
    """Write the de-identified aggregates as CSV to ``out`` (a file or an HttpResponse)."""
    writer = csv.writer(out)
    writer.writerow(AGGREGATE_COLUMNS)
    for row in aggregate_rows():
        writer.writerow([spreadsheet_cell(row[c]) for c in AGGREGATE_COLUMNS])
