"""Where an organisation or a processing is: the UK, a country UK adequacy regulations cover, or
another country, read from a structured code or name, or conservatively from free text."""

from __future__ import annotations

import re

# How a register may write the UK (an ISO 3166 code or a name).
_UK = frozenset(
    {"gb", "gbr", "uk", "united kingdom", "great britain", "england", "scotland", "wales"}
    | {"northern ireland", "britain"}
)

# Countries that UK adequacy regulations cover, so that a transfer there needs no further
# safeguard (UK GDPR Article 45; DPA 2018 section 17A and Schedule 21 paragraphs 4 and 5): the
# EEA states, Gibraltar, the countries of the EU adequacy decisions kept at 31 December 2020,
# and the Republic of Korea (The Data Protection (Adequacy) (Republic of Korea) Regulations
# 2022). Source: the ICO's guide to international transfers, "Adequacy regulations". Canada is
# adequate only for PIPEDA-covered organisations and the US only for organisations certified to
# the UK Extension to the EU-US Data Privacy Framework: both need the record to say so, as a
# `third_country_transfers` entry naming the recipient with its safeguard.
_ADEQUATE = frozenset(
    {
        # EEA: the EU 27, Iceland, Liechtenstein and Norway.
        *("at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu", "ie"),
        *("it", "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se"),
        *("is", "li", "no"),
        *("austria", "belgium", "bulgaria", "croatia", "cyprus", "czechia", "czech republic"),
        *("denmark", "estonia", "finland", "france", "germany", "greece", "hungary"),
        *("ireland", "italy", "latvia", "lithuania", "luxembourg", "malta", "netherlands"),
        *("poland", "portugal", "romania", "slovakia", "slovenia", "spain", "sweden"),
        *("iceland", "liechtenstein", "norway", "republic of ireland", "the netherlands"),
        # Gibraltar, and the EU adequacy decisions the UK kept.
        *("gi", "gibraltar", "ad", "andorra", "ar", "argentina", "fo", "faroe islands"),
        *("gg", "guernsey", "il", "israel", "im", "isle of man", "jp", "japan", "je", "jersey"),
        *("nz", "new zealand", "ch", "switzerland", "uy", "uruguay"),
        # UK adequacy regulations made since.
        *("kr", "republic of korea", "south korea"),
        # Groupings that name only the above.
        *("eu", "eea", "european union", "european economic area"),
    }
)

# Countries outside both, as free text names them, each with the name a finding prints. Only
# whole names are read, never two-letter codes inside prose (a "US" in capitals is the one
# exception, being how the United States is most often written). Longer names come first so
# that "New Jersey" is read as the United States, never as Jersey.
_ELSEWHERE: tuple[tuple[str, str], ...] = (
    ("united states of america", "United States"),
    ("united states", "United States"),
    ("new jersey", "United States"),
    ("u.s.a.", "United States"),
    ("u.s.", "United States"),
    ("usa", "United States"),
    ("canada", "Canada"),
    ("australia", "Australia"),
    ("india", "India"),
    ("china", "China"),
    ("hong kong", "Hong Kong"),
    ("singapore", "Singapore"),
    ("philippines", "Philippines"),
    ("south africa", "South Africa"),
    ("brazil", "Brazil"),
    ("mexico", "Mexico"),
    ("russia", "Russia"),
    ("ukraine", "Ukraine"),
    ("turkey", "Turkey"),
    ("türkiye", "Turkey"),
    ("united arab emirates", "United Arab Emirates"),
    ("pakistan", "Pakistan"),
    ("bangladesh", "Bangladesh"),
    ("sri lanka", "Sri Lanka"),
    ("malaysia", "Malaysia"),
    ("indonesia", "Indonesia"),
    ("vietnam", "Vietnam"),
    ("viet nam", "Vietnam"),
    ("nigeria", "Nigeria"),
    ("kenya", "Kenya"),
    ("egypt", "Egypt"),
    ("serbia", "Serbia"),
    ("north macedonia", "North Macedonia"),
    ("albania", "Albania"),
    ("taiwan", "Taiwan"),
    ("thailand", "Thailand"),
)
_NAMED = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(name) for name, _ in sorted(_ELSEWHERE, key=lambda n: -len(n[0])))
    + r")(?![\w])",
    re.IGNORECASE,
)
_CAPITAL_US = re.compile(r"(?<![\w.])US(?![\w])")
_PRINTED = dict(_ELSEWHERE)


def needs_safeguard(country: str | None) -> bool:
    """True for a structured country (code or name) outside the UK and UK adequacy."""
    if country is None or not country.strip():
        return False
    where = country.strip().lower()
    return where not in _UK and where not in _ADEQUATE


def named_in(text: str | None) -> list[str]:
    """Countries outside the UK and UK adequacy that free text (a `location`) names.

    Conservative: a country is read only from its whole name (or "US" in capitals), so that
    "United Kingdom (MIS)" or "School premises, Derby" name none, and text naming a country
    not listed here is not guessed at.
    """
    if not text:
        return []
    found = [_PRINTED[m.group(1).lower()] for m in _NAMED.finditer(text)]
    if _CAPITAL_US.search(text):
        found.append("United States")
    return list(dict.fromkeys(found))
