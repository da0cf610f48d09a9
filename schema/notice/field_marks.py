"""Where a notice prints one field of one entity: the places an assumption about it is marked.

The composer is the one authority on what it prints, so the statements that rest on a field
are found by asking it: the notice is composed again with that field's value changed (text
with a sign appended, a date moved outward, a flag flipped, links dropped), and the two are
compared. A statement that differs prints the field; the mark goes right after the part that
changed (`Lawful basis: ... †.`), or at the end of a statement that the change removes. A
field the notice does not print leaves nothing changed, so nothing is marked. No field needs
a rule of its own, and a statement added to the composer is covered with no change here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import Enum
from typing import Any

from pydantic import BaseModel

from schema import document as d
from schema.document import RopaDocument
from schema.notice.model import Notice

# Appended to a text so that the change shows where the text is printed; never in a register.
_SIGN = "\u00a7\u00a7"
# The first day of an interval moves earlier and the last later, so that what applies on the
# notice's day still does.
_EARLIER = frozenset({"valid_from", "since"})
# Parts of a sub-model the composer parses (ISO periods): left as they are.
_PARSED = frozenset({"every", "lasts"})
# What _changed gives for a field with no value: nothing of it is printed.
_NOTHING = object()
# What closes a changed part; the mark goes before it ("5 years †.").
_CLOSING = ".,;:"


@dataclass(frozen=True)
class Place:
    """A statement of the notice that prints the field, and where in it the mark goes (the
    index right after the changed part; None: the end of the statement)."""

    section: str
    statement: str
    at: int | None = None


Compose = Callable[[RopaDocument], Notice]
_Line = tuple[str, str]


def _lines(notice: Notice) -> list[_Line]:
    return [(s.heading, t) for s in notice.sections for b in s.blocks for t in b.items]


def _changed_text(value: BaseModel) -> BaseModel | None:
    update = {
        name: text + _SIGN
        for name in type(value).model_fields
        if name not in _PARSED and isinstance(text := getattr(value, name), str)
    }
    return value.model_copy(update=update) if update else None


def _cited(citation: d.Citation) -> d.Citation:
    """The citation seen to rest on its last law with more to it (or on one more law), so
    that the change shows where this entity's use of the basis is printed, even where another
    entity cites the same basis."""
    refs = list(citation.rests_on)
    if refs:
        last = refs[-1]
        refs[-1] = last.model_copy(update={"provision": (last.provision or "") + _SIGN})
    else:
        refs.append(d.LawRef.model_construct(law=_SIGN, provision=None))
    return citation.model_copy(update={"rests_on": refs})


def _changed(entity: BaseModel, field: str) -> Any:
    """The field's value changed so that the composer prints it differently; _NOTHING when it
    has no value (nothing of it can be printed); `entity` itself when it cannot be changed."""
    value = getattr(entity, field)
    links: frozenset[str] = getattr(type(entity), "LINKS", frozenset())
    if value is None or value == []:
        return _NOTHING
    if isinstance(value, list):
        if all(isinstance(v, d.Citation) for v in value):
            return [_cited(c) for c in value]
        if all(isinstance(v, str) for v in value):
            # A link to one more entity, unknown, printed as its id at the end of the list.
            return [*value, _SIGN] if field in links else [v + _SIGN for v in value]
        changed = [_changed_text(v) if isinstance(v, BaseModel) else None for v in value]
        return changed if all(c is not None for c in changed) else entity
    if field in links:
        optional = not type(entity).model_fields[field].is_required()
        return None if optional else entity
    if isinstance(value, bool):
        return not value
    if isinstance(value, Enum):
        return next(m for m in type(value) if m is not value)
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=-1 if field in _EARLIER else 1)
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + _SIGN
    if isinstance(value, BaseModel):
        return _changed_text(value) or entity
    return entity


def _words(text: str) -> list[tuple[str, int]]:
    """The words of `text` that carry meaning, each with where it ends: list separators (a
    trailing comma, a lone "and") are left out, so that a list growing by one is one change."""
    out = []
    for found in re.finditer(r"\S+", text):
        word = found.group().rstrip(",;")
        if word and word != "and":
            out.append((word, found.start() + len(word)))
    return out


def _ends_of_changes(old: str, new: str) -> tuple[int | None, ...]:
    """Where in `old` each part that differs from `new` ends: where the sign went in, if that
    is the whole difference; else word by word, before the punctuation that closes the part
    (None: at the end of `old`)."""
    for sign in (" " + _SIGN, _SIGN):
        if sign in new and new.replace(sign, "") == old:
            parts = new.split(sign)[:-1]
            ats = [sum(len(p) for p in parts[: k + 1]) for k in range(len(parts))]
            return tuple(_end(old, at) for at in ats)
    before, after = _words(old), _words(new)
    ends = []
    matcher = SequenceMatcher(a=[w for w, _ in before], b=[w for w, _ in after], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":
            # An added copy of what is there already (a law this entity's use repeats, the
            # copy printed beside it): the mark goes after what is there.
            added = [n for w, _ in after[j1:j2] if (n := _plain(w))]
            size = len(added)
            follows = before[i1 : i1 + size]
            precedes = before[max(0, i1 - size) : i1]
            if added and [_plain(w) for w, _ in follows] == added:
                ends.append(_end(old, follows[-1][1]))
                continue
            if added and [_plain(w) for w, _ in precedes] == added:
                ends.append(_end(old, precedes[-1][1]))
                continue
        # A removed or changed part ends after its last word; an added one where it goes.
        last = i2 if i2 > i1 else i1
        if last == 0:
            continue
        word, at = before[last - 1]
        ends.append(_end(old, at - (len(word) - len(word.rstrip(_CLOSING)))))
    return tuple(dict.fromkeys(ends)) or (None,)


def _plain(word: str) -> str:
    return word.replace(_SIGN, "").rstrip(",;).")


def _end(text: str, at: int) -> int | None:
    return None if at >= len(text.rstrip().rstrip(".")) else at


def _differences(before: list[_Line], after: list[_Line]) -> tuple[Place, ...]:
    places: list[Place] = []
    matcher = SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "insert"):
            continue
        olds, news = before[i1:i2], [text for _, text in after[j1:j2]]
        for k, (heading, old) in enumerate(olds):
            if not news:
                places.append(Place(heading, old))
                continue
            new = (
                news[k]
                if len(news) == len(olds)
                else max(news, key=lambda n: SequenceMatcher(a=old, b=n).quick_ratio())
            )
            places += [Place(heading, old, at) for at in _ends_of_changes(old, new)]
    return tuple(dict.fromkeys(places))


# The document's list of each kind of entity an assumption can be held on.
_COLLECTIONS: dict[type[BaseModel], str] = {
    d.Organisation: "organisations",
    d.DataSubjectCategory: "data_subjects",
    d.DataCategory: "data_categories",
    d.LegalBasis: "legal_bases",
    d.System: "systems",
    d.ProcessingActivity: "activities",
    d.Flow: "flows",
    d.Engagement: "engagements",
}


class FieldPlaces:
    """The places each field of each entity is printed in one notice (composed by `compose`
    from `doc`), each found once."""

    def __init__(self, doc: RopaDocument, compose: Compose) -> None:
        self._doc = doc
        self._compose = compose
        self._lines = _lines(compose(doc))
        self._found: dict[tuple[str, str], tuple[Place, ...] | None] = {}

    def of(self, entity: BaseModel, field: str) -> tuple[Place, ...] | None:
        """Where the notice prints `field` of `entity` (empty: nowhere); None when the field
        cannot be changed to find out (a required link): the caller marks the entity's own
        statements instead."""
        key = (f"{type(entity).__name__}:{getattr(entity, 'id', '')}", field)
        if key not in self._found:
            self._found[key] = self._places(entity, field)
        return self._found[key]

    def _places(self, entity: BaseModel, field: str) -> tuple[Place, ...] | None:
        collection = _COLLECTIONS.get(type(entity))
        if collection is None:
            return None
        entity_id = getattr(entity, "id", None)
        held = next((e for e in getattr(self._doc, collection) if e.id == entity_id), None)
        if held is None:
            return None
        value = _changed(held, field)
        if value is _NOTHING:
            return ()
        if value is held:
            return None
        changed = [
            e.model_copy(update={field: value}) if e.id == entity_id else e
            for e in getattr(self._doc, collection)
        ]
        try:
            after = self._compose(self._doc.model_copy(update={collection: changed}))
        except (ValueError, TypeError, KeyError, AttributeError):
            # The composer cannot print the changed value: mark the entity's statements.
            return None
        return _differences(self._lines, _lines(after))
