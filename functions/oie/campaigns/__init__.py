"""Reactive per-contact campaigns: plans, the engine, sending."""
