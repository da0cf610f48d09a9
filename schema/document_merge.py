"""Several registers read as one record, as the graph reads a controller's registers.

A controller's record can span registers: the school's own, and the register School
Transition Limited keeps as its processor (Article 30(2)), which declares the sub-processors of
the school's post-16 transfer. In the graph, `to_document.controller_document` joins them; for
files (`ropa check --file A --file B`), `merge` does: the union of the documents' entities by
id, the first document's register being the record's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schema.document import RopaDocument
from schema.errors import DocumentInvalid, DocumentProblem
from schema.validation import check_references, format_path

# The document's entity lists, each keyed by `id`.
_COLLECTIONS = (
    "organisations",
    "data_subjects",
    "data_categories",
    "legal_bases",
    "systems",
    "activities",
    "flows",
    "engagements",
)


@dataclass(frozen=True)
class Conflict:
    """An entity two documents declare differently; the first one's is read."""

    collection: str
    id: str
    kept: str
    ignored: str

    def render(self) -> str:
        """One line naming the entity and both registers."""
        return (
            f"{self.collection} '{self.id}' is declared differently by register {self.kept} and "
            f"by register {self.ignored}; register {self.kept}'s is read"
        )


@dataclass(frozen=True)
class Merged:
    """The joined record, and what the documents disagree on."""

    document: RopaDocument
    conflicts: list[Conflict]


def merge(documents: Sequence[RopaDocument], source: str = "<documents>") -> Merged:
    """Join valid documents into one: the first's register, every document's entities.

    An entity shared by id is one entity (as in the graph); where two documents describe it
    differently, the first's is kept and the difference is a Conflict. DocumentInvalid if
    the joined record's references do not hold (a hierarchy the copies make circular).
    """
    if not documents:
        raise ValueError("merge needs at least one document")
    first = documents[0]
    if len(documents) == 1:
        return Merged(first, [])
    conflicts: list[Conflict] = []
    update: dict[str, list[object]] = {}
    for collection in _COLLECTIONS:
        kept: dict[str, object] = {}
        declared_by: dict[str, str] = {}
        for doc in documents:
            for entity in getattr(doc, collection):
                held = kept.get(entity.id)
                if held is None:
                    kept[entity.id] = entity
                    declared_by[entity.id] = doc.register_info.id
                elif held != entity:
                    conflicts.append(
                        Conflict(
                            collection, entity.id, declared_by[entity.id], doc.register_info.id
                        )
                    )
        update[collection] = list(kept.values())
    joined = first.model_copy(update=update)
    problems = [
        DocumentProblem(format_path(loc), reason, None) for loc, reason in check_references(joined)
    ]
    if problems:
        raise DocumentInvalid(source, problems)
    return Merged(joined, conflicts)


def registers_not_given(record: RopaDocument, documents: Sequence[RopaDocument]) -> list[str]:
    """Lines naming each processor of `record`'s activities that keeps its own register
    (`keeps_register`) when none of `documents` is that register: its sub-processors are
    declared there, so the record read without it lacks them."""
    given = {doc.register_info.id for doc in documents}
    names = {org.id: org for org in record.organisations}
    lines: list[str] = []
    for org_id in sorted({p.organisation for a in record.activities for p in a.processors}):
        org = names.get(org_id)
        if org is None or org.keeps_register is None or org.keeps_register in given:
            continue
        activities = sorted(
            a.id for a in record.activities if any(p.organisation == org_id for p in a.processors)
        )
        lines.append(
            f"{org.name} keeps its own register '{org.keeps_register}', which declares its "
            f"sub-processors (for {', '.join(activities)}); it was not read, so they are not "
            "in this result"
        )
    return lines
