"""'Our lawful reasons': the bases of our own processing, each with the law it rests on per use.

Only the controller's own processing counts: a disclosure another controller makes under its
own bases (the DfE sharing from the National Pupil Database) is said where the sharing is
described ("the Department for Education shares it ... under ..."), never as "our" reason.
"""

from __future__ import annotations

from schema.compliance.index import DocumentIndex, and_list, describe_basis
from schema.document import Citation, LegalBasisKind, ProcessingActivity
from schema.notice.model import Block, Section, bullets, para

# The plain meaning of each Article 6(1) basis.
ARTICLE_6_PLAIN = {
    "a": "you (or, for a younger pupil, a parent or carer) have given consent",
    "b": "we need it to carry out a contract with you",
    "c": "the law requires us to (a legal obligation)",
    "d": "it is needed to protect someone's life (vital interests)",
    "e": "it is needed for our work as a public body, set out in law (a 'public task')",
    "f": "it is in our legitimate interests, and those do not override your rights",
}

_LAWS = (LegalBasisKind.STATUTE, LegalBasisKind.GUIDANCE)


def _by_basis(
    index: DocumentIndex, activities: list[ProcessingActivity]
) -> dict[str, dict[str, list[Citation]]]:
    """basis id -> activity name -> the citations of that basis in the activity and in the
    disclosures it makes itself (never another controller's)."""
    by_basis: dict[str, dict[str, list[Citation]]] = {}
    for activity in activities:
        cited = list(activity.legal_bases) + [
            c
            for f in index.doc.flows
            if f.activity == activity.id and not index.by_another_controller(f)
            for c in f.legal_bases
        ]
        for citation in cited:
            uses = by_basis.setdefault(citation.basis, {})
            uses.setdefault(activity.name, []).append(citation)
    return by_basis


def _plain(index: DocumentIndex, basis_id: str) -> str:
    points = index.points([basis_id], LegalBasisKind.ARTICLE_6)
    return ARTICLE_6_PLAIN.get(next(iter(points)), "") if points else ""


def _use(index: DocumentIndex, name: str, citations: list[Citation]) -> str:
    laws = list(dict.fromkeys(index.law_text(r) for c in citations for r in c.rests_on))
    return f"{name} (on {and_list(laws)})" if laws else name


def plain_reasons(index: DocumentIndex, activities: list[ProcessingActivity]) -> Section:
    """The lawful reasons in plain words, without citations (a pupils' notice)."""
    by_reason: dict[str, list[str]] = {}
    stricter = False
    for basis_id, uses in _by_basis(index, activities).items():
        basis = index.bases.get(basis_id)
        if basis is None:
            continue
        if basis.kind in (LegalBasisKind.ARTICLE_9, LegalBasisKind.ARTICLE_10):
            stricter = True
        plain = _plain(index, basis_id)
        if basis.kind is LegalBasisKind.ARTICLE_6 and plain:
            by_reason.setdefault(plain, []).extend(uses)
    blocks: list[Block] = [
        para(
            "The law only lets us use personal information when we have a good reason that "
            "the law accepts. Our reasons are:"
        ),
        bullets(
            [
                f"{reason[0].upper()}{reason[1:]}: for {'; '.join(dict.fromkeys(names))}."
                for reason, names in by_reason.items()
            ]
        ),
    ]
    if stricter:
        blocks.append(
            para(
                "Some information, such as health, ethnicity or safeguarding records, is "
                "protected more strictly. For it we also have one of the extra reasons the law "
                "asks for."
            )
        )
    blocks.append(para("The exact laws we rely on are listed in 'The legal details' below."))
    return Section("Our lawful reasons", blocks)


def lawful_bases(
    index: DocumentIndex,
    activities: list[ProcessingActivity],
    heading: str = "Our lawful reasons",
    extra: list[Block] | None = None,
) -> Section:
    """Each basis we rely on, with the activities that rely on it and the law of each use."""
    blocks: list[Block] = [
        para("The law only lets us use personal information when we have a lawful reason.")
    ]
    by_basis = _by_basis(index, activities)
    items = []
    for kind in (LegalBasisKind.ARTICLE_6, LegalBasisKind.ARTICLE_9, LegalBasisKind.ARTICLE_10):
        for basis_id, uses in by_basis.items():
            basis = index.bases.get(basis_id)
            if basis is None or basis.kind is not kind:
                continue
            plain = _plain(index, basis_id)
            text = describe_basis(basis) + (f", because {plain}" if plain else "")
            used = "; ".join(_use(index, name, cited) for name, cited in uses.items())
            items.append(f"{text}: for {used}.")
    blocks.append(bullets(items))
    laws = [
        index.bases[r.law]
        for uses in by_basis.values()
        for cited in uses.values()
        for c in cited
        for r in c.rests_on
        if r.law in index.bases
    ]
    conditions = [describe_basis(b) for b in laws if b.kind is LegalBasisKind.DPA_SCHEDULE_1]
    if conditions:
        blocks.append(
            para(
                "For special category and criminal offence data we also meet these conditions "
                f"of the Data Protection Act 2018: {'; '.join(dict.fromkeys(conditions))}."
            )
        )
    titles = [b.title + (f" ({b.url})" if b.url else "") for b in laws if b.kind in _LAWS]
    if titles:
        blocks.append(para("The law that gives us these reasons includes:"))
        blocks.append(bullets(list(dict.fromkeys(titles))))
    return Section(heading, blocks + (extra or []))
