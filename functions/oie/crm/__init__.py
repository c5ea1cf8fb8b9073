"""CRM sync: each lead's intent written to the tenant's HubSpot or Salesforce (docs/crm.md).

`sync.CrmSync` (the crm_sync and crm_reconcile jobs) sees only the `ports.CrmClient` port;
its notes go through `notes.NoteWriter`, exactly once per level change (`claims.py`);
`hubspot.py` and `salesforce.py` implement it on the official clients, and `clients.py`
picks one per tenant. `service.CrmConnections` is what the console and `oie crm` call.
"""
