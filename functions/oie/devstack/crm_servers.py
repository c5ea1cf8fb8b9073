"""Local HubSpot and Salesforce servers: just the endpoints oie.crm's clients call, in memory.

Tests and `make run` point the real client libraries here (OIE_CRM_HUBSPOT_HOST,
OIE_CRM_SALESFORCE_BASE_URL). Each server keeps every request it was sent (method, path,
query, JSON body), checks the bearer token, enforces the batch limits, and answers the
next requests with a rate-limit error when told to (`limit_next`); `GET /_local/state`
shows what was written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oie.devstack.crm_http import Answer, CrmServer, now_iso

__all__ = ["CrmServer", "HubSpotServer", "SalesforceServer", "connect_demo", "start_local"]


class HubSpotServer(CrmServer):
    """CRM v3: property groups and batch properties, contacts batch read/update/create/archive, notes, deals."""

    groups: set[str]
    properties: dict[str, dict[str, Any]]
    deals: dict[str, dict[str, Any]]

    def __post_init__(self) -> None:
        self.groups, self.properties, self.deals = set(), {}, {}

    def add_deal(self, contact_id: str, stage: str, closedate: str = "") -> str:
        """A deal of the contact at `stage` (a sales rep's doing in the real CRM); its id."""
        with self._lock:
            did = self.new_id()
            self.deals[did] = {
                "dealstage": stage,
                "closedate": closedate,
                "hs_lastmodifieddate": now_iso(),
                "contact_ids": [contact_id],
            }
        return did

    def move_deal(self, deal_id: str, stage: str, closedate: str = "") -> None:
        with self._lock:
            self.deals[deal_id].update(dealstage=stage, closedate=closedate, hs_lastmodifieddate=now_iso())

    def _object(self, oid: str, props: dict[str, Any]) -> dict[str, Any]:
        return {"id": oid, "properties": props, "createdAt": now_iso(), "updatedAt": now_iso(), "archived": False}

    def _batch(self, results: list[Any], errors: list[Any] | None = None, status: int = 200) -> Answer:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": now_iso(),
            "completedAt": now_iso(),
        }
        if errors:
            body.update(errors=errors, numErrors=len(errors))
            return 207, body
        return status, body

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"status": "error", "category": "INVALID_AUTHENTICATION", "message": "bad token"}
        if self.limited:
            self.limited -= 1
            return 429, {
                "status": "error",
                "category": "RATE_LIMITS",
                "message": "You have reached your secondly limit.",
            }
        inputs = (body or {}).get("inputs", []) if isinstance(body, dict) else []
        if len(inputs) > 100:
            return 400, {"status": "error", "category": "VALIDATION_ERROR", "message": "at most 100 inputs"}
        handler: dict[tuple[str, str], Callable[[list[Any], Any], Answer]] = {
            ("POST", "/crm/v3/properties/contacts/groups"): self._create_group,
            ("POST", "/crm/v3/properties/contacts/batch/read"): self._read_properties,
            ("POST", "/crm/v3/properties/contacts/batch/create"): self._create_properties,
            ("POST", "/crm/v3/objects/contacts/batch/read"): self._read_contacts,
            ("POST", "/crm/v3/objects/contacts/batch/update"): self._update_contacts,
            ("POST", "/crm/v3/objects/contacts/batch/create"): self._create_contacts,
            ("POST", "/crm/v3/objects/contacts/batch/archive"): lambda i, b: self._archive(self.contacts, i),
            ("POST", "/crm/v3/objects/notes/batch/create"): self._create_notes,
            ("POST", "/crm/v3/objects/notes/search"): self._search_notes,
            ("POST", "/crm/v3/objects/notes/batch/archive"): lambda i, b: self._archive(self.notes, i),
            ("POST", "/crm/v4/associations/contacts/deals/batch/read"): self._read_deal_links,
            ("POST", "/crm/v3/objects/deals/batch/read"): self._read_deals,
        }
        call = handler.get((method, path))
        return call(inputs, body) if call else (404, {"status": "error", "message": f"no {method} {path} here"})

    def _create_group(self, inputs: list[Any], body: Any) -> Answer:
        if body["name"] in self.groups:
            return 409, {"status": "error", "category": "CONFLICT", "message": "group exists"}
        self.groups.add(body["name"])
        return 201, {"name": body["name"], "label": body["label"], "displayOrder": -1, "archived": False}

    def _read_properties(self, inputs: list[Any], body: Any) -> Answer:
        found = [self.properties[i["name"]] for i in inputs if i["name"] in self.properties]
        missing = [
            {"status": "error", "category": "OBJECT_NOT_FOUND", "message": i["name"]}
            for i in inputs
            if i["name"] not in self.properties
        ]
        return self._batch(found, missing)

    def _create_properties(self, inputs: list[Any], body: Any) -> Answer:
        for prop in inputs:
            self.properties[prop["name"]] = {**prop, "description": "", "options": []}
        return self._batch([self.properties[p["name"]] for p in inputs], status=201)

    def _by_email(self, email: str) -> str | None:
        return next((cid for cid, c in self.contacts.items() if c.get("email", "").lower() == email.lower()), None)

    def _read_contacts(self, inputs: list[Any], body: Any) -> Answer:
        found = [(i["id"], self._by_email(i["id"])) for i in inputs]
        results = [self._object(cid, {"email": self.contacts[cid]["email"]}) for _, cid in found if cid]
        errors = [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": e} for e, cid in found if not cid]
        return self._batch(results, errors)

    def _update_contacts(self, inputs: list[Any], body: Any) -> Answer:
        unknown = [i["id"] for i in inputs if i["id"] not in self.contacts]
        if unknown:
            return 400, {"status": "error", "category": "VALIDATION_ERROR", "message": f"unknown ids {unknown}"}
        for item in inputs:
            self.contacts[item["id"]].update(item["properties"])
        return self._batch([self._object(i["id"], self.contacts[i["id"]]) for i in inputs])

    def _create_contacts(self, inputs: list[Any], body: Any) -> Answer:
        results = []
        for item in inputs:
            cid = self.new_id()
            self.contacts[cid] = dict(item["properties"])
            results.append(self._object(cid, self.contacts[cid]))
        return self._batch(results, status=201)

    def _create_notes(self, inputs: list[Any], body: Any) -> Answer:
        results = []
        for item in inputs:
            nid = self.new_id()
            contact = item["associations"][0]["to"]["id"]
            self.notes[nid] = {**item["properties"], "contact_id": contact, "association": item["associations"][0]}
            results.append(self._object(nid, item["properties"]))
        return self._batch(results, status=201)

    def _search_notes(self, inputs: list[Any], body: Any) -> Answer:
        filters = {f["propertyName"]: f["value"] for f in body["filterGroups"][0]["filters"]}
        hits = [
            self._object(nid, {"hs_note_body": n["hs_note_body"]})
            for nid, n in self.notes.items()
            if filters.get("hs_note_body", "") in n["hs_note_body"]
            and n["contact_id"] == filters.get("associations.contact")
        ]
        return 200, {"total": len(hits), "results": hits[:1]}

    def _read_deal_links(self, inputs: list[Any], body: Any) -> Answer:
        results, errors = [], []
        for item in inputs:
            linked = [did for did, d in self.deals.items() if item["id"] in d["contact_ids"]]
            if not linked:
                message = f"No deals is associated with object {item['id']}"
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND", "message": message})
                continue
            to = [
                {"toObjectId": int(did), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 4}]}
                for did in linked
            ]
            results.append({"from": {"id": item["id"]}, "to": to})
        return self._batch(results, errors)

    def _read_deals(self, inputs: list[Any], body: Any) -> Answer:
        wanted = body.get("properties") or []
        results = [
            self._object(i["id"], {k: v for k, v in self.deals[i["id"]].items() if k in wanted})
            for i in inputs
            if i["id"] in self.deals
        ]
        return self._batch(results)

    def _archive(self, objects: dict[str, Any], inputs: list[Any]) -> Answer:
        for item in inputs:
            objects.pop(item["id"], None)
        return 204, None


