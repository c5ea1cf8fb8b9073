"""The console's read models: the hot-leads list and one lead's timeline (data, rules, JSON)."""
