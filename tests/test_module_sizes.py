"""Modules stay small enough to read in one sitting (house style: under ~300 lines)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 300
# Every application package (tests and migrations aside; data tables are held too).
PACKAGES = ["billing", "connectors", "estimates", "tokenoffset", "bench"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_application_module_is_over_300_lines(package):
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
