"""The privacy notice written from the register, checked against the school's own notice."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from schema.document import RopaDocument
from schema.errors import NotFound
from schema.notice.compose import compose
from schema.notice.model import Audience
from schema.notice.render import NoticeFormat, render, stylesheet, to_html
from schema.validation import parse_document
from tests.support.examples import school_record

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "allestree-woodlands.yaml"
SMALL = ROOT / "tests" / "fixtures" / "small-register.yaml"
DURING_POST16 = dt.date(2022, 3, 1)

# What the school's own pupil privacy notice says, statement by statement (shared/reference).
ORIGINAL_NOTICE = {
    "why we collect": [
        "Fulfil our statutory obligations to safeguard and protect children and vulnerable people",
        "Enable targeted, personalised learning for pupils",
        "Manage behaviour and effective discipline",
        "Monitor our effectiveness",
        "Comply with our legal obligations to share data",
        "Support pupils to fulfil their potential",
        "Keep pupils, parents and carers informed about school events and school news",
        "emergency contacts",
    ],
    "legal obligations": [
        "Education Act 1996",
        "Regulation 5 of The Education (Information About Individual Pupils) (England) "
        "Regulations 2013",
        "Article 6",
        "Article 9",
        "public task",
        "Department for Education",
        "Derby City Council",
        "Derbyshire Constabulary",
        "Children's social care",
        "Education, Health and Care Plan",
        "NHS medical teams",
        "School nursing service",
        "By agreement",
        "Counselling services",
        "Careers services",
        "Occupational therapists",
        "With consent, or where required by law",
    ],
    "how we use the data": [
        "third-party tools",
        "software to track progress and attainment",
        "pastoral needs and attendance/absences",
        "electronic payments for school meals",
        "financial software managing school budgets",
        "school effectiveness, the impact of intervention and learning styles",
        "Consultants, experts and other advisers",
        "relevant to the adviser's work",
        "school events and school news",
    ],
    "what is collected": [
        "names, unique pupil number, addresses",
        "ethnicity, language, nationality, country of birth, free school meal eligibility",
        "number of absences, absence reasons",
        "national curriculum assessment results",
        "Relevant medical information",
        "Social care information",
        "SEND",
        "number of temporary exclusions",
        "CCTV, photos and video recordings",
    ],
    "post-16 transfer": [
        "Transfer of student data from the secondary school to the chosen post-16 provider",
        "every year from 14 February 2022, for 1 year each time",
        "securely uploaded by the school",
        "once enrolment at the chosen post-16 institution is confirmed",
        "Ensure post-16 institutions have knowledge of all relevant student information",
        "Link ICT Services Limited",
        "School Development Support Agency",
        "Enhance the transition support offered to schools and pupils",
        "tells portal users of changes",
        "parental email addresses",
        "attendance percentages",
        "exam results, teacher assessment judgements",
        "involvement of other agencies",
        "Post-16 destination and enrolment information",
        "job title, email address, employment, IP address, session IDs",
        "support tickets raised",
        "device type, unique device identification numbers, login information, browser type",
        "broad geographic location",
        "Year 11 students",
        "securely deleted following confirmation that the transition process is complete",
    ],
    "national pupil database": [
        "National Pupil Database",
        "Owned and managed by the DfE",
        "evidence on educational performance to inform independent research",
        "held electronically for statistical purposes",
        "schools, local authorities and awarding bodies",
        "school census",
        "https://www.gov.uk/education/data-collection-and-censuses-for-schools",
        "https://www.gov.uk/government/publications/"
        "national-pupil-database-user-guide-and-supporting-information",
        "conducting research or analysis, producing statistics, or providing information, advice "
        "or guidance",
        "who is requesting, the purpose, the level and sensitivity of data, the storage and "
        "handling arrangements",
        "confidentiality and handling of the data, security arrangements, and retention and use",
        "https://www.gov.uk/data-protection-how-we-collect-and-share-research-data",
        "https://www.gov.uk/government/publications/national-pupil-database-requests-received",
        "https://www.gov.uk/contact-dfe",
    ],
    "rights and contacts": [
        "subject access request",
        "access to your child's educational record",
        "Mr A Greaves, School Business Manager, a.greaves@woodlands.derby.sch.uk",
        "damage or distress",
        "direct marketing",
        "decisions made solely by automated means",
        "corrected",
        "erased",
        "compensation",
        "https://ico.org.uk/concerns/",
        "raise it with us first",
        "data protection policy and connected policies",
        "complaints policy",
        "subject access requests are dealt with under their own policy",
        "inaccurate or no longer needed",
    ],
}


@pytest.fixture(scope="module")
def doc() -> RopaDocument:
    """The school's record: its register with the one School Transition Limited keeps."""
    return school_record()


