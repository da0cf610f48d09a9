"""Look-ups the rules share: category hierarchy flags and what each legal basis is."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from schema.document import (
    Citation,
    DataCategory,
    Flow,
    LawRef,
    LegalBasis,
    LegalBasisKind,
    Organisation,
    ProcessingActivity,
    RopaDocument,
    cited_ids,
)

# "6(1)(e)", "Article 9(2)(g)", "9 (2) (h)"; ids such as "art9-2-g" are the fallback.
_ARTICLE_TEXT = re.compile(r"(?:article\s*)?(\d+)\s*\(\s*(\d+)\s*\)\s*\(\s*([a-z])\s*\)", re.I)
_ARTICLE_ID = re.compile(r"art(?:icle)?-?(\d+)-(\d+)-([a-z])\b")


def article_point(basis: LegalBasis) -> tuple[int, int, str] | None:
    """(6, 1, 'e') for an Article 6(1)(e) basis; None when it names no lettered point."""
    for text, pattern in ((basis.article or "", _ARTICLE_TEXT), (basis.id, _ARTICLE_ID)):
        match = pattern.search(text)
        if match:
            return int(match.group(1)), int(match.group(2)), match.group(3).lower()
    return None


def bases_holder(source: str, controller: str, acting_for: Iterable[str]) -> str:
    """Whose lawful bases a disclosure rests on: the activity's controller when the source is
    it or acts for it (a joint controller or processor, `acting_for`); otherwise the source's
    own, as the DfE's onward sharing from the National Pupil Database is the DfE's processing.
    Lineage's Cypher (`ours` in graph/read/lineage.py) is its twin."""
    return controller if source == controller or source in set(acting_for) else source


@dataclass
class DocumentIndex:
    """A document's entities by id, with the category hierarchy resolved both ways."""

    doc: RopaDocument
    categories: dict[str, DataCategory] = field(init=False)
    bases: dict[str, LegalBasis] = field(init=False)
    organisations: dict[str, Organisation] = field(init=False)
    activities: dict[str, ProcessingActivity] = field(init=False)

    def __post_init__(self) -> None:
        self.categories = {c.id: c for c in self.doc.data_categories}
        self.bases = {b.id: b for b in self.doc.legal_bases}
        self.organisations = {o.id: o for o in self.doc.organisations}
        self.activities = {a.id: a for a in self.doc.activities}

    def _with_broader(self, category_id: str) -> set[str]:
        """The category and every broader category it is part of."""
        out = {category_id}
        current = self.categories.get(category_id)
        while current is not None and current.parent is not None and current.parent not in out:
            out.add(current.parent)
            current = self.categories.get(current.parent)
        return out

    def special(self, category_ids: Iterable[str]) -> list[str]:
        """Names of the special category data among `category_ids`.

        A part of a special category is special too. A broad category does not stand for all
        its parts: a record lists a special part (ethnicity under characteristics) by itself
        when it processes it.
        """
        return self._flagged(category_ids, lambda c: c.special)

    def criminal_offence(self, category_ids: Iterable[str]) -> list[str]:
        """Names of the criminal offence data among `category_ids` (parts included)."""
        return self._flagged(category_ids, lambda c: c.criminal_offence)

    def _flagged(
        self, category_ids: Iterable[str], flag: Callable[[DataCategory], bool]
    ) -> list[str]:
        names: set[str] = set()
        for category_id in category_ids:
            category = self.categories.get(category_id)
            if category is None:
                continue
            broader = [self.categories.get(c) for c in self._with_broader(category_id)]
            if any(flag(c) for c in broader if c is not None):
                names.add(category.name)
        return sorted(names)

    def kinds(self, basis_ids: Iterable[str]) -> set[LegalBasisKind]:
        """The kinds of the given bases."""
        return {self.bases[b].kind for b in basis_ids if b in self.bases}

    def points(self, basis_ids: Iterable[str], kind: LegalBasisKind) -> set[str]:
        """Letters of the lettered points of the bases of `kind`: {'a', 'e'} for 6(1)(a), (e)."""
        out: set[str] = set()
        for basis_id in basis_ids:
            basis = self.bases.get(basis_id)
            point = article_point(basis) if basis is not None and basis.kind is kind else None
            if point is not None:
                out.add(point[2])
        return out

    def titles(self, basis_ids: Iterable[str], kind: LegalBasisKind) -> list[str]:
        """Readable names of the bases of `kind`, e.g. 'Article 9(2)(g) Substantial public ...'."""
        return [
            describe_basis(self.bases[b])
            for b in basis_ids
            if b in self.bases and self.bases[b].kind is kind
        ]

    def name(self, organisation_id: str) -> str:
        """An organisation's name, or its id when unknown."""
        org = self.organisations.get(organisation_id)
        return org.name if org is not None else organisation_id

    def law_text(self, ref: LawRef) -> str:
        """'Education Act 1996 s537A', 'DPA 2018 Sch 1 Pt 2 para 6 (...)'."""
        law = self.bases.get(ref.law)
        if law is None:
            text = ref.law
        elif law.kind in (LegalBasisKind.STATUTE, LegalBasisKind.GUIDANCE):
            text = law.title
        else:
            text = describe_basis(law)
        return f"{text} {ref.provision}" if ref.provision else text

    def citation_text(self, citation: Citation) -> str:
        """The basis and the law this use rests on: 'Article 6(1)(c) (Legal obligation), on
        the Education Act 1996 s537A and Regulation 5 of ...'."""
        basis = self.bases.get(citation.basis)
        text = describe_basis(basis) if basis is not None else citation.basis
        laws = [self.law_text(ref) for ref in citation.rests_on]
        return f"{text}, on {and_list(laws)}" if laws else text

    def citations_of(self, citations: Iterable[Citation], *kinds: LegalBasisKind) -> list[str]:
        """The texts of the citations whose basis is of one of `kinds` (every one when none)."""
        return [
            self.citation_text(c)
            for c in citations
            if not kinds or (c.basis in self.bases and self.bases[c.basis].kind in kinds)
        ]

    def by_another_controller(self, flow: Flow) -> bool:
        """True for a disclosure that is another controller's processing under its own bases:
        its source is neither the activity's controller (or joint controller) nor a processor
        acting for them, as the DfE's onward sharing from the National Pupil Database."""
        activity = self.activities.get(flow.activity)
        if activity is None:
            return False
        acting = [*activity.joint_controllers, *(p.organisation for p in activity.processors)]
        return bases_holder(flow.source, activity.controller, acting) != activity.controller

    def flow_bases(self, activity_id: str) -> list[str]:
        """Every basis the activity's flows rest on."""
        return [
            b for f in self.doc.flows if f.activity == activity_id for b in cited_ids(f.legal_bases)
        ]


def and_list(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def describe_basis(basis: LegalBasis) -> str:
    """'Article 6(1)(e) (Public task)', 'DPA 2018 Sch 1 Pt 2 para 6 (...)', or the title."""
    if basis.article is None:
        return basis.title
    prefix = {
        LegalBasisKind.ARTICLE_6: "Article ",
        LegalBasisKind.ARTICLE_9: "Article ",
        LegalBasisKind.ARTICLE_10: "Article ",
        LegalBasisKind.DPA_SCHEDULE_1: "DPA 2018 ",
        LegalBasisKind.DPA_SCHEDULE_2: "DPA 2018 ",
    }.get(basis.kind, "")
    article = basis.article
    if prefix and article.lower().startswith(prefix.strip().lower()):
        prefix = ""
    return f"{prefix}{article} ({basis.title})"
