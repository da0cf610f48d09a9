"""Which data subjects, and so which activities, a notice for an audience covers."""

from __future__ import annotations

from schema.document import DataSubjectCategory, ProcessingActivity, RopaDocument
from schema.errors import NotFound
from schema.notice.model import Audience

# Words that name each audience in data subject ids and names.
_WORDS: dict[Audience, tuple[str, ...]] = {
    Audience.PUPILS: ("pupil", "student", "learner", "child"),
    Audience.PARENTS: ("parent", "carer", "guardian"),
    Audience.STAFF: ("staff", "employee", "worker", "governor", "volunteer"),
}

# How the notice names the people it is about.
WHO: dict[Audience, str] = {
    Audience.PUPILS: "pupils",
    Audience.PARENTS: "pupils and their parents and carers",
    Audience.STAFF: "staff",
}


def _matches(subject: DataSubjectCategory, audience: Audience) -> bool:
    text = f"{subject.id} {subject.name}".lower()
    return any(word in text for word in _WORDS[audience])


def subjects_for(doc: RopaDocument, audience: Audience) -> set[str]:
    """Ids of the data subject categories the audience reads about, with their parts.

    Parents read about their children as well as themselves.
    """
    wanted = {audience, Audience.PUPILS} if audience is Audience.PARENTS else {audience}
    found = {s.id for s in doc.data_subjects if any(_matches(s, a) for a in wanted)}
    changed = True
    while changed:
        more = {s.id for s in doc.data_subjects if s.parent in found and s.id not in found}
        changed = bool(more)
        found |= more
    if not found:
        raise NotFound("data subject category for the audience", audience.value)
    return found


def activities_for(
    doc: RopaDocument, controller: str, audience: Audience
) -> list[ProcessingActivity]:
    """The controller's activities that concern the audience, in the record's order."""
    subjects = subjects_for(doc, audience)
    return [
        a
        for a in doc.activities
        if (a.controller == controller or controller in a.joint_controllers)
        and subjects & set(a.data_subjects)
    ]
