"""What a source's kind can report, from the connector registry (no database access)."""

from django import template

from connectors import registry
from tokenoffset.dashboard.selectors import source_notes, spend_reported

register = template.Library()
register.filter("spend_reported", spend_reported)
register.filter("source_notes", source_notes)


@register.filter
def connector_sees(connector_id: str) -> str:
    """The Connect page's sentence of what a kind of source can see."""
    try:
        return registry.get(str(connector_id)).sees
    except registry.UnknownSourceKind:
        return ""
