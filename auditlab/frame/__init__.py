"""Entries -> one flat, typed Arrow table / DataFrame; the schema lives here, once."""
