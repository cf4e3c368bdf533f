"""Parquet store: layout, manifest, incremental sync bookkeeping."""