class SalesforceServer(CrmServer):
    """OAuth client credentials, Contact describe, Tooling CustomField, SOQL (three shapes), sObject Collections."""

    consumer_key: str = "local-consumer-key"
    consumer_secret: str = "local-consumer-secret"
    fields: set[str]

    opportunities: dict[str, dict[str, Any]]

    def __post_init__(self) -> None:
        self.fields = {"Id", "Email", "FirstName", "LastName"}
        self.opportunities = {}

    def add_opportunity(self, contact_id: str, stage: str, close_date: str = "") -> str:
        """An opportunity with the contact in a contact role, at `stage` (StageName); its id."""
        with self._lock:
            oid = self.new_id()
            self.opportunities[oid] = {
                "StageName": stage,
                "CloseDate": close_date or None,
                "LastModifiedDate": now_iso().replace("Z", "+0000"),
                "contact_ids": [contact_id],
            }
        return oid

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any, headers: dict[str, str]) -> Answer:
        if path == "/services/oauth2/token":
            return self._token(body, headers)
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, [{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]
        if self.limited:
            self.limited -= 1
            return 403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]
        api = "/services/data/v59.0/"
        if method == "GET" and path == api + "sobjects/Contact/describe":
            return 200, {"name": "Contact", "fields": [{"name": n} for n in sorted(self.fields)]}
        if method == "POST" and path == api + "tooling/sobjects/CustomField/":
            name = body["FullName"].split(".", 1)[1]
            if name in self.fields:
                return 400, [{"errorCode": "DUPLICATE_DEVELOPER_NAME", "message": "exists"}]
            self.fields.add(name)
            return 201, {"id": self.new_id(), "success": True, "errors": []}
        if method == "GET" and path == api + "query/":
            return self._query(query["q"][0])
        if path == api + "composite/sobjects":
            return self._collection(method, query, body)
        return 404, [{"errorCode": "NOT_FOUND", "message": f"no {method} {path} here"}]

    def _token(self, body: Any, headers: dict[str, str]) -> Answer:
        import base64

        expected = base64.b64encode(f"{self.consumer_key}:{self.consumer_secret}".encode()).decode()
        if (body or {}).get("grant_type") != "client_credentials" or headers.get(
            "Authorization"
        ) != f"Basic {expected}":
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        return 200, {
            "access_token": self.token,
            "instance_url": "https://local.my.salesforce.com",
            "token_type": "Bearer",
        }

    def _query(self, soql: str) -> Answer:
        emails = re.fullmatch(r"SELECT Id, Email FROM Contact WHERE Email IN \((.*)\) ORDER BY CreatedDate ASC", soql)
        if emails:
            # SOQL string literals: 'text' with backslash escapes (format_soql writes them).
            literals = re.findall(r"'((?:[^'\\]|\\.)*)'", emails.group(1))
            wanted = {re.sub(r"\\(.)", r"\1", e).lower() for e in literals}
            rows = [
                {"Id": cid, "Email": c["Email"]} for cid, c in self.contacts.items() if c["Email"].lower() in wanted
            ]
            return 200, {"totalSize": len(rows), "done": True, "records": rows}
        task = re.fullmatch(r"SELECT Id FROM Task WHERE WhoId = '(.*)' AND Subject LIKE '%(.*)%'", soql)
        if task:
            rows = [
                {"Id": tid}
                for tid, t in self.notes.items()
                if t["WhoId"] == task.group(1) and task.group(2) in t["Subject"]
            ]
            return 200, {"totalSize": len(rows), "done": True, "records": rows}
        roles = re.fullmatch(
            r"SELECT ContactId, OpportunityId, Opportunity\.StageName, Opportunity\.CloseDate, "
            r"Opportunity\.LastModifiedDate FROM OpportunityContactRole WHERE ContactId IN \((.*)\)",
            soql,
        )
        if roles:
            wanted = set(re.findall(r"'((?:[^'\\]|\\.)*)'", roles.group(1)))
            rows = [
                {
                    "attributes": {"type": "OpportunityContactRole"},
                    "ContactId": cid,
                    "OpportunityId": oid,
                    "Opportunity": {
                        "attributes": {"type": "Opportunity"},
                        **{k: v for k, v in o.items() if k != "contact_ids"},
                    },
                }
                for oid, o in self.opportunities.items()
                for cid in o["contact_ids"]
                if cid in wanted
            ]
            return 200, {"totalSize": len(rows), "done": True, "records": rows}
        return 400, [{"errorCode": "MALFORMED_QUERY", "message": soql}]

    def _collection(self, method: str, query: dict[str, list[str]], body: Any) -> Answer:
        if method == "DELETE":
            ids = query["ids"][0].split(",")
            out = []
            for rid in ids:
                found = self.contacts.pop(rid, None) or self.notes.pop(rid, None)
                out.append(
                    {
                        "id": rid,
                        "success": found is not None,
                        "errors": [] if found else [{"statusCode": "ENTITY_IS_DELETED", "message": "deleted"}],
                    }
                )
            return 200, out
        records = body["records"]
        if len(records) > 200:
            return 400, [{"errorCode": "EXCEEDED_ID_LIMIT", "message": "at most 200 records"}]
        results = []
        for record in records:
            kind = record["attributes"]["type"]
            values = {k: v for k, v in record.items() if k not in ("attributes", "id")}
            unknown = [k for k in values if kind == "Contact" and k not in self.fields and k != "Company"]
            if unknown:
                results.append({"success": False, "errors": [{"statusCode": "INVALID_FIELD", "message": unknown[0]}]})
            elif method == "PATCH":
                if record["id"] not in self.contacts:
                    results.append(
                        {
                            "id": record["id"],
                            "success": False,
                            "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": ""}],
                        }
                    )
                    continue
                self.contacts[record["id"]].update(values)
                results.append({"id": record["id"], "success": True, "errors": []})
            else:
                rid = self.new_id()
                (self.contacts if kind == "Contact" else self.notes)[rid] = values
                results.append({"id": rid, "success": True, "errors": []})
        return 200, results