@pytest.fixture(scope="module")
def pupils_notice(doc: RopaDocument) -> str:
    return render(compose(doc, None, Audience.PUPILS, DURING_POST16), NoticeFormat.MARKDOWN)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("<", "").replace(">", "")).lower()


@pytest.mark.parametrize("part", sorted(ORIGINAL_NOTICE))
def test_the_notice_covers_what_the_schools_own_notice_says(pupils_notice: str, part: str) -> None:
    text = _flat(pupils_notice)
    missing = [s for s in ORIGINAL_NOTICE[part] if _flat(s) not in text]
    assert missing == []


def test_the_notice_has_the_sections_a_dpo_expects(pupils_notice: str) -> None:
    headings = re.findall(r"^## (.+)$", pupils_notice, flags=re.M)
    assert headings == [
        "About this notice",
        "Why we collect and use this information",
        "The information we collect, hold and share",
        "Our lawful reasons",
        "Who we share it with, and why",
        "How long we keep it",
        "Sending information outside the UK",
        "Automated decisions",
        "Your rights",
        "Concerns and contacts",
        "The legal details",
        "Where this notice comes from",
    ]
    assert pupils_notice.startswith("# Allestree Woodlands School: privacy notice for pupils\n")
    assert "as at 1 March 2022" in pupils_notice


def test_sub_processors_come_with_their_processor_and_the_contract_terms(
    pupils_notice: str,
) -> None:
    section = pupils_notice.split("### School Transition Limited (processes it for us)")[1]
    section = section.split("\n### ")[0]
    assert "School Transition Limited uses these sub-processors" in section
    for name in ("Link ICT Services Limited", "Derby City Council", "School Development"):
        assert f"- {name}" in section
    assert "tell us 30 days before they add or replace a sub-processor" in section
    assert "14 days to object" in section


def test_before_the_post16_transfer_first_ran_it_is_not_in_the_notice(doc: RopaDocument) -> None:
    earlier = render(
        compose(doc, None, Audience.PUPILS, dt.date(2022, 1, 1)), NoticeFormat.MARKDOWN
    )
    assert "Link ICT Services Limited" not in earlier
    assert "Post-16 transition" not in earlier
    assert "### School Transition Limited" not in earlier
    assert "Department for Education" in earlier


def test_the_annual_post16_transfer_is_in_the_notice_of_2026_12_01(doc: RopaDocument) -> None:
    now = render(compose(doc, None, Audience.PUPILS, dt.date(2026, 12, 1)), NoticeFormat.MARKDOWN)
    assert "Post-16 transition" in now
    assert "### School Transition Limited" in now
    assert "- Link ICT Services Limited" in now
    assert "Each year 11 cohort's data is securely deleted once its transition completes." in now


def test_each_audience_reads_about_its_own_processing(doc: RopaDocument) -> None:
    def notice(audience: Audience, day: dt.date = DURING_POST16) -> str:
        return render(compose(doc, None, audience, day), NoticeFormat.MARKDOWN)

    parents, staff = notice(Audience.PARENTS), notice(Audience.STAFF)
    assert "pupils and their parents and carers" in parents
    # Parents read about their children's data too: the census is about pupils only.
    assert "Statutory data returns to the DfE" in parents
    assert "Post-16 transition" in staff
    assert "Statutory data returns" not in staff
    assert "Portal account information" in staff
    assert "shows no processing of information about staff" in notice(
        Audience.STAFF, dt.date(2022, 1, 1)
    )


def test_html_is_escaped_and_links_are_links(doc: RopaDocument) -> None:
    tampered = doc.model_copy(
        update={
            "organisations": [
                o.model_copy(update={"description": "Fish & chips <script>alert(1)</script>"})
                if o.id == "allestree-woodlands"
                else o
                for o in doc.organisations
            ]
        }
    )
    page = render(compose(tampered, None, Audience.PUPILS, DURING_POST16), NoticeFormat.HTML)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" not in page
    assert "Fish &amp; chips &lt;script&gt;" in page
    assert '<a href="https://ico.org.uk/concerns/">https://ico.org.uk/concerns/</a>' in page
    assert page.count("<section ") == 12
    assert page.count("<h1>") == 1
    assert "<style>" in page


