"""Salesforce through simple-salesforce, as a connected app (OAuth 2.0 client credentials flow).

The connected app has "Enable Client Credentials Flow" and a run-as user; simple-salesforce
posts `grant_type=client_credentials` with the consumer key and secret to the org's My
Domain (`https://<domain>.salesforce.com/services/oauth2/token`) and refreshes the token
on INVALID_SESSION_ID. Calls (REST v59.0): Contact describe, Tooling API CustomField
create, SOQL queries, sObject Collections (`composite/sobjects`) for batch update, create
and delete; for readback, a SOQL query of the contacts' OpportunityContactRoles with each
opportunity's StageName and CloseDate. simple-salesforce builds every URL as https://; `base_url` sends them all to
one other server instead (the local CRM server), through the requests session's adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError
from simple_salesforce.format import format_soql

from oie import deadlines
from oie.crm.mapping import Field
from oie.crm.models import ContactWrite, Deal, NoteWrite, SalesforceCredentials
from oie.crm.ports import CrmAuthFailed, CrmError, CrmRateLimited, CrmUnavailable

T = TypeVar("T")
API_VERSION = "59.0"
_METADATA: dict[str, dict[str, Any]] = {
    "number": {"type": "Number", "precision": 5, "scale": 0},
    "string": {"type": "Text", "length": 255},
    "datetime": {"type": "DateTime"},
    "text": {"type": "LongTextArea", "length": 32768, "visibleLines": 4},
}


class _Transport(HTTPAdapter):
    """Bounds every request by `oie.deadlines`; with `base_url`, sends it there (local server)."""

    def __init__(self, base_url: str = "") -> None:
        super().__init__(max_retries=0)
        self.base_url = base_url.rstrip("/")

    def send(self, request: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.base_url:
            parts = urlsplit(request.url)
            request.url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        if not kwargs.get("timeout"):
            kwargs["timeout"] = deadlines.seconds("http")
        return super().send(request, **kwargs)


def _codes(content: Any) -> set[str]:
    items = content if isinstance(content, list) else [content]
    return {str(i.get("errorCode") or i.get("statusCode") or "") for i in items if isinstance(i, dict)}


def _call(what: str, call: Callable[[], T], tolerate: tuple[str, ...] = ()) -> T | None:
    """Run one client call; map Salesforce's answers to the port's errors (never a credential)."""
    try:
        return call()
    except SalesforceAuthenticationFailed as exc:
        raise CrmAuthFailed(f"Salesforce {what}: the connected app was refused ({exc.code})") from None
    except SalesforceError as exc:
        codes = _codes(exc.content)
        if codes & set(tolerate):
            return None
        if "REQUEST_LIMIT_EXCEEDED" in codes or exc.status == 429:
            raise CrmRateLimited(f"Salesforce {what}: REQUEST_LIMIT_EXCEEDED") from None
        if exc.status == 401:
            raise CrmAuthFailed(f"Salesforce {what}: session refused ({', '.join(sorted(codes))})") from None
        if exc.status >= 500:
            raise CrmUnavailable(f"Salesforce {what}: {exc.status}") from None
        raise CrmError(
            f"Salesforce {what}: {exc.status} {', '.join(sorted(codes)) or str(exc.content)[:300]}"
        ) from None
    except requests.RequestException as exc:
        raise CrmUnavailable(f"Salesforce {what}: unreachable ({type(exc).__name__})") from None


def _record_errors(results: Any, ids: Sequence[str]) -> dict[str, str]:
    """sObject Collections answer one result per record, in order: the failed ones by id."""
    errors: dict[str, str] = {}
    for record_id, result in zip(ids, results or [], strict=False):
        if not result.get("success"):
            codes = [str(e.get("statusCode", "")) + ": " + str(e.get("message", "")) for e in result.get("errors", [])]
            if any(c.startswith("REQUEST_LIMIT_EXCEEDED") for c in codes):
                raise CrmRateLimited("Salesforce composite/sobjects: REQUEST_LIMIT_EXCEEDED")
            errors[record_id] = "; ".join(codes)[:300] or "rejected"
    return errors


class SalesforceCrm:
    """The CRM port on Salesforce Contacts and Tasks; sObject Collections take 200 records."""

    batch_size = 200

    def __init__(self, credentials: SalesforceCredentials, domain: str, base_url: str = "") -> None:
        self._credentials = credentials
        self._domain = domain
        self._base_url = base_url
        self._sf: Salesforce | None = None

    def _client(self) -> Salesforce:
        if self._sf is None:
            session = requests.Session()
            session.mount("https://", _Transport(self._base_url))
            session.mount("http://", _Transport(self._base_url))
            self._sf = _call(
                "login",
                lambda: Salesforce(
                    consumer_key=self._credentials.consumer_key,
                    consumer_secret=self._credentials.consumer_secret,
                    domain=self._domain,
                    session=session,
                    version=API_VERSION,
                ),
            )
        assert self._sf is not None
        return self._sf

    def _collection(self, what: str, method: str, records: list[dict[str, Any]]) -> Any:
        body = {"allOrNone": False, "records": records}
        return _call(what, lambda: self._client().restful("composite/sobjects", method=method, json=body))

    def ensure_schema(self, fields: Sequence[Field]) -> None:
        sf = self._client()
        described = _call(
            "describe Contact",
            lambda: sf.restful("sobjects/Contact/describe"),
        )
        have = {f["name"] for f in (described or {}).get("fields", [])}
        for f in fields:
            if f.salesforce in have:
                continue
            data = {
                "FullName": f"Contact.{f.salesforce}",
                "Metadata": {
                    "label": f.label,
                    "description": "Written by the Outbound Intent Engine",
                    **_METADATA[f.type],
                },
            }
            # A field another run created meanwhile answers DUPLICATE_DEVELOPER_NAME.
            _call(
                "create field",
                partial(sf.toolingexecute, "sobjects/CustomField/", method="POST", data=data),
                tolerate=("DUPLICATE_DEVELOPER_NAME", "DUPLICATE_VALUE"),
            )

    def find_contacts(self, emails: Sequence[str]) -> dict[str, str]:
        soql = format_soql("SELECT Id, Email FROM Contact WHERE Email IN {} ORDER BY CreatedDate ASC", list(emails))
        found = _call("query contacts", lambda: self._client().query(soql))
        ids: dict[str, str] = {}
        for record in (found or {}).get("records", []):
            # Several contacts may share an email: the oldest one keeps the engine's fields.
            ids.setdefault(str(record["Email"]).lower(), str(record["Id"]))
        return ids

    def update_contacts(self, writes: Sequence[tuple[str, ContactWrite]], fields: Sequence[Field]) -> dict[str, str]:
        records = [{"attributes": {"type": "Contact"}, "id": cid, **_fields(w, fields)} for cid, w in writes]
        results = self._collection("update contacts", "PATCH", records)
        return _record_errors(results, [cid for cid, _ in writes])

    def create_contacts(self, writes: Sequence[ContactWrite], fields: Sequence[Field]) -> dict[str, str]:
        records = [
            {
                "attributes": {"type": "Contact"},
                "Email": w.email,
                "FirstName": w.first_name or None,
                # LastName is required on a Contact: the address's local part stands in.
                "LastName": w.last_name or w.email.split("@")[0],
                **_fields(w, fields),
            }
            for w in writes
        ]
        results = self._collection("create contacts", "POST", records)
        return {w.email.lower(): str(r["id"]) for w, r in zip(writes, results or [], strict=False) if r.get("success")}

    def create_notes(self, notes: Sequence[NoteWrite]) -> dict[str, str]:
        records = [
            {
                "attributes": {"type": "Task"},
                "WhoId": n.contact_id,
                "Subject": f"{n.title} [{n.key}]"[:255],
                "Description": n.body,
                "ActivityDate": n.at.date().isoformat(),
                "Status": "Completed",
                "Priority": "High",
            }
            for n in notes
        ]
        results = self._collection("create tasks", "POST", records)
        return {n.key: str(r["id"]) for n, r in zip(notes, results or [], strict=False) if r.get("success")}

    def find_note(self, key: str, contact_id: str) -> str | None:
        soql = format_soql("SELECT Id FROM Task WHERE WhoId = {} AND Subject LIKE '%{:like}%'", contact_id, key)
        found = _call("query tasks", lambda: self._client().query(soql))
        records = (found or {}).get("records", [])
        return str(records[0]["Id"]) if records else None

    def clear_contacts(self, contact_ids: Sequence[str], fields: Sequence[Field]) -> None:
        records = [
            {"attributes": {"type": "Contact"}, "id": cid, **{f.salesforce: None for f in fields}}
            for cid in contact_ids
        ]
        errors = _record_errors(self._collection("clear contacts", "PATCH", records), contact_ids)
        if errors:
            raise CrmError(f"Salesforce clear contacts: {next(iter(errors.values()))}")

    def delete_notes(self, note_ids: Sequence[str]) -> None:
        self._delete("delete tasks", note_ids)

    def delete_contacts(self, contact_ids: Sequence[str]) -> None:
        self._delete("delete contacts", contact_ids)

    def read_deals(self, contact_ids: Sequence[str]) -> list[Deal]:
        soql = format_soql(
            "SELECT ContactId, OpportunityId, Opportunity.StageName, Opportunity.CloseDate, "
            "Opportunity.LastModifiedDate FROM OpportunityContactRole WHERE ContactId IN {}",
            list(contact_ids),
        )
        found = _call("query opportunities", lambda: self._client().query_all(soql))
        deals = []
        for record in (found or {}).get("records", []):
            opportunity = record.get("Opportunity") or {}
            deals.append(
                Deal(
                    deal_id=str(record["OpportunityId"]),
                    contact_id=str(record["ContactId"]),
                    stage=str(opportunity.get("StageName") or ""),
                    closed_at=_time(opportunity.get("CloseDate")),
                    modified_at=_time(opportunity.get("LastModifiedDate")),
                )
            )
        return deals

    def _delete(self, what: str, ids: Sequence[str]) -> None:
        params = {"ids": ",".join(ids), "allOrNone": "false"}
        results = _call(what, lambda: self._client().restful("composite/sobjects", params=params, method="DELETE"))
        # A record deleted already (by a person, or an earlier erasure) is as good as deleted.
        errors = {k: v for k, v in _record_errors(results, ids).items() if "ENTITY_IS_DELETED" not in v}
        if errors:
            raise CrmError(f"Salesforce {what}: {next(iter(errors.values()))}")


def _fields(write: ContactWrite, fields: Sequence[Field]) -> dict[str, Any]:
    return {f.salesforce: write.values[f.name] for f in fields if f.name in write.values}


def _time(value: Any) -> datetime | None:
    """A Salesforce date ("2026-03-01", taken as its midnight UTC) or date-time ("…T10:00:00.000+0000")."""
    if not value:
        return None
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)
