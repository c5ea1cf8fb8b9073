"""Hot-lead alerts: a lead's level rose; tell the tenant's channels, once."""
