"""A synthetic Invent organisation and a local HTTP server speaking Invent's API."""
