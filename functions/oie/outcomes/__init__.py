"""Outcomes: what sales achieved with each lead, the rules that keep that history sane, win rates."""
