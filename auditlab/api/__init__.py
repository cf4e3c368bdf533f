"""Talking to Invent: query validation, the HTTP client, paging, retries, rate limiting."""
