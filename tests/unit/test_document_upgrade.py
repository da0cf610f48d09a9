"""Citations per use (ropa/v2), reading ropa/v1, and `ropa document upgrade` (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from schema.compliance.index import DocumentIndex
from schema.document import Citation, LawRef
from schema.document_upgrade import upgrade, upgrade_text
from schema.errors import DocumentInvalid
from schema.ropa_export.columns import CONTROLLER_COLUMNS
from schema.ropa_export.controller import activity_row
from schema.validation import parse_document
from services.cli.main import cli

V1 = """\
# a school's register, kept by hand
version: ropa/v1
register: {id: r, name: R, owner: school}
organisations:
  - {id: school, name: School, kind: school}
  - {id: dfe, name: DfE, kind: government}
  - {id: police, name: Police, kind: police}
data_categories:
  - {id: pupil-data, name: Pupil data}
  - {id: medical, name: Medical, parent: pupil-data, special: true}
legal_bases:
  - {id: ea1996, kind: statute, title: Education Act 1996}
  - {id: reg5, kind: statute, title: Regulation 5}
  - {id: ca2004, kind: statute, title: Children Act 2004}
  - {id: dpa, kind: statute, title: Data Protection Act 2018}
  - {id: para18, kind: dpa-2018-schedule-1, title: Safeguarding, article: Sch 1 Pt 2 para 18}
  - {id: art6-1-a, kind: article-6, title: Consent, article: 6(1)(a)}
  - id: art6-1-c
    kind: article-6
    title: Legal obligation
    article: 6(1)(c)
    rests_on: [ea1996, reg5]   # v1: for every use
  - {id: art6-1-e, kind: article-6, title: Public task, article: 6(1)(e), rests_on: [dpa]}
  - {id: art9-2-g, kind: article-9, title: Substantial public interest, article: 9(2)(g)}
activities:
  - id: census
    name: Census
    controller: school
    legal_bases: [art6-1-c]  # the census keeps what its basis rested on
  - id: safeguarding
    name: Safeguarding
    controller: school
    legal_bases: [art6-1-c, art9-2-g, para18, ca2004, art6-1-a]
flows:
  - {id: to-police, activity: safeguarding, from: school, to: police,
     data_categories: [medical], legal_bases: [ca2004, art6-1-e, art9-2-g, para18]}
  - {id: to-dfe, activity: census, from: school, to: dfe, data_categories: [pupil-data],
     legal_bases: [art6-1-c, reg5]}
