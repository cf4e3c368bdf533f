"""Entries -> one flat, typed Arrow table / DataFrame; the schema lives here, once."""

from auditlab.frame.build import entries_to_table, pages_to_table
from auditlab.frame.convert import empty_frame, table_to_frame
from auditlab.frame.lookup import Entry, entry, search
from auditlab.frame.metadata import expand_metadata
from auditlab.frame.schema import COLUMNS, SCHEMA

__all__ = [
    "COLUMNS",
    "SCHEMA",
    "Entry",
    "empty_frame",
    "entries_to_table",
    "entry",
    "expand_metadata",
    "pages_to_table",
    "search",
    "table_to_frame",
]
