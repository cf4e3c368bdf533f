"""The environment variables auditlab reads, each named once.

Every module that reads one, mentions one in a message or prints one imports
its name from here. A leaf: it imports nothing.

>>> API_KEY_VARIABLE
'INVENT_API_KEY'
"""

from __future__ import annotations

# The Invent API key (also read from a line of a .env file); never echoed.
API_KEY_VARIABLE = "INVENT_API_KEY"
# The API's base URL, when it is not Invent's own (e.g. a sandbox).
BASE_URL_VARIABLE = "INVENT_BASE_URL"
# The root folder of the Parquet cache.
CACHE_DIR_VARIABLE = "AUDITLAB_CACHE_DIR"
# The secret of the report's keyed pseudonyms.
PSEUDONYM_KEY_VARIABLE = "AUDITLAB_PSEUDONYM_KEY"
# The Chromium (or Chrome) executable that prints a report to PDF.
CHROMIUM_VARIABLE = "AUDITLAB_CHROMIUM"
