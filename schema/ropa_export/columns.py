"""Column headings of the exported records.

Controller record: the ICO's "Documentation template for controllers" (an .xlsx published with
the ICO's guidance on documentation under UK GDPR Article 30), sheet `Template`, row 9, columns
A to AD, verbatim and in order, then an "Assumptions" column of the registry's own. Columns 26-30
are the template's section for special category
and criminal offence data (the DPA 2018 Schedule 1 "appropriate policy document" record). Rows
1-6 of the same sheet hold the controller, DPO and representative details (name, address,
e-mail, telephone), which `DETAILS_COLUMNS` and `DETAILS_ROWS` mirror.

Processor record: Article 30(2)(a)-(d), in the wording style of the controller template (the
ICO's processor template could not be consulted here; the points are the Article's own).
"""

from __future__ import annotations

# The last column of both records, beyond the template's: what each row rests on that the
# record assumes rather than knows (the entities' `assumptions`, and the placeholders).
ASSUMPTIONS = "Assumptions"

CONTROLLER_COLUMNS: tuple[str, ...] = (
    "Business function",
    "Purpose of processing",
    "Name and contact details of joint controller (if applicable)",
    "Categories of individuals",
    "Categories of personal data",
    "Categories of recipients",
    "Link to contract with processor",
    "Names of third countries or international organisations that personal data are "
    "transferred to (if applicable)",
    "Safeguards for exceptional transfers of personal data to third countries or "
    "international organisations (if applicable)",
    "Retention schedule (if possible)",
    "General description of technical and organisational security measures (if possible)",
    "Article 6 lawful basis for processing personal data",
    "Article 9 condition for processing special category data",
    "Legitimate interests for the processing (if applicable)",
    "Link to record of legitimate interests assessment (if applicable)",
    "Rights available to individuals",
    "Existence of automated decision-making, including profiling (if applicable)",
    "The source of the personal data (if applicable)",
    "Link to record of consent",
    "Location of personal data",
    "Data Protection Impact Assessment required?",
    "Data Protection Impact Assessment progress",
    "Link to Data Protection Impact Assessment",
    "Has a personal data breach occurred?",
    "Link to record of personal data breach",
    "Data Protection Act 2018 Schedule 1 Condition for processing",
    "GDPR Article 6 lawful basis for processing",
    "Link to retention and erasure policy document",
    "Is personal data retained and erased in accordance with the policy document?",
    "Reasons for not adhering to policy document (if applicable)",
    # Not the ICO's: what the record assumes, so that a reader can tell it from what is known.
    ASSUMPTIONS,
)

# The template's section header row above the headings: (section, how many columns it spans).
CONTROLLER_SECTIONS: tuple[tuple[str, int], ...] = (
    ("Article 30 record of processing activities", 11),
    ("Privacy notice", 7),
    ("Consent", 1),
    ("Access requests", 1),
    ("Data Protection Impact Assessments", 3),
    ("Personal data breaches", 2),
    ("Data Protection Act 2018: special category or criminal conviction and offence data", 5),
    ("What the record assumes", 1),
)

# The columns that carry what Article 30(1)(b)-(d), (f) and (g) require of every activity.
ARTICLE_30_REQUIRED: tuple[str, ...] = (
    "Business function",
    "Purpose of processing",
    "Categories of individuals",
    "Categories of personal data",
    "Categories of recipients",
    "Retention schedule (if possible)",
    "General description of technical and organisational security measures (if possible)",
)

DETAILS_COLUMNS: tuple[str, ...] = ("", "Name", "Address", "Email", "Telephone")
DETAILS_ROWS: tuple[str, ...] = ("Controller", "Data Protection Officer", "Representative")

PROCESSOR_SECTIONS: tuple[tuple[str, int], ...] = (
    ("Who: the processor, the controller and their representatives", 7),
    ("What, where and how: UK GDPR Article 30(2)(b) to (d)", 7),
    ("What the record assumes", 1),
)

PROCESSOR_COLUMNS: tuple[str, ...] = (
    "Name and contact details of processor",
    "Name and contact details of processor's data protection officer (if applicable)",
    "Name and contact details of processor's representative (if applicable)",
    "Name and contact details of controller",
    "Name and contact details of controller's data protection officer (if applicable)",
    "Name and contact details of controller's representative (if applicable)",
    "Sub-processor engaged by (if applicable)",
    "Categories of processing carried out on behalf of the controller",
    "Categories of personal data",
    "Location of personal data",
    "Names of third countries or international organisations that personal data are "
    "transferred to (if applicable)",
    "Safeguards for exceptional transfers of personal data to third countries or "
    "international organisations (if applicable)",
    "General description of technical and organisational security measures (if possible)",
    "Link to contract",
    ASSUMPTIONS,
)
