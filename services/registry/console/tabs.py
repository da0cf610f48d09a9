"""The explorer's ready tabs: the questions a DPO asks most, as GraphQL operations.

Each tab is opened by GraphiQL with its query and variables; the first is the one the explorer
shows first. They use only the public API, so each is also an example for scripts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    """One ready question."""

    query: str

    def as_graphiql(self) -> dict[str, str]:
        """GraphiQL's `defaultTabs` entry."""
        return {"query": self.query}


RECIPIENTS = Tab(
    """\
# Who receives a category of data, along which path, under which legal basis, on a day?
# Press the run button (or Ctrl-Enter). The category and the controller take an id or a name,
# in any case; `asOf` is YYYY-MM-DD (leave it out for today); `transitive: false` gives direct
# recipients only. The Docs panel lists every field. Each tab above asks another question.
query WhoReceivesSafeguardingData {
  recipients(
    category: "safeguarding"
    controller: "allestree-woodlands"
    asOf: "2022-06-01"
  ) {
    organisation { name kind }
    paths {
      hops {
        kind
        from { name }
        to { name }
        activity { name }
        categories { name special criminalOffence }
        citations { basis { title article } restsOn { law { title } provision } }
        basisOf { name }
        condition
        engagement { since until status }
      }
    }
  }
}
"""
)

SHARED_WITH = Tab(
    """\
# What do we share with an organisation: in which activity, which data, under which legal
# basis, and in which role it receives it (as a controller itself, or as our processor)?
query WhatWeShareWith {
  organisation(ref: "derby-city-council") { name kind }
  disclosuresConnection(to: "derby-city-council", asOf: "2022-06-01") {
    totalCount
    nodes {
      activity { name }
      from { name }
      kind
      recipientRole
      categories { name special criminalOffence }
      citations { basis { title article } restsOn { law { title } provision } }
      condition
    }
  }
}
"""
)

CONSENT = Tab(
    """\
# Which activities rely on consent (Article 6(1)(a), or an Article 9(2)(a) explicit consent)?
query ActivitiesRelyingOnConsent {
  consent: activities(legalBasis: "art6-1-a", asOf: "2022-06-01") {
    name
    purposes
    consentRecord
    dataSubjects { name }
  }
  explicitConsent: activities(legalBasis: "art9-2-a", asOf: "2022-06-01") {
    name
    consentRecord
  }
}
"""
)

SUB_PROCESSORS = Tab(
    """\
# A processor's sub-processors on a day: its active engagements in force that day.
query SubProcessorsOnADay {
  subProcessors(processor: "school-transition-limited", asOf: "2022-06-01") {
    subProcessor { name country }
    purpose
    location
    since
    until
    categories { name }
  }
}
"""
)

GAPS = Tab(
    """\
# The gaps in our record today, by rule; `severity: ERROR` or `rule: "..."` narrows them.
query GapsInOurRecord {
  registerSummary(controller: "allestree-woodlands") {
    issues
    issuesBySeverity { key count }
  }
  complianceIssuesConnection(controller: "allestree-woodlands") {
    totalCount
    nodes { severity ruleId entityKind entityId message reference }
  }
}
"""
)

CHANGES_SINCE = Tab(
    """\
# What changed since a day: the sub-processor changes recorded since then, oldest first;
# page on with `after:` the last id. `auditLog(register: ...)` has every change of a register.
query ChangesSince {
  changes(since: "2022-01-01", first: 100) {
    id sequence occurredAt actor type
    processor { name }
    subProcessor { name }
    before { purpose since until status }
    after { purpose since until status }
  }
}
"""
)

LIVE = Tab(
    """\
# Watch sub-processor changes as they are committed (graphql-transport-ws on this URL).
# Run it, then change an engagement (with `ropa apply` or a mutation): the change appears.
subscription WatchSubProcessors {
  subProcessorChanges {
    id
    type
    occurredAt
    processor { name }
    subProcessor { name }
    after { purpose since until status }
  }
}
"""
)

TABS: tuple[Tab, ...] = (
    RECIPIENTS,
    SHARED_WITH,
    CONSENT,
    SUB_PROCESSORS,
    GAPS,
    CHANGES_SINCE,
    LIVE,
)
