"""What a source's kind can report, from the connector registry (no database access)."""

from django import template

from connectors import registry
from tokenoffset.dashboard.coverage import source_coverage
from tokenoffset.dashboard.selectors import source_notes, spend_reported

register = template.Library()
register.filter("spend_reported", spend_reported)
register.filter("source_notes", source_notes)
register.filter("source_coverage", source_coverage)


@register.filter
def connector_sees(connector_id: str) -> str:
    """The Connect page's sentence of what a kind of source can see."""
    try:
        return registry.get(str(connector_id)).sees
    except registry.UnknownSourceKind:
        return ""


@register.filter
def connector_coverage(connector_id: str):
    """A kind's declared coverage (what the footprint counts, what is in spend only), or None."""
    try:
        coverage = registry.get(str(connector_id)).coverage
    except registry.UnknownSourceKind:
        return None
    return coverage if coverage.declared else None
