"""Retention and erasure: keeping data no longer than a tenant allows, forgetting a person on request."""