"""


def _cited(doc_text: str, use: str) -> list[tuple[str, list[str]]]:
    doc = parse_document(doc_text)
    uses = {a.id: a.legal_bases for a in doc.activities} | {f.id: f.legal_bases for f in doc.flows}
    return [(c.basis, [r.law for r in c.rests_on]) for c in uses[use]]


def test_v1_lists_are_read_as_citations_of_each_use() -> None:
    assert _cited(V1, "census") == [("art6-1-c", ["ea1996", "reg5"])]
    # Statutes go with 6(1)(c)/(e), Schedule 1 conditions with the Article 9 condition.
    assert _cited(V1, "safeguarding") == [
        ("art6-1-c", ["ca2004"]),
        ("art9-2-g", ["para18"]),
        ("art6-1-a", []),
    ]
    assert _cited(V1, "to-police") == [("art6-1-e", ["ca2004"]), ("art9-2-g", ["para18"])]
    assert _cited(V1, "to-dfe") == [("art6-1-c", ["reg5"])]
    doc = parse_document(V1)
    assert doc.version == "ropa/v2"
    assert all(not b.rests_on for b in doc.legal_bases if b.kind.value.startswith("article"))


def test_upgrade_is_idempotent_and_leaves_v2_alone() -> None:
    text = upgrade_text(V1)
    assert text is not None
    assert upgrade_text(text) is None
    once = parse_document(text)
    assert once == parse_document(V1)
    data = {"version": "ropa/v2", "flows": [{"legal_bases": ["ea1996"]}]}
    assert upgrade(data) is data


def test_upgrade_text_keeps_comments_and_changes_only_the_citations() -> None:
    text = upgrade_text(V1)
    assert text is not None
    assert "# a school's register, kept by hand" in text
    assert "# the census keeps what its basis rested on" in text
    assert "version: ropa/v2" in text
    # Everything before the legal bases is as the DPO wrote it, byte for byte.
    head = V1[: V1.index("legal_bases:")]
    assert text.replace("ropa/v2", "ropa/v1", 1).startswith(head)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            "legal_bases: [{basis: art6-1-e, rests_on: [art9-2-g]}]",
            "flows[0].legal_bases[0].rests_on[0].law: 'art9-2-g' is a article-9 basis",
        ),
        (
            "legal_bases: [{basis: art6-1-e, rests_on: [nowhere]}]",
            "flows[0].legal_bases[0].rests_on[0].law: unknown legal basis 'nowhere'",
        ),
    ],
)
def test_a_v2_citation_must_rest_on_law_that_exists(edit: str, expected: str) -> None:
    text = upgrade_text(V1)
    assert text is not None
    old = "legal_bases: [ca2004, art6-1-e, art9-2-g, para18]"
    broken = upgrade_text(V1.replace(old, edit))
    assert broken is not None
    with pytest.raises(DocumentInvalid) as caught:
        parse_document(broken)
    assert any(expected in line for line in caught.value.render()), caught.value.render()


def test_a_v2_article_basis_may_not_rest_on_law_for_every_use() -> None:
    text = upgrade_text(V1)
    assert text is not None
    broken = text.replace(
        "title: Public task, article: 6(1)(e)",
        "title: Public task, article: 6(1)(e), rests_on: [dpa]",
    )
    with pytest.raises(DocumentInvalid) as caught:
        parse_document(broken)
    assert any("rests on law per use" in line for line in caught.value.render())


def test_exports_print_the_law_of_that_use_only() -> None:
    doc = parse_document(V1)
    index = DocumentIndex(doc)
    rows = {
        a.id: dict(zip(CONTROLLER_COLUMNS, activity_row(index, a, "school"), strict=True))
        for a in doc.activities
    }
    article_6 = "Article 6 lawful basis for processing personal data"
    assert rows["census"][article_6] == (
        "Article 6(1)(c) (Legal obligation), on Education Act 1996 and Regulation 5"
    )
    assert rows["safeguarding"][article_6] == (
        "Article 6(1)(c) (Legal obligation), on Children Act 2004; Article 6(1)(a) (Consent)"
    )
    assert "Regulation 5" not in " ".join(rows["safeguarding"].values())


def test_a_provision_is_printed_with_its_law() -> None:
    doc = parse_document(V1)
    index = DocumentIndex(doc)
    citation = Citation(
        basis="art6-1-c", rests_on=[LawRef(law="ea1996", provision="s537A"), LawRef(law="reg5")]
    )
    assert index.citation_text(citation) == (
        "Article 6(1)(c) (Legal obligation), on Education Act 1996 s537A and Regulation 5"
    )


def test_ropa_document_upgrade_shows_the_plan_and_writes_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "register.yaml"
    path.write_text(V1, encoding="utf-8")
    runner = CliRunner()
    plan = runner.invoke(cli, ["document", "upgrade", str(path)])
    assert plan.exit_code == 0, plan.output
    assert "-version: ropa/v1" in plan.stdout
    assert "+version: ropa/v2" in plan.stdout
    assert "run again with --write" in plan.stdout
    assert path.read_text(encoding="utf-8") == V1  # nothing written without --write
    done = runner.invoke(cli, ["document", "upgrade", str(path), "--write"])
    assert done.exit_code == 0, done.output
    assert parse_document(path.read_text(encoding="utf-8")) == parse_document(V1)
    assert [p.name for p in tmp_path.iterdir()] == ["register.yaml"]  # no temporary file left
    again = runner.invoke(cli, ["document", "upgrade", str(path)])
    assert "already ropa/v2; nothing to do" in again.stdout


def test_ropa_document_upgrade_refuses_a_document_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(V1.replace("to: dfe", "to: nowhere"), encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["document", "upgrade", str(path), "--write"])
    assert result.exit_code == 1
    assert "unknown organisation 'nowhere'" in result.stderr
    assert "nothing was written" in result.stderr
    assert path.read_text(encoding="utf-8") == before


def test_upgrade_keeps_assumptions_in_either_form() -> None:
    assumed = V1.replace(
        "    legal_bases: [art6-1-c]  # the census keeps what its basis rested on\n",
        "    legal_bases: [art6-1-c]  # the census keeps what its basis rested on\n"
        "    assumptions:\n"
        "      - The whole census is assumed annual\n"
        "      - {about: legal_bases, text: 6(1)(c) rather than public task}\n",
    )
    text = upgrade_text(assumed)
    assert text is not None
    assert "{about: legal_bases, text: 6(1)(c) rather than public task}" in text
    census = next(a for a in parse_document(text).activities if a.id == "census")
    assert [(a.about, a.text) for a in census.assumptions] == [
        (None, "The whole census is assumed annual"),
        ("legal_bases", "6(1)(c) rather than public task"),
    ]