LOCAL_FILE = "crm-servers.json"


def start_local(data_dir: Path) -> tuple[HubSpotServer, SalesforceServer, dict[str, str]]:
    """Both servers for `make run`, and the settings that point the engine at them.

    The settings are also written to the stack's data folder, so `oie` commands run beside
    the stack (`oie crm sync demo`) reach the same servers (oie.wiring reads them back).
    """
    hubspot, salesforce = HubSpotServer().start(), SalesforceServer().start()
    env = {"OIE_CRM_HUBSPOT_HOST": hubspot.base_url, "OIE_CRM_SALESFORCE_BASE_URL": salesforce.base_url}
    (data_dir / LOCAL_FILE).write_text(json.dumps(env))
    return hubspot, salesforce, env


def local_bases(data_dir: Path) -> tuple[str, str] | None:
    """The running local stack's CRM servers (HubSpot host, Salesforce base), if one wrote them."""
    try:
        env = json.loads((data_dir / LOCAL_FILE).read_text())
    except (OSError, ValueError):
        return None
    return str(env["OIE_CRM_HUBSPOT_HOST"]), str(env["OIE_CRM_SALESFORCE_BASE_URL"])


def connect_demo(app: Any, hubspot: HubSpotServer, tenant_id: str = "demo") -> None:
    """Connect the demo tenant to the local HubSpot (contacts created), afresh each start: the server forgets."""
    from oie.crm.models import CrmConfig

    app.crm_connections.connect(tenant_id, CrmConfig(provider="hubspot", allow_create=True), hubspot.token)


def main() -> None:
    """Run both servers (`python -m oie.devstack.crm_servers`) until Ctrl-C."""
    import time

    hubspot, salesforce = HubSpotServer().start(), SalesforceServer().start()
    print(f"HubSpot on {hubspot.base_url}, Salesforce on {salesforce.base_url}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        hubspot.stop()
        salesforce.stop()


if __name__ == "__main__":
    main()
