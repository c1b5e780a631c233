"""Numbers formatted for people: ``12.4M`` tokens, ``$3.20``, ``1.8 kWh``, ``0.83 kg``, ``70 L``.

Display only: the exact figures stay ``Decimal`` in the database and in every computation.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

_SCALES = ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "k"))
EMPTY = "—"
MINUS = "\u2212"  # a real minus sign, not a hyphen


def _decimal(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _plain(value: Decimal, places: int) -> str:
    """Rounded to ``places`` decimals, thousands grouped, trailing ``.0`` dropped."""
    text = f"{_round(value, places):,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _measure(value: Decimal) -> str:
    """Three significant figures at most, one decimal from 1 up, none from 100 up."""
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 100:
        return _plain(value, 0)
    if magnitude >= 1:
        return _plain(value, 1)
    # Below one, keep two significant figures: 0.042, 0.0071.
    places = max(2, 1 - magnitude.adjusted())
    return _plain(value, min(places, 6))


@register.filter
def tokens(value) -> str:
    """12,400,000 → ``12.4M``; 950,000 → ``950k``; 640 → ``640``."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    sign = MINUS if number < 0 else ""
    number = abs(number)
    for i, (size, suffix) in enumerate(_SCALES):
        if number >= size:
            scaled = number / size
            places = 0 if scaled >= 100 else 1
            rounded = _round(scaled, places)
            if rounded >= 1000 and i > 0:
                # 999,950 → "1M", not "1000k".
                bigger, bigger_suffix = _SCALES[i - 1]
                return f"{sign}{_plain(number / bigger, 1)}{bigger_suffix}"
            return f"{sign}{_plain(rounded, places)}{suffix}"
    rounded = _round(number, 0)
    if rounded >= 1000:
        return f"{sign}1k"
    return f"{sign}{rounded:,.0f}"


@register.filter
def usd(value) -> str:
    """3.2 → ``$3.20``; 1234.5 → ``$1,234.50``; 0.004 → ``<$0.01``."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    if 0 < abs(number) < Decimal("0.005"):
        return "<$0.01" if number > 0 else f"{MINUS}<$0.01"
    sign = MINUS if number < 0 else ""
    return f"{sign}${_round(abs(number), 2):,.2f}"


@register.filter
def kwh(value) -> str:
    """1.83 → ``1.8 kWh``."""
    number = _decimal(value)
    return EMPTY if number is None else f"{_measure(number)} kWh"


@register.filter
def kg(value) -> str:
    """9.12456 → ``9.1 kg`` (the template says of what: CO₂e)."""
    number = _decimal(value)
    return EMPTY if number is None else f"{_measure(number)} kg"


@register.filter
def litres(value) -> str:
    """70.19 → ``70 L``; 1.84 → ``1.8 L``; 0.26 → ``0.26 L``."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    if abs(number) >= 10:
        return f"{_plain(number, 0)} L"
    return f"{_measure(number)} L"


@register.filter
def pct(value) -> str:
    """A signed change: 18.04 → ``+18%``; -4.5 → ``−4.5%``; 0 → ``±0%``."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    text = _plain(abs(number), 0 if abs(number) >= 10 else 1)
    if text == "0":
        return "±0%"
    return f"{'+' if number > 0 else MINUS}{text}%"


@register.filter
def share(value) -> str:
    """A fraction as a percentage: 0.15 → ``15%``; 0.003 → ``0.3%``."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    return f"{_plain(number * 100, 1)}%"


@register.filter
def plain(value) -> str:
    """A coefficient as stored, without noise: 1000.000000 → ``1,000``; 0.020000 → ``0.02``."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    normalized = number.normalize()
    places = max(0, -normalized.as_tuple().exponent)
    return f"{number:,.{places}f}"


@register.filter
def tokens_words(value) -> str:
    """Token counts in words: 3,000,000 → ``3 million``; 300,000 → ``300 thousand``."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    for size, word in ((10**9, "billion"), (10**6, "million"), (10**3, "thousand")):
        if abs(number) >= size:
            return f"{_plain(number / size, 1)} {word}"
    return _plain(number, 0)


_FORMATS = {"tokens": tokens, "usd": usd, "kwh": kwh, "kg": kg, "litres": litres, "plain": plain}


@register.simple_tag
def span(low, high, unit: str = "plain") -> str:
    """A low–high range in one unit: ``1.4–2.2 kWh``, ``$2.56–$4.00``; one value when equal."""
    fmt = _FORMATS[unit]
    a, b = fmt(low), fmt(high)
    if EMPTY in (a, b):
        return EMPTY
    if a == b:
        return a
    head, _, suffix = a.rpartition(" ")
    if head and b.endswith(f" {suffix}"):
        a = head  # "1.4 kWh–2.2 kWh" reads better as "1.4–2.2 kWh"
    return f"{a}–{b}"
