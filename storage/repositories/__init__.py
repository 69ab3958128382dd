"""Repositories: SQL with intent-revealing names. They never commit; the unit of work does."""