def test_the_notice_follows_the_register(doc: RopaDocument) -> None:
    text = SMALL.read_text(encoding="utf-8")
    before = render(
        compose(parse_document(text), None, Audience.PUPILS, DURING_POST16), NoticeFormat.MARKDOWN
    )
    edited = text.replace("    sub_processor: hosting-co", "    sub_processor: new-co").replace(
        "  - id: hosting-co\n    name: Hosting Co Ltd\n    kind: company\n",
        "  - id: hosting-co\n    name: Hosting Co Ltd\n    kind: company\n"
        "  - id: new-co\n    name: Cloud Hosting Newco\n",
    )
    after = render(
        compose(parse_document(edited), None, Audience.PUPILS, DURING_POST16),
        NoticeFormat.MARKDOWN,
    )
    assert "- Hosting Co Ltd: Hosting" in before
    assert "Cloud Hosting Newco" not in before
    assert "- Cloud Hosting Newco: Hosting" in after
    assert "Hosting Co Ltd" not in after


def test_an_unknown_controller_is_not_found(doc: RopaDocument) -> None:
    with pytest.raises(NotFound):
        compose(doc, "no-such-school", Audience.PUPILS, DURING_POST16)


def test_pupils_read_plain_words_and_the_citations_apart(pupils_notice: str) -> None:
    body, _, legal = pupils_notice.partition("## The legal details")
    assert legal, "the citations have a section of their own"
    assert "Article 6(1)" not in body
    assert "Lawful basis:" not in body
    assert "The law requires us to" in body
    assert "Article 6(1)(c)" in legal
    assert "Lawful basis" not in legal or "Education Act 1996" in legal
    assert "Derbyshire Constabulary" in legal


def test_parents_keep_the_citations_in_the_text(doc: RopaDocument) -> None:
    text = render(compose(doc, None, Audience.PARENTS, DURING_POST16), NoticeFormat.MARKDOWN)
    assert "The legal details" not in text
    assert "Lawful basis:" in text


def test_a_served_page_links_its_stylesheet_instead(doc: RopaDocument) -> None:
    notice = compose(doc, None, Audience.PUPILS, DURING_POST16)
    page = to_html(notice, stylesheet_href="/notice.css", downloads={"HTML": "/n.html"})
    assert "<style>" not in page
    assert '<link rel="stylesheet" href="/notice.css">' in page
    assert '<a href="/n.html" download>HTML</a>' in page
    assert "@media print" in stylesheet()


def _section(text: str, heading: str) -> str:
    return text.partition(f"## {heading}")[2].partition("\n## ")[0]


def test_our_lawful_reasons_cite_the_law_of_each_use_only(doc: RopaDocument) -> None:
    """Issue 14: Regulation 5 is the census's law, not safeguarding's or medical's."""
    text = render(compose(doc, None, Audience.PARENTS, DURING_POST16), NoticeFormat.MARKDOWN)
    reasons = _section(text, "Our lawful reasons")
    [obligation] = [line for line in reasons.splitlines() if line.startswith("- Article 6(1)(c)")]
    uses: dict[str, str] = {}
    for use in obligation.partition(": for ")[2].rstrip(".").split("; "):
        name, _, laws = use.partition(" (on ")
        uses[name] = laws
    regulation_5 = "Regulation 5 of The Education (Information About Individual Pupils)"
    assert regulation_5 in uses["Statutory data returns to the DfE and the local authority"]
    assert (
        "Education Act 1996 s537A"
        in uses["Statutory data returns to the DfE and the local authority"]
    )
    assert "Children Act 1989" in uses["Safeguarding and child protection"]
    assert [name for name, laws in uses.items() if regulation_5 in laws] == [
        "Statutory data returns to the DfE and the local authority"
    ]


def test_the_dfes_onward_sharing_is_said_as_the_dfes_not_ours(doc: RopaDocument) -> None:
    text = render(compose(doc, None, Audience.PARENTS, DURING_POST16), NoticeFormat.MARKDOWN)
    reasons = _section(text, "Our lawful reasons")
    for theirs in ("9(2)(j)", "Prescribed Persons", "para 4"):
        assert theirs not in reasons, theirs
    sharing = _flat(_section(text, "Who we share it with, and why"))
    assert (
        "department for education shares it with approved third parties (national pupil "
        "database) under its own lawful basis, not ours: article 6(1)(e) (public task), on "
        "education act 1996 s537a and the education (individual pupil information) (prescribed "
        "persons) (england) regulations 2009; article 9(2)(j)"
    ) in sharing
    pupils = render(compose(doc, None, Audience.PUPILS, DURING_POST16), NoticeFormat.MARKDOWN)
    legal = _flat(pupils.partition("## The legal details")[2])
    assert "department for education shares it with approved third parties" in legal
    assert "9(2)(j)" not in _flat(_section(pupils, "Our lawful reasons"))
