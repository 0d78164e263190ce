"""Provet Cloud client: OAuth client credentials, paging, filters, per-endpoint limits."""
