"""Talking to Invent: query validation, the HTTP client, paging, retries, rate limiting.

>>> from auditlab.api import InventClient, Query, RetryPolicy
>>> Query.build(action="ALL").is_unfiltered
True
"""

from auditlab.api.client import InventClient
from auditlab.api.credentials import resolve_api_key, resolve_base_url
from auditlab.api.paging import FetchResult, Page
from auditlab.api.query import PARAMETER_NAMES, Query
from auditlab.api.ratelimit import RateLimiter
from auditlab.api.retry import RetryPolicy

__all__ = [
    "PARAMETER_NAMES",
    "FetchResult",
    "InventClient",
    "Page",
    "Query",
    "RateLimiter",
    "RetryPolicy",
    "resolve_api_key",
    "resolve_base_url",
]
