"""A tenant's settings: one validated model per setting, a service the CLI, API and pages share, a change log."""
