"""Suppressions and unsubscribes: addresses a tenant must never email again, whoever asks."""
