"""Read a register back from the graph as a ROPA document, as recorded now or at a past moment.

The inverse of `graph.from_document`. It works on entity snapshots (`Entity.snapshot()`), the
form `graph.read.snapshots` gives for the current state and for any past day alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction
from pydantic import ValidationError

from graph import model as m
from graph.database import Database
from graph.read import controller_registers
from graph.read.controller_registers import ControllerAmbiguous as ControllerAmbiguous
from graph.read.snapshots import Snapshot, register_snapshots
from schema import document as d
from schema.document_upgrade import upgrade
from schema.errors import DocumentInvalid, DocumentProblem, NotFound
from schema.node_properties import from_props
from schema.validation import format_path


@dataclass(frozen=True)
class _Links:
    """The links of one snapshot, by relationship type."""

    links: list[dict[str, Any]]

    def targets(self, rel: str) -> list[str]:
        return sorted(
            str(link["to"]).partition(":")[2] for link in self.links if link["type"] == rel
        )

    def one(self, rel: str) -> str | None:
        found = self.targets(rel)
        return found[0] if found else None

    def citations(self, rel: str) -> list[Any]:
        """The citations of a use: its basis links, with the law each rests on here."""
        out: list[Any] = []
        for basis, props in self.with_props(rel):
            laws = list(props.get("restsOn") or [])
            provisions = list(props.get("provisions") or [])
            rests_on = [
                {"law": law, "provision": (provisions[i] if i < len(provisions) else "") or None}
                for i, law in enumerate(laws)
            ]
            # A bare id, as ropa/v1 stored every basis and law, so that `upgrade` reads both.
            out.append({"basis": basis, "rests_on": rests_on} if rests_on else basis)
        return out

    def with_props(self, rel: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted(
            (str(link["to"]).partition(":")[2], dict(link.get("props") or {}))
            for link in self.links
            if link["type"] == rel
        )


def _activity(snap: Snapshot, links: _Links) -> dict[str, Any]:
    out = from_props(d.ProcessingActivity, snap["props"])
    appointments = links.with_props("PROCESSOR")
    out["processors"] = [
        {
            "organisation": org,
            "contract": p.get("contract"),
            "notice_period_days": p.get("noticePeriodDays"),
            "objection_window_days": p.get("objectionWindowDays"),
            "placeholders": [f for f in str(p.get("placeholders") or "").split(",") if f],
        }
        for org, p in appointments
    ]
    out["controller"] = links.one("CONTROLLED_BY")
    out["joint_controllers"] = links.targets("JOINT_CONTROLLER")
    out["data_subjects"] = links.targets("CONCERNS")
    out["data_categories"] = links.targets("PROCESSES")
    out["legal_bases"] = links.citations("LAWFUL_BASIS")
    out["systems"] = links.targets("USES_SYSTEM")
    return out


def _entity_fields(snap: Snapshot) -> tuple[str, dict[str, Any]]:
    """(document collection, field values) of one snapshot."""
    kind, props = snap["kind"], snap["props"]
    links = _Links(list(snap.get("links", [])))
    base: dict[str, Any] = {"id": snap["id"]}
    if kind == m.ORGANISATION:
        return "organisations", base | from_props(d.Organisation, props)
    if kind == m.DATA_SUBJECT:
        fields = from_props(d.DataSubjectCategory, props) | {"parent": links.one("PART_OF")}
        return "data_subjects", base | fields
    if kind == m.DATA_CATEGORY:
        fields = from_props(d.DataCategory, props) | {"parent": links.one("PART_OF")}
        return "data_categories", base | fields
    if kind == m.LEGAL_BASIS:
        fields = from_props(d.LegalBasis, props) | {"rests_on": links.targets("RESTS_ON")}
        return "legal_bases", base | fields
    if kind == m.SYSTEM:
        fields = from_props(d.System, props) | {"operator": links.one("OPERATED_BY")}
        return "systems", base | fields
    if kind == m.ACTIVITY:
        return "activities", base | _activity(snap, links)
    if kind == m.DISCLOSURE:
        fields = from_props(d.Flow, props) | {
            "activity": links.one("IN_ACTIVITY"),
            "source": links.one("FROM"),
            "recipient": links.one("TO"),
            "data_categories": links.targets("CARRIES"),
            "legal_bases": links.citations("UNDER"),
            "system": links.one("VIA"),
        }
        return "flows", base | fields
    if kind == m.ENGAGEMENT:
        fields = from_props(d.Engagement, props) | {
            "processor": links.one("ENGAGED_BY"),
            "sub_processor": links.one("SUB_PROCESSOR"),
            "data_categories": links.targets("COVERS"),
            "activity": links.one("FOR_ACTIVITY"),
        }
        return "engagements", base | fields
    raise ValueError(f"unknown entity kind {kind!r}")


def document_from_snapshots(
    register: d.RegisterInfo, snapshots: Iterable[Snapshot], source: str = "<graph>"
) -> d.RopaDocument:
    """Build a document from entity snapshots (pure); raise DocumentInvalid if they do not fit."""
    collections: dict[str, list[dict[str, Any]]] = {}
    for snap in sorted(snapshots, key=lambda s: (s["kind"], s["id"])):
        if snap["kind"] == m.REGISTER:
            continue
        name, fields = _entity_fields(snap)
        collections.setdefault(name, []).append(fields)
    # The graph (or a change event) may hold a register applied as ropa/v1; read it as v2.
    data = upgrade({"register": register.model_dump(), **collections})
    try:
        return d.RopaDocument.model_validate(data)
    except ValidationError as exc:
        problems = [
            DocumentProblem(format_path(err["loc"]), str(err["msg"]))
            for err in exc.errors(include_url=False)
        ]
        raise DocumentInvalid(source, problems) from exc


def register_info(snap: Snapshot) -> d.RegisterInfo:
    """The register's own details from its node's snapshot."""
    links = _Links(list(snap.get("links", [])))
    fields = {"name": snap["id"]} | from_props(d.RegisterInfo, snap["props"])
    return d.RegisterInfo(id=snap["id"], owner=links.one("OWNED_BY") or snap["id"], **fields)


def _when(recorded_at: dt.datetime | None) -> str:
    return f" as recorded at {recorded_at.isoformat()}" if recorded_at else ""


async def register_document_in(
    tx: AsyncManagedTransaction, register: str, recorded_at: dt.datetime | None = None
) -> d.RopaDocument:
    """One register as a document, as recorded now or at `recorded_at` (read-only; run in a
    read transaction)."""
    state = await register_snapshots(tx, register, recorded_at)
    own = state.pop(m.entity_key(m.REGISTER, register), None)
    if own is None:
        when = _when(recorded_at)
        raise NotFound(f"register{when}", register)
    return document_from_snapshots(register_info(own), state.values(), f"register {register}")


def for_controller(doc: d.RopaDocument, controller: str) -> d.RopaDocument:
    """Only the activities `controller` (jointly) controls, with their flows and engagements.

    An organisation that controls none but is appointed processor in some (a processor keeping
    its own register, Article 30(2)) keeps those: its processing for its controllers.
    """
    activities = [
        a for a in doc.activities if a.controller == controller or controller in a.joint_controllers
    ]
    if not activities:
        activities = [
            a for a in doc.activities if any(p.organisation == controller for p in a.processors)
        ]
    kept = {a.id for a in activities}
    processors = {p.organisation for a in activities for p in a.processors}
    engagements = [
        e
        for e in doc.engagements
        if e.activity in kept or (e.activity is None and e.processor in processors)
    ]
    return doc.model_copy(
        update={
            "activities": activities,
            "flows": [f for f in doc.flows if f.activity in kept],
            "engagements": engagements,
        }
    )


def sub_processors_of(
    state: dict[str, Snapshot], record: dict[str, Snapshot]
) -> dict[str, Snapshot]:
    """From a processor's register, only the engagements for activities of `record`, with the
    sub-processors (and categories) they name that `record` lacks: nothing of the processor's
    other controllers."""
    found: dict[str, Snapshot] = {}
    for key, snapshot in state.items():
        links = snapshot.get("links", [])
        if snapshot.get("kind") != m.ENGAGEMENT or key in record:
            continue
        if not any(link["type"] == "FOR_ACTIVITY" and link["to"] in record for link in links):
            continue
        found[key] = snapshot
        for link in links:
            target = link["to"]
            if link["type"] != "FOR_ACTIVITY" and target not in record and target in state:
                found[target] = state[target]
    return found


async def controller_document_in(
    tx: AsyncManagedTransaction,
    controller: str | None,
    recorded_at: dt.datetime | None = None,
    scope: frozenset[str] | None = None,
) -> d.RopaDocument:
    """Everything `controller` controls, across registers (those in `scope`, if given), as one
    document, as recorded now or at `recorded_at` (read-only).

    With no controller, the one organisation that owns registers (in scope) and controls
    activities, or else their one owner; NotFound if there are several. A controller none of
    whose registers is in scope is NotFound, as if unknown. The registers its processors keep
    (Article 30(2)) give its sub-processors, in scope or not. With `recorded_at` all of this
    (the name, the registers, their owners, the processors) is found in that record.
    """
    if recorded_at is None:
        found = await controller_registers.now(tx, controller, scope)
    else:
        found = await controller_registers.recorded(tx, controller, recorded_at, scope)
    org = found.controller
    merged: dict[str, Snapshot] = {}
    infos: list[d.RegisterInfo] = []
    for register, state in found.own.items():
        entities = dict(state)
        infos.append(register_info(entities.pop(m.entity_key(m.REGISTER, register))))
        merged.update(entities)
    for state in found.kept:
        merged.update(sub_processors_of(state, merged))
    if not infos:
        raise NotFound(f"register of this controller{_when(recorded_at)}", org)
    info = infos[0]
    if len(infos) > 1 or info.owner != org:
        key = m.entity_key(m.ORGANISATION, org)
        name = merged[key]["props"].get("name", org) if key in merged else org
        info = d.RegisterInfo(id=org, name=f"{name}: all registers", owner=org, description=None)
    doc = document_from_snapshots(info, merged.values(), f"controller {org}")
    return for_controller(doc, org)


async def register_document(
    db: Database, register: str, recorded_at: dt.datetime | None = None
) -> d.RopaDocument:
    """One register as a document, as recorded now or at `recorded_at`, in one read
    transaction."""
    return await db.read(register_document_in, register, recorded_at)


async def controller_document(
    db: Database,
    controller: str | None,
    recorded_at: dt.datetime | None = None,
    scope: frozenset[str] | None = None,
) -> d.RopaDocument:
    """A controller's whole record (its registers in `scope`, if given) as a document, as
    recorded now or at `recorded_at`, in one read transaction.

    `controller` is an id or a name; the document's `register_info.owner` is its id.
    """
    return await db.read(controller_document_in, controller, recorded_at, scope)


class GraphDocumentLoader:
    """Loads documents for the compliance resolvers: one read transaction per call."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def controller_document(
        self,
        controller: str | None,
        recorded_at: dt.datetime | None,
        scope: frozenset[str] | None = None,
    ) -> d.RopaDocument:
        """The controller's record (its registers in `scope`, if given) as recorded at
        `recorded_at` (now if None)."""
        return await controller_document(self.db, controller, recorded_at, scope)
