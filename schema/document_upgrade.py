"""Read a ropa/v1 document as ropa/v2: each use cites its bases with the law they rest on there.

In v1 an activity or flow listed statutes and DPA 2018 Schedule 1 conditions beside its Article
bases, and an Article basis rested on statutes for every use (`LegalBasis.rests_on`), so the
census Regulations behind `art6-1-c` were printed as the law behind safeguarding too. v2 cites
each basis with the law of that use (`Citation`). The upgrade pairs them as a DPO reads a v1 list:

- a Schedule 1 or 2 condition goes with the Article 9 or 10 condition before it in the list
  (or, when none is before it, the first one after it);
- a statute or guidance goes with each Article 6(1)(c) and 6(1)(e) basis of the use (those are
  the bases Article 6(3) requires a law for), or else with the basis before (or after) it;
- an Article basis for which the use lists no law keeps what it rested on in v1;
- a law the use has no basis for stays cited alone, for the checks to report.

Pure: plain data in, plain data out; `parse_document` and the graph reader call it, and
`ropa document upgrade` writes its result back to the file.
"""

from __future__ import annotations

import copy
import io
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from schema.compliance.index import article_point
from schema.document import (
    DOCUMENT_VERSION,
    LAW_KINDS,
    LEGACY_VERSION,
    LegalBasis,
    LegalBasisKind,
)
from schema.errors import DocumentInvalid, DocumentProblem
from schema.yaml_reader import DOCUMENT, plain, read_tree

_CONDITION_KINDS = frozenset({LegalBasisKind.DPA_SCHEDULE_1, LegalBasisKind.DPA_SCHEDULE_2})
_SPECIAL_KINDS = frozenset({LegalBasisKind.ARTICLE_9, LegalBasisKind.ARTICLE_10})


def needs_upgrade(data: dict[str, Any]) -> bool:
    """True for a document that says it is ropa/v1, or says no version at all."""
    return bool(data.get("version", LEGACY_VERSION) == LEGACY_VERSION)


def _catalogue(data: dict[str, Any]) -> dict[str, LegalBasis]:
    out: dict[str, LegalBasis] = {}
    for raw in data.get("legal_bases") or []:
        try:
            basis = LegalBasis.model_validate(raw)
        except ValidationError:
            continue  # reported by validation, with its path
        out[basis.id] = basis
    return out


def _needs_law(basis: LegalBasis) -> bool:
    point = article_point(basis)
    return basis.kind is LegalBasisKind.ARTICLE_6 and point is not None and point[2] in "ce"


def _nearest(index: int, candidates: list[int]) -> int | None:
    before = [c for c in candidates if c < index]
    if before:
        return before[-1]
    after = [c for c in candidates if c > index]
    return after[0] if after else None


def regroup(items: list[Any], bases: dict[str, LegalBasis]) -> list[Any]:
    """A v1 `legal_bases` list as v2 citations (entries already in v2 form are kept)."""
    slugs = [i if isinstance(i, str) else None for i in items]
    kind = {n: bases[s].kind for n, s in enumerate(slugs) if s in bases}
    articles = [n for n, k in kind.items() if k not in LAW_KINDS]
    special = [n for n in articles if kind[n] in _SPECIAL_KINDS]
    with_law = [n for n in articles if _needs_law(bases[str(slugs[n])])]
    laws: dict[int, list[str]] = {n: [] for n in articles}
    alone: set[int] = set()
    for n, k in kind.items():
        if k not in LAW_KINDS:
            continue
        if k in _CONDITION_KINDS:
            near = _nearest(n, special)
            near = _nearest(n, articles) if near is None else near
            targets = [] if near is None else [near]
        else:
            near = _nearest(n, articles)
            targets = with_law or ([] if near is None else [near])
        if not targets:
            alone.add(n)
        for target in targets:
            laws[target].append(str(slugs[n]))
    out: list[Any] = []
    for n, item in enumerate(items):
        if n in laws:
            slug = str(slugs[n])
            rests_on = laws[n] or list(bases[slug].rests_on)
            out.append({"basis": slug, "rests_on": rests_on} if rests_on else slug)
        elif n in alone or n not in kind:
            out.append(item)  # a v2 citation, an unknown id, or a law with no basis here
    return out


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """The v2 form of a v1 document; a v2 document is returned unchanged."""
    if not needs_upgrade(data):
        return data
    out = copy.deepcopy(data)
    bases = _catalogue(out)
    for collection in ("activities", "flows"):
        for use in out.get(collection) or []:
            if isinstance(use, dict) and isinstance(use.get("legal_bases"), list):
                use["legal_bases"] = regroup(use["legal_bases"], bases)
    for raw in out.get("legal_bases") or []:
        basis = bases.get(str(raw.get("id"))) if isinstance(raw, dict) else None
        if basis is not None and basis.kind not in LAW_KINDS:
            raw.pop("rests_on", None)
    out["version"] = DOCUMENT_VERSION
    return out


def _tree_value(value: Any) -> Any:
    # Citations in block style, one a line; the laws of each on one line, as ids are short.
    if isinstance(value, list):
        seq = CommentedSeq(_tree_value(v) for v in value)
        if all(isinstance(v, str) for v in value):
            seq.fa.set_flow_style()
        else:
            seq.fa.set_block_style()
        return seq
    if isinstance(value, dict):
        mapping = CommentedMap((k, _tree_value(v)) for k, v in value.items())
        mapping.fa.set_block_style()
        return mapping
    return value


def upgrade_text(text: str, source: str = "<document>") -> str | None:
    """The ropa/v2 text of a v1 document, its comments and layout kept; None when it is v2.

    Only `version`, the `legal_bases` of activities and flows, and the `rests_on` of Article
    bases change. Raises DocumentInvalid when the text is not a YAML mapping.
    """
    tree = read_tree(text, source)
    if not isinstance(tree, dict):
        raise DocumentInvalid(source, [DocumentProblem(DOCUMENT, "expected a mapping")])
    before = plain(tree)
    if not needs_upgrade(before):
        return None
    after = upgrade(before)
    tree["version"] = after["version"]
    for collection in ("activities", "flows"):
        for node, new in zip(tree.get(collection) or [], after.get(collection) or [], strict=True):
            changed = isinstance(node, dict) and isinstance(new, dict) and "legal_bases" in node
            if changed and node["legal_bases"] != new["legal_bases"]:
                node["legal_bases"] = _tree_value(new["legal_bases"])
    for node, new in zip(
        tree.get("legal_bases") or [], after.get("legal_bases") or [], strict=True
    ):
        if isinstance(node, dict) and isinstance(new, dict) and "rests_on" not in new:
            node.pop("rests_on", None)
    yaml = YAML(typ="rt", pure=True)
    # The file's own indentation, so that only the citations change ("- id" at 0 or 2 spaces).
    _, sequence, offset = load_yaml_guess_indent(text)
    sequence, offset = sequence or 2, offset or 0
    yaml.indent(mapping=max(sequence - offset, 2), sequence=sequence, offset=offset)
    yaml.width = 4096  # never re-wrap the DPO's lines
    yaml.preserve_quotes = True
    out = io.StringIO()
    yaml.dump(tree, out)
    return out.getvalue()
