"""CSV cells that a spreadsheet opens as data, never as a formula.

Every CSV we hand out (an account's export, the staff aggregates) writes its cells through
``spreadsheet_cell``. Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would be run as a formula by Excel, LibreOffice or Google Sheets ("CSV injection"); it gets a
leading single quote, which spreadsheets show as text. Numbers stay numbers, negative ones
included. See https://owasp.org/www-community/attacks/CSV_Injection
"""

import re
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def spreadsheet_cell(value):
    """``value`` as a CSV cell: text that could start a formula is quoted, the rest unchanged."""
    if isinstance(value, bool | int | float | Decimal) or not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
