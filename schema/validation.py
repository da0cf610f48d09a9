"""Load and check a ROPA document: YAML syntax, field types, then references between entities."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from schema.document import (
    DOCUMENT_VERSION,
    LAW_KINDS,
    Citation,
    DataCategory,
    DataSubjectCategory,
    Engagement,
    Flow,
    LegalBasis,
    LegalBasisKind,
    Organisation,
    ProcessingActivity,
    RegisterInfo,
    RopaDocument,
    System,
)
from schema.document_upgrade import upgrade
from schema.errors import DocumentInvalid, DocumentProblem
from schema.yaml_reader import ReaderLimits, decode, plain, read_tree

_STATUTE_KINDS = (LegalBasisKind.STATUTE, LegalBasisKind.GUIDANCE)

Loc = tuple[str | int, ...]


def format_path(loc: Iterable[str | int]) -> str:
    """('activities', 3, 'controller') -> 'activities[3].controller'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(document)"


@dataclass(frozen=True)
class _Source:
    """The parsed YAML tree, kept to find the line of any path."""

    tree: Any

    def line_of(self, loc: Loc) -> int | None:
        node = self.tree
        line: int | None = None
        for part in loc:
            lc = getattr(node, "lc", None)
            try:
                if isinstance(part, int) and isinstance(node, list):
                    if lc is not None:
                        line = lc.item(part)[0] + 1
                    node = node[part]
                elif isinstance(node, dict) and part in node:
                    if lc is not None:
                        line = lc.key(part)[0] + 1
                    node = node[part]
                else:
                    break
            except (KeyError, IndexError, TypeError):
                break
        return line


def parse_document(
    text: str, source: str = "<document>", limits: ReaderLimits = ReaderLimits()
) -> RopaDocument:
    """Parse and fully validate a YAML document; raise DocumentInvalid with every problem."""
    tree = read_tree(text, source, limits)
    if not isinstance(tree, dict):
        raise DocumentInvalid(
            source, [DocumentProblem("(document)", "expected a mapping at the top level", 1)]
        )
    located = _Source(tree)
    try:
        document = RopaDocument.model_validate(upgrade(plain(tree)))
    except ValidationError as exc:
        problems = [
            DocumentProblem(
                format_path(err["loc"]), _reason(err), located.line_of(tuple(err["loc"]))
            )
            for err in exc.errors(include_url=False)
        ]
        # The entities that are well-typed still get their references checked, so that one
        # run reports every problem rather than the type errors first and the rest later.
        problems += [
            DocumentProblem(format_path(loc), reason, located.line_of(loc))
            for loc, reason in _check(_Parts.salvage(upgrade(plain(tree))))
        ]
        raise DocumentInvalid(source, problems) from exc
    problems = [
        DocumentProblem(format_path(loc), reason, located.line_of(loc))
        for loc, reason in check_references(document)
    ]
    if problems:
        raise DocumentInvalid(source, problems)
    return document


def load_document(path: Path, limits: ReaderLimits = ReaderLimits()) -> RopaDocument:
    """Read and validate a document file (at most `limits.max_bytes` of it)."""
    try:
        with path.open("rb") as file:
            data = file.read(limits.max_bytes + 1)
    except OSError as exc:
        raise DocumentInvalid(
            str(path), [DocumentProblem("(document)", f"cannot read: {exc.strerror}", None)]
        ) from exc
    return parse_document(decode(data, str(path), limits), str(path), limits)


def _reason(err: Any) -> str:
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown field"
    return message


_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "organisations": Organisation,
    "data_subjects": DataSubjectCategory,
    "data_categories": DataCategory,
    "legal_bases": LegalBasis,
    "systems": System,
    "activities": ProcessingActivity,
    "flows": Flow,
    "engagements": Engagement,
}


@dataclass(frozen=True)
class _Parts:
    """The entities to cross-check; None stands for an item that failed type validation."""

    register_info: RegisterInfo | None
    collections: dict[str, list[Any]]
    ids: dict[str, list[str]]
    version: str = DOCUMENT_VERSION

    @classmethod
    def of(cls, doc: RopaDocument) -> _Parts:
        collections: dict[str, list[Any]] = {
            name: list(getattr(doc, name)) for name in _ITEM_MODELS
        }
        ids = {name: [item.id for item in items] for name, items in collections.items()}
        return cls(doc.register_info, collections, ids, doc.version)

    @classmethod
    def salvage(cls, tree: dict[str, Any]) -> _Parts:
        collections: dict[str, list[Any]] = {}
        ids: dict[str, list[str]] = {}
        for name, model in _ITEM_MODELS.items():
            raw = tree.get(name)
            raw_items = raw if isinstance(raw, list) else []
            collections[name] = [_try(model, item) for item in raw_items]
            ids[name] = [
                item["id"]
                for item in raw_items
                if isinstance(item, dict) and isinstance(item.get("id"), str)
            ]
        info = _try(RegisterInfo, tree.get("register"))
        version = tree.get("version")
        return cls(
            info if isinstance(info, RegisterInfo) else None,
            collections,
            ids,
            version if isinstance(version, str) else DOCUMENT_VERSION,
        )

    def items(self, name: str) -> Iterator[tuple[int, Any]]:
        return ((i, item) for i, item in enumerate(self.collections[name]) if item is not None)


def _try(model: type[BaseModel], raw: Any) -> BaseModel | None:
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def check_references(doc: RopaDocument) -> list[tuple[Loc, str]]:
    """Every duplicate id and unknown reference in a type-valid document, with its location."""
    return _check(_Parts.of(doc))


