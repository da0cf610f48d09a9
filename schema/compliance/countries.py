"""Where an organisation or a processing is: the UK, a country UK adequacy regulations cover, or
another country, read from a structured code or name, or conservatively from free text.

Country names and codes come from ISO 3166 through pycountry (every country, its short, common
and official names), not from a word list of our own. Free text is read by whole names only:

- a name counts only as written with its capitals ("Turkey", "China", "Jordan", "UNITED
  STATES"), so "turkey sandwiches", "china cups" or "us-east-1" name no country;
- two-letter codes are never read in prose, except "US" in capitals, which is how the United
  States is most often written; "USA", "U.S.A." and "U.S." count too;
- where a subdivision's name holds a country's name ("New Jersey", "New Mexico", "Northern
  Ireland", "Port of Spain"), the longer name wins, and names the subdivision's country: "New
  Jersey" is the United States, never Jersey; "Northern Ireland" is the UK, never Ireland;
- a region that is neither a country nor an ISO subdivision ("New England", "the Gulf",
  "Scandinavia") names nothing: it is not guessed at, so free text saying only "New England"
  raises nothing (a known gap: record the `country` for such an organisation);
- the UK's nations ("Wales", "Scotland", "England") are the UK; "EU", "EEA", "EU/EEA" and their
  long forms name only adequate countries.
"""

from __future__ import annotations

import re
from functools import cache

import pycountry

UK = "GB"
# The EU, the EEA and both written together name only countries UK adequacy covers.
_GROUPS = ("EU", "EEA", "European Union", "European Economic Area")

# Countries that UK adequacy regulations cover, so that a transfer there needs no further
# safeguard (UK GDPR Article 45; DPA 2018 section 17A and Schedule 21 paragraphs 4 and 5): the
# EEA states, Gibraltar, the countries of the EU adequacy decisions kept at 31 December 2020,
# and the Republic of Korea (The Data Protection (Adequacy) (Republic of Korea) Regulations
# 2022). Source: the ICO's guide to international transfers, "Adequacy regulations". Canada is
# adequate only for PIPEDA-covered organisations and the US only for organisations certified to
# the UK Extension to the EU-US Data Privacy Framework: both need the record to say so, as a
# `third_country_transfers` entry naming the recipient with its safeguard.
ADEQUATE = frozenset(
    {
        # EEA: the EU 27, Iceland, Liechtenstein and Norway.
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO"),
        # Gibraltar and the Crown dependencies, and the EU adequacy decisions the UK kept.
        *("GI", "GG", "IM", "JE", "AD", "AR", "FO", "IL", "JP", "NZ", "CH", "UY"),
        # UK adequacy regulations made since.
        "KR",
    }
)

# Ways of writing a country that ISO's names miss, each with its ISO 3166-1 alpha-2 code.
_ALIASES = {
    "UK": UK,
    "U.K.": UK,
    "Britain": UK,
    "Great Britain": UK,
    "England": UK,
    "Scotland": UK,
    "Wales": UK,
    "USA": "US",
    "U.S.A.": "US",
    "U.S.": "US",
    "Republic of Korea": "KR",
    "Russia": "RU",
    "Vietnam": "VN",
    "Turkey": "TR",
    "Czech Republic": "CZ",
    "Holland": "NL",
    "the Netherlands": "NL",
    "Republic of Ireland": "IE",
}


def _short_forms(name: str) -> list[str]:
    # "Iran, Islamic Republic of" is written "Iran"; "Falkland Islands (Malvinas)" as
    # "Falkland Islands".
    out = [name]
    if ", " in name:
        out.append(name.split(", ")[0])
    if " (" in name:
        out.append(name.split(" (")[0])
    return out


@cache
def _names() -> dict[str, str]:
    """Every name a country is written by, with its alpha-2 code (ambiguous short forms, such
    as "Korea" or "Virgin Islands", left out)."""
    found: dict[str, set[str]] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                for name in _short_forms(value):
                    found.setdefault(name, set()).add(country.alpha_2)
    names = {name: codes.pop() for name, codes in found.items() if len(codes) == 1}
    names.update(_ALIASES)
    # A subdivision whose name holds a country's name is read as its own country.
    pattern = _pattern(names)
    for sub in pycountry.subdivisions:
        hit = pattern.search(sub.name)
        if hit and hit.group(0) != sub.name:
            names[sub.name] = sub.country_code
    return names


def _pattern(names: dict[str, str]) -> re.Pattern[str]:
    written = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in written) + r")(?!\w)")


@cache
def _written() -> dict[str, str]:
    """What free text may write, with the code it names: each name as written and in
    capitals, the EU and EEA, and "US" (in capitals only)."""
    names = {**_names(), **dict.fromkeys(_GROUPS, "EU")}
    return {**names, **{n.upper(): c for n, c in names.items()}, "US": "US"}


@cache
def _free_text() -> re.Pattern[str]:
    return _pattern(_written())


@cache
def _by_upper() -> dict[str, str]:
    return {name.upper(): code for name, code in _names().items()}


def code_of(country: str | None) -> str | None:
    """The alpha-2 code of a structured country (a code or a name, any case); "EU" for the EU
    or EEA; None when it names no country ISO 3166 knows."""
    if country is None or not country.strip():
        return None
    where = country.strip()
    if where.upper() in {g.upper() for g in _GROUPS}:
        return "EU"
    try:
        found = pycountry.countries.lookup(where)
    except LookupError:
        return _by_upper().get(where.upper())
    return str(found.alpha_2)


def printed(code: str) -> str:
    """The name a finding prints for a country: "United States", "South Korea"."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def _needs(code: str) -> bool:
    return code not in (UK, "EU") and code not in ADEQUATE


def needs_safeguard(country: str | None) -> bool:
    """True for a structured country (code or name) outside the UK and UK adequacy, or one
    that names no country: adequacy cannot be shown for it."""
    if country is None or not country.strip():
        return False
    code = code_of(country)
    return code is None or _needs(code)


def structured(country: str | None) -> list[str]:
    """The structured country, as a finding prints it, when it needs a safeguard."""
    if not needs_safeguard(country):
        return []
    code = code_of(country)
    return [printed(code) if code else str(country).strip()]


def named_in(text: str | None) -> list[str]:
    """Countries outside the UK and UK adequacy that free text (a `location`) names, each
    once, as a finding prints them; see the module's docstring for how text is read."""
    if not text:
        return []
    written = _written()
    codes = [written[hit.group(1)] for hit in _free_text().finditer(text)]
    return [printed(c) for c in dict.fromkeys(codes) if _needs(c)]
