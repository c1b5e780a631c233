"""The dashboard's chart as server-rendered SVG: no chart library, no script, no inline style.

Every number is formatted here and every piece of text is escaped before it goes into the markup;
colours and fonts come from CSS classes (dashboard.css) so the strict CSP needs no exception.
"""

import math
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .selectors import TOKEN_TYPE_LABELS, DashboardData, DayTotals
from .templatetags.people import tokens

WIDTH, HEIGHT = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 24, 46
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
HORIZON_DAYS = 30
# Bottom to top: output first, the often-dominant cache reads on top where they cannot hide
# the smaller types.
STACK = ("output", "uncached_input", "cache_write", "cache_read")


def nice_step(raw: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _day_title(day: DayTotals) -> str:
    parts = ", ".join(f"{TOKEN_TYPE_LABELS[t].lower()} {tokens(getattr(day, t))}" for t in STACK)
    return f"{day.day:%a} {day.day.day} {day.day:%b}: {tokens(day.total)} tokens ({parts})"


def token_chart(
    days: Sequence[DayTotals],
    *,
    per_day: tuple[Decimal, Decimal, Decimal] | None,
    title: str,
    description: str,
    horizon_days: int = HORIZON_DAYS,
    element_id: str = "token-chart",
) -> SafeString:
    """Daily token totals stacked by type, then the projection as a dashed line with its range."""
    horizon = horizon_days if per_day is not None else 0
    slots = max(len(days) + horizon, 1)
    slot_w = PLOT_W / slots
    bar_w = max(slot_w * 0.78, 0.6)
    point, low, high = (float(v) for v in per_day) if per_day is not None else (0.0, 0.0, 0.0)
    peak = max([d.total for d in days] + [high, point])
    step = nice_step(peak / 4) if peak > 0 else 1.0
    y_top = step * max(math.ceil(peak / step), 1)

    def y(value: float) -> float:
        return TOP + PLOT_H - (value / y_top) * PLOT_H

    def x(slot: int) -> float:
        return LEFT + slot * slot_w

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart-svg"'
        f' role="img" aria-labelledby="{element_id}-title {element_id}-desc">',
        f'<title id="{element_id}-title">{escape(title)}</title>',
        f'<desc id="{element_id}-desc">{escape(description)}</desc>',
    ]

    # Grid and y axis.
    out.append('<g class="axis axis-y">')
    ticks = round(y_top / step)
    for i in range(ticks + 1):
        value = step * i
        yy = _f(y(value))
        out.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{yy}" y2="{yy}"/>')
        out.append(
            f'<text x="{LEFT - 8}" y="{yy}" text-anchor="end" dominant-baseline="middle">'
            f"{escape(tokens(value))}</text>"
        )
    mid = _f(TOP + PLOT_H / 2)
    out.append(
        f'<text class="axis-label" x="14" y="{mid}" text-anchor="middle"'
        f' transform="rotate(-90 14 {mid})">Tokens per day</text>'
    )
    out.append("</g>")

    # The projection: shaded future, its low–high range, the dashed point.
    if horizon:
        x0, x1 = x(len(days)), x(slots)
        out.append('<g class="projection">')
        out.append(
            f'<rect class="proj-bg" x="{_f(x0)}" y="{TOP}" width="{_f(x1 - x0)}"'
            f' height="{PLOT_H}"/>'
        )
        out.append(
            f'<rect class="proj-range" x="{_f(x0)}" y="{_f(y(high))}" width="{_f(x1 - x0)}"'
            f' height="{_f(max(y(low) - y(high), 0))}"><title>Range: {escape(tokens(low))} to'
            f" {escape(tokens(high))} tokens a day</title></rect>"
        )
        out.append(
            f'<line class="proj-line" x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(y(point))}"'
            f' y2="{_f(y(point))}"><title>Projection: {escape(tokens(point))} tokens a day'
            "</title></line>"
        )
        out.append(
            f'<text class="proj-label" x="{_f((x0 + x1) / 2)}" y="{TOP - 8}"'
            f' text-anchor="middle">Projection</text>'
        )
        out.append("</g>")

    # Stacked bars, one group per day with a tooltip.
    out.append('<g class="bars">')
    for i, day in enumerate(days):
        if not day.total:
            continue
        out.append(f"<g><title>{escape(_day_title(day))}</title>")
        base = 0.0
        for token_type in STACK:
            value = float(getattr(day, token_type))
            if value <= 0:
                continue
            top, bottom = y(base + value), y(base)
            out.append(
                f'<rect class="s-{token_type}" x="{_f(x(i) + (slot_w - bar_w) / 2)}"'
                f' y="{_f(top)}" width="{_f(bar_w)}" height="{_f(max(bottom - top, 0.5))}"/>'
            )
            base += value
        out.append("</g>")
    out.append("</g>")

    # X axis: the first of each month, and where the data ends.
    out.append('<g class="axis axis-x">')
    baseline = _f(TOP + PLOT_H)
    out.append(
        f'<line class="baseline" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{baseline}" y2="{baseline}"/>'
    )
    if days:
        first = days[0].day
        for i in range(slots):
            day = first + timedelta(days=i)
            if day.day == 1:
                xx = _f(x(i))
                out.append(
                    f'<line class="tick" x1="{xx}" x2="{xx}" y1="{baseline}"'
                    f' y2="{_f(TOP + PLOT_H + 5)}"/>'
                )
                out.append(
                    f'<text x="{xx}" y="{_f(TOP + PLOT_H + 18)}" text-anchor="middle">'
                    f"{day.day} {escape(f'{day:%b}')}</text>"
                )
    out.append(
        f'<text class="axis-label" x="{_f(LEFT + PLOT_W / 2)}" y="{HEIGHT - 6}"'
        ' text-anchor="middle">Date (UTC)</text>'
    )
    out.append("</g></svg>")
    # Safe: built from numbers and escaped text only.
    return mark_safe("".join(out))  # noqa: S308


def dashboard_chart(data: DashboardData) -> SafeString | None:
    """The dashboard's chart of the estimate's window, or None before there is an estimate."""
    if data.estimate is None or not data.days:
        return None
    first, last = data.days[0].day, data.days[-1].day
    return token_chart(
        data.days,
        per_day=data.projected_per_day,
        title=f"Tokens per day, {len(data.days)} sampled days by type, and the next 30 days",
        description=(
            f"Daily totals from {first:%d %b %Y} to {last:%d %b %Y}, stacked by token type. "
            f"The dashed line is the projection: {tokens(data.estimate.monthly_tokens_total)} "
            "tokens a month."
        ),
    )