def _check(parts: _Parts) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    ids: dict[str, set[str]] = {name: set(values) for name, values in parts.ids.items()}
    for name in _ITEM_MODELS:
        counts = Counter(parts.ids[name])
        seen: set[str] = set()
        for i, item in parts.items(name):
            if counts[item.id] > 1 and item.id in seen:
                problems.append(((name, i, "id"), f"duplicate id '{item.id}' in {name}"))
            seen.add(item.id)

    def ref(loc: Loc, value: str | None, collection: str, what: str) -> None:
        if value is not None and value not in ids[collection]:
            problems.append((loc, f"unknown {what} '{value}' (not defined in {collection})"))

    def refs(loc: Loc, values: Iterable[str], collection: str, what: str) -> None:
        for j, value in enumerate(values):
            ref((*loc, j), value, collection, what)

    if parts.register_info is not None:
        ref(("register", "owner"), parts.register_info.owner, "organisations", "organisation")
    for i, subject in parts.items("data_subjects"):
        ref(
            ("data_subjects", i, "parent"), subject.parent, "data_subjects", "data subject category"
        )
    for i, category in parts.items("data_categories"):
        ref(("data_categories", i, "parent"), category.parent, "data_categories", "data category")
    problems.extend(_cycles(parts))
    kinds = {basis.id: basis.kind for _, basis in parts.items("legal_bases")}
    for i, basis in parts.items("legal_bases"):
        for j, statute in enumerate(basis.rests_on):
            loc: Loc = ("legal_bases", i, "rests_on", j)
            if statute not in ids["legal_bases"]:
                problems.append(
                    (loc, f"unknown legal basis '{statute}' (not defined in legal_bases)")
                )
            elif statute in kinds and kinds[statute] not in _STATUTE_KINDS:
                problems.append((loc, f"'{statute}' is a {kinds[statute].value}, not a statute"))
        if basis.rests_on and basis.kind not in LAW_KINDS and parts.version == DOCUMENT_VERSION:
            problems.append(
                (
                    ("legal_bases", i, "rests_on"),
                    f"{basis.kind.value} '{basis.id}' rests on law per use: cite it as "
                    "{basis: ..., rests_on: [...]} in each activity's or flow's legal_bases",
                )
            )

    def citations(loc: Loc, cited: Iterable[Citation]) -> None:
        for j, citation in enumerate(cited):
            ref((*loc, j, "basis"), citation.basis, "legal_bases", "legal basis")
            for k, law in enumerate(citation.rests_on):
                law_loc: Loc = (*loc, j, "rests_on", k, "law")
                ref(law_loc, law.law, "legal_bases", "legal basis")
                if law.law in kinds and kinds[law.law] not in LAW_KINDS:
                    problems.append(
                        (
                            law_loc,
                            f"'{law.law}' is a {kinds[law.law].value} basis, not law that "
                            "a basis rests on: cite it as a basis of its own",
                        )
                    )

    for i, system in parts.items("systems"):
        ref(("systems", i, "operator"), system.operator, "organisations", "organisation")
    for i, act in parts.items("activities"):
        at: Loc = ("activities", i)
        ref((*at, "controller"), act.controller, "organisations", "organisation")
        refs((*at, "joint_controllers"), act.joint_controllers, "organisations", "organisation")
        for j, appointment in enumerate(act.processors):
            ref(
                (*at, "processors", j, "organisation"),
                appointment.organisation,
                "organisations",
                "organisation",
            )
        refs((*at, "data_subjects"), act.data_subjects, "data_subjects", "data subject category")
        refs((*at, "data_categories"), act.data_categories, "data_categories", "data category")
        citations((*at, "legal_bases"), act.legal_bases)
        refs((*at, "systems"), act.systems, "systems", "system")
        for j, transfer in enumerate(act.third_country_transfers):
            ref(
                (*at, "third_country_transfers", j, "recipient"),
                transfer.recipient,
                "organisations",
                "organisation",
            )
    activity_dates = {a.id: a for _, a in parts.items("activities")}
    for i, flow in parts.items("flows"):
        at = ("flows", i)
        ref((*at, "activity"), flow.activity, "activities", "activity")
        ref((*at, "from"), flow.source, "organisations", "organisation")
        ref((*at, "to"), flow.recipient, "organisations", "organisation")
        refs((*at, "data_categories"), flow.data_categories, "data_categories", "data category")
        citations((*at, "legal_bases"), flow.legal_bases)
        ref((*at, "system"), flow.system, "systems", "system")
        if flow.source == flow.recipient:
            problems.append(((*at, "to"), f"a flow cannot go from '{flow.source}' to itself"))
        owner = activity_dates.get(flow.activity)
        if owner and owner.valid_from and flow.valid_from and flow.valid_from < owner.valid_from:
            problems.append(
                (
                    (*at, "valid_from"),
                    f"{flow.valid_from} is before its activity starts ({owner.valid_from})",
                )
            )
    for i, eng in parts.items("engagements"):
        at = ("engagements", i)
        ref((*at, "processor"), eng.processor, "organisations", "organisation")
        ref((*at, "sub_processor"), eng.sub_processor, "organisations", "organisation")
        refs((*at, "data_categories"), eng.data_categories, "data_categories", "data category")
        ref((*at, "activity"), eng.activity, "activities", "activity")
        if eng.processor == eng.sub_processor:
            problems.append(
                ((*at, "sub_processor"), f"'{eng.processor}' cannot be its own sub-processor")
            )
    return problems


def _cycles(parts: _Parts) -> Iterator[tuple[Loc, str]]:
    parents = {c.id: c.parent for _, c in parts.items("data_categories")}
    for i, category in parts.items("data_categories"):
        seen = {category.id}
        current = category.parent
        while current is not None and current in parents:
            if current in seen:
                yield (
                    ("data_categories", i, "parent"),
                    f"'{category.id}' is part of itself through its parents",
                )
                break
            seen.add(current)
            current = parents[current]
