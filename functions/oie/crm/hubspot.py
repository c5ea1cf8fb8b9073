"""HubSpot through hubspot-api-client with a private app's access token.

Calls (CRM v3): property groups and batch property create/read, contacts batch read (by
email) / update / create, notes batch create (associated to the contact, type 202),
notes search (a crashed run's note) and batch archive; for readback, contact -> deal
associations batch read (v4) and deals batch read (stage, close date). Every call is bounded by
`oie.deadlines` ("http"); `host` points the client elsewhere (the local CRM server).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import urllib3
from hubspot import HubSpot
from hubspot.crm import contacts as hc
from hubspot.crm import deals as hd
from hubspot.crm import properties as hp
from hubspot.crm.associations import v4 as ha
from hubspot.crm.objects import notes as hn

from oie import deadlines
from oie.crm.mapping import GROUP_LABEL, GROUP_NAME, Field
from oie.crm.models import ContactWrite, Deal, NoteWrite
from oie.crm.ports import CrmAuthFailed, CrmError, CrmRateLimited, CrmUnavailable

T = TypeVar("T")
NOTE_TO_CONTACT = 202  # HubSpot-defined association type: note -> contact
_HUBSPOT_TYPES = {
    "number": ("number", "number"),
    "string": ("string", "text"),
    "datetime": ("datetime", "date"),
    "text": ("string", "textarea"),
}
_API_ERRORS = (hc.ApiException, hp.ApiException, hn.ApiException, hd.ApiException, ha.ApiException)
DEAL_PROPERTIES = ["dealstage", "closedate", "hs_lastmodifieddate"]


def _retry_after(exc: Any) -> float | None:
    value = (exc.headers or {}).get("Retry-After") if getattr(exc, "headers", None) else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _call(what: str, call: Callable[[], T], tolerate: tuple[int, ...] = ()) -> T | None:
    """Run one client call; map HubSpot's answers to the port's errors (never the token)."""
    try:
        return call()
    except _API_ERRORS as exc:
        status = int(exc.status or 0)
        if status in tolerate:
            return None
        if status == 429:
            raise CrmRateLimited(f"HubSpot {what}: rate limited (429)", _retry_after(exc)) from None
        if status in (401, 403):
            raise CrmAuthFailed(f"HubSpot {what}: the private app token was refused ({status})") from None
        if status == 0 or status >= 500:
            raise CrmUnavailable(f"HubSpot {what}: {status or 'no answer'} {exc.reason or ''}".strip()) from None
        raise CrmError(f"HubSpot {what}: {status} {str(exc.body or exc.reason)[:300]}") from None
    except urllib3.exceptions.HTTPError as exc:
        raise CrmUnavailable(f"HubSpot {what}: unreachable ({type(exc).__name__})") from None


class HubSpotCrm:
    """The CRM port on HubSpot; contact batch endpoints take 100 inputs."""

    batch_size = 100

    def __init__(self, token: str, host: str = "https://api.hubapi.com") -> None:
        self._client = HubSpot(access_token=token, host=host.rstrip("/"))

    def _timeout(self) -> float:
        return deadlines.seconds("http")

    def ensure_schema(self, fields: Sequence[Field]) -> None:
        props = self._client.crm.properties
        group = hp.PropertyGroupCreate(name=GROUP_NAME, label=GROUP_LABEL, display_order=-1)
        # 409: the group exists already (an earlier connect, or another engine's run).
        _call(
            "create property group",
            lambda: props.groups_api.create("contacts", group, _request_timeout=self._timeout()),
            tolerate=(409,),
        )
        wanted = hp.BatchReadInputPropertyName(archived=False, inputs=[hp.PropertyName(name=f.hubspot) for f in fields])
        found = _call(
            "read properties", lambda: props.batch_api.read("contacts", wanted, _request_timeout=self._timeout())
        )
        have = {p.name for p in (found.results if found else [])}
        missing = [f for f in fields if f.hubspot not in have]
        if not missing:
            return
        inputs = [
            hp.PropertyCreate(
                name=f.hubspot,
                label=f.label,
                type=_HUBSPOT_TYPES[f.type][0],
                field_type=_HUBSPOT_TYPES[f.type][1],
                group_name=GROUP_NAME,
            )
            for f in missing
        ]
        _call(
            "create properties",
            lambda: props.batch_api.create(
                "contacts", hp.BatchInputPropertyCreate(inputs=inputs), _request_timeout=self._timeout()
            ),
        )

    def find_contacts(self, emails: Sequence[str]) -> dict[str, str]:
        body = hc.BatchReadInputSimplePublicObjectId(
            id_property="email",
            inputs=[hc.SimplePublicObjectId(id=e) for e in emails],
            properties=["email"],
            properties_with_history=[],
        )
        batch = self._client.crm.contacts.batch_api
        # Unknown emails come back as errors of a 207 answer: they are simply not found. No
        # `archived` argument: the client would send "False", and leaving it out means false.
        found = _call("read contacts", lambda: batch.read(body, _request_timeout=self._timeout()))
        return {
            str(r.properties.get("email", "")).lower(): str(r.id)
            for r in (found.results if found else [])
            if r.properties.get("email")
        }

    def update_contacts(self, writes: Sequence[tuple[str, ContactWrite]], fields: Sequence[Field]) -> dict[str, str]:
        inputs = [hc.SimplePublicObjectBatchInput(id=cid, properties=_properties(w, fields)) for cid, w in writes]
        batch = self._client.crm.contacts.batch_api
        _call(
            "update contacts",
            lambda: batch.update(
                hc.BatchInputSimplePublicObjectBatchInput(inputs=inputs), _request_timeout=self._timeout()
            ),
        )
        return {}

    def create_contacts(self, writes: Sequence[ContactWrite], fields: Sequence[Field]) -> dict[str, str]:
        inputs = [
            hc.SimplePublicObjectBatchInputForCreate(
                properties={**_identity(w), **_properties(w, fields)}, associations=[]
            )
            for w in writes
        ]
        body = hc.BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        batch = self._client.crm.contacts.batch_api
        created = _call("create contacts", lambda: batch.create(body, _request_timeout=self._timeout()))
        return {str(r.properties.get("email", "")).lower(): str(r.id) for r in (created.results if created else [])}

    def create_notes(self, notes: Sequence[NoteWrite]) -> dict[str, str]:
        association = hn.AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=NOTE_TO_CONTACT)
        inputs = [
            hn.SimplePublicObjectBatchInputForCreate(
                properties={"hs_timestamp": n.at.isoformat(), "hs_note_body": f"{n.title}\n{n.body}"},
                associations=[
                    hn.PublicAssociationsForObject(to=hn.PublicObjectId(id=n.contact_id), types=[association])
                ],
            )
            for n in notes
        ]
        body = hn.BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        batch = self._client.crm.objects.notes.batch_api
        created = _call("create notes", lambda: batch.create(body, _request_timeout=self._timeout()))
        ids: dict[str, str] = {}
        # Results come back unordered: each note is known by the key in its body.
        for result in created.results if created else []:
            text = str(result.properties.get("hs_note_body", ""))
            for note in notes:
                if note.key in text:
                    ids[note.key] = str(result.id)
        return ids

    def find_note(self, key: str, contact_id: str) -> str | None:
        filters = [
            hn.Filter(property_name="hs_note_body", operator="CONTAINS_TOKEN", value=key),
            hn.Filter(property_name="associations.contact", operator="EQ", value=contact_id),
        ]
        body = hn.PublicObjectSearchRequest(
            filter_groups=[hn.FilterGroup(filters=filters)], properties=["hs_note_body"], limit=1
        )
        search = self._client.crm.objects.notes.search_api
        found = _call("search notes", lambda: search.do_search(body, _request_timeout=self._timeout()))
        results = found.results if found else []
        return str(results[0].id) if results else None

    def clear_contacts(self, contact_ids: Sequence[str], fields: Sequence[Field]) -> None:
        # HubSpot empties a property set to "".
        inputs = [
            hc.SimplePublicObjectBatchInput(id=cid, properties={f.hubspot: "" for f in fields}) for cid in contact_ids
        ]
        batch = self._client.crm.contacts.batch_api
        _call(
            "clear contacts",
            lambda: batch.update(
                hc.BatchInputSimplePublicObjectBatchInput(inputs=inputs), _request_timeout=self._timeout()
            ),
        )

    def delete_contacts(self, contact_ids: Sequence[str]) -> None:
        body = hc.BatchInputSimplePublicObjectId(inputs=[hc.SimplePublicObjectId(id=i) for i in contact_ids])
        batch = self._client.crm.contacts.batch_api
        _call("delete contacts", lambda: batch.archive(body, _request_timeout=self._timeout()))

    def delete_notes(self, note_ids: Sequence[str]) -> None:
        body = hn.BatchInputSimplePublicObjectId(inputs=[hn.SimplePublicObjectId(id=i) for i in note_ids])
        batch = self._client.crm.objects.notes.batch_api
        _call("delete notes", lambda: batch.archive(body, _request_timeout=self._timeout()))

    def _read_deals(self, ids: Sequence[str]) -> Any:
        body = hd.BatchReadInputSimplePublicObjectId(
            inputs=[hd.SimplePublicObjectId(id=i) for i in ids], properties=DEAL_PROPERTIES, properties_with_history=[]
        )
        return self._client.crm.deals.batch_api.read(body, _request_timeout=self._timeout())

    def read_deals(self, contact_ids: Sequence[str]) -> list[Deal]:
        wanted = ha.BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[ha.PublicFetchAssociationsBatchRequest(id=cid) for cid in contact_ids]
        )
        links = self._client.crm.associations.v4.batch_api
        # A contact without deals comes back as an error of a 207 answer: it simply has none.
        found = _call(
            "read deal associations",
            lambda: links.get_page("contacts", "deals", wanted, _request_timeout=self._timeout()),
        )
        contacts_of: dict[str, list[str]] = {}
        for result in found.results if found else []:
            for to in result.to or []:
                contacts_of.setdefault(str(to.to_object_id), []).append(str(result._from.id))
        if not contacts_of:
            return []
        ids, read = list(contacts_of), list[Any]()
        for start in range(0, len(ids), self.batch_size):  # contacts may have more deals than one batch takes
            deals = _call("read deals", partial(self._read_deals, ids[start : start + self.batch_size]))
            read.extend(deals.results if deals else [])
        return [
            Deal(
                deal_id=str(d.id),
                contact_id=contact_id,
                stage=str(d.properties.get("dealstage") or ""),
                closed_at=_time(d.properties.get("closedate")),
                modified_at=_time(d.properties.get("hs_lastmodifieddate")),
            )
            for d in read
            for contact_id in contacts_of.get(str(d.id), [])
        ]


def _identity(write: ContactWrite) -> dict[str, str]:
    found = {"email": write.email, "firstname": write.first_name, "lastname": write.last_name, "company": write.company}
    return {k: v for k, v in found.items() if v}


def _properties(write: ContactWrite, fields: Sequence[Field]) -> dict[str, str]:
    """HubSpot takes every property value as a string; None empties it."""
    out: dict[str, str] = {}
    for f in fields:
        if f.name not in write.values:
            continue
        value = write.values[f.name]
        out[f.hubspot] = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
    return out


def _time(value: Any) -> datetime | None:
    """A HubSpot date-time property (ISO 8601, `Z`) as an aware datetime; None when empty or odd."""
    try:
        found = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return found if found is None or found.tzinfo else found.replace(tzinfo=UTC)
