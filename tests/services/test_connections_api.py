"""Connections (totalCount, cursors), the new filters and `registerSummary`, on the example."""

from __future__ import annotations

from typing import Any

from graph.database import Database
from tests.services.conftest import GraphQL

DAY = "2022-06-01"


async def _pages(data: GraphQL, field: str, size: int, arguments: str = "") -> list[str]:
    ids: list[str] = []
    after: str | None = None
    while True:
        page = await data(
            f"query($first: Int, $after: String) {{ {field}({arguments} first: $first, "
            "after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }",
            first=size,
            after=after,
        )
        found: dict[str, Any] = page[field]
        ids += [n["id"] for n in found["nodes"]]
        assert len(found["nodes"]) <= size
        if not found["pageInfo"]["hasNextPage"]:
            assert found["totalCount"] == len(ids)
            return ids
        after = found["pageInfo"]["endCursor"]


async def test_paging_a_connection_walks_the_list_in_its_order(
    example: Database, data: GraphQL
) -> None:
    listed = [o["id"] for o in (await data("{ organisations { id } }"))["organisations"]]
    assert len(listed) > 5
    assert await _pages(data, "organisationsConnection", 4) == listed
    whole = await data("{ organisationsConnection { totalCount edges { cursor node { id } } } }")
    assert whole["organisationsConnection"]["totalCount"] == len(listed)
    assert [e["node"]["id"] for e in whole["organisationsConnection"]["edges"]] == listed


async def test_connections_take_their_list_fields_arguments(
    example: Database, data: GraphQL
) -> None:
    listed = await data(
        'query($d: Date) { activities(controller: "allestree-woodlands", asOf: $d) { id } }',
        d=DAY,
    )
    paged = await _pages(
        data, "activitiesConnection", 3, f'controller: "allestree-woodlands", asOf: "{DAY}",'
    )
    assert paged == [a["id"] for a in listed["activities"]]


async def test_nested_lists_have_their_connections_too(example: Database, data: GraphQL) -> None:
    # A resolver's list (activity.disclosures), a list the object holds (recipient.paths,
    # path.hops) and an aggregate's (registerSummary.upcoming), each beside its twin.
    listed = await data(
        f'{{ activities(asOf: "{DAY}") {{ id disclosures {{ id }} '
        "disclosuresConnection(first: 1) { totalCount pageInfo { hasNextPage endCursor } "
        "nodes { id } } } "
        f'recipients(category: "safeguarding", asOf: "{DAY}") {{ paths {{ hops {{ kind }} }} '
        "pathsConnection { totalCount nodes { hopsConnection(first: 1) { totalCount "
        "edges { node { kind } } } } } } "
        f'registerSummary(asOf: "{DAY}") {{ upcoming {{ entityId }} '
        "upcomingConnection(first: 2) { totalCount nodes { entityId } } } }"
    )
    activity = next(a for a in listed["activities"] if len(a["disclosures"]) > 1)
    twin = activity["disclosuresConnection"]
    assert twin["totalCount"] == len(activity["disclosures"])
    assert [n["id"] for n in twin["nodes"]] == [activity["disclosures"][0]["id"]]
    assert twin["pageInfo"]["hasNextPage"] is True
    rest = await data(
        "query($after: String) { activity(ref: "
        f'"{activity["id"]}") {{ disclosuresConnection(after: $after) {{ nodes {{ id }} }} }} }}',
        after=twin["pageInfo"]["endCursor"],
    )
    paged = [n["id"] for n in rest["activity"]["disclosuresConnection"]["nodes"]]
    assert paged == [d["id"] for d in activity["disclosures"][1:]]
    for recipient in listed["recipients"]:
        paths = recipient["pathsConnection"]
        assert paths["totalCount"] == len(recipient["paths"])
        for path, page in zip(recipient["paths"], paths["nodes"], strict=True):
            assert page["hopsConnection"]["totalCount"] == len(path["hops"])
            assert [e["node"] for e in page["hopsConnection"]["edges"]] == path["hops"][:1]
    summary = listed["registerSummary"]
    assert summary["upcomingConnection"]["totalCount"] == len(summary["upcoming"])
    assert summary["upcomingConnection"]["nodes"] == summary["upcoming"][:2]


async def test_hop_details_reached_only_through_the_twins(example: Database, data: GraphQL) -> None:
    # The lineage read fetches a hop's categories, bases, activity and engagement only when the
    # operation asks for them; asked through pathsConnection/hopsConnection, they are asked too.
    hop = "kind categories { id } legalBases { id } activity { id } engagement { id }"
    counted = "categoriesConnection { totalCount } legalBasesConnection { totalCount }"
    asked = f'category: "safeguarding", asOf: "{DAY}"'
    listed = await data(f"{{ recipients({asked}) {{ paths {{ hops {{ {hop} }} }} }} }}")
    paged = await data(
        f"{{ recipients({asked}) {{ pathsConnection {{ edges {{ node {{ "
        f"hopsConnection {{ nodes {{ {hop} }} }} }} }} }} }} }}"
    )
    totals = await data(f"{{ recipients({asked}) {{ paths {{ hops {{ {counted} }} }} }} }}")
    hops = [h for r in listed["recipients"] for p in r["paths"] for h in p["hops"]]
    for asked_too in ("categories", "legalBases", "activity", "engagement"):
        assert any(h[asked_too] for h in hops), asked_too
    assert [
        h
        for r in paged["recipients"]
        for e in r["pathsConnection"]["edges"]
        for h in e["node"]["hopsConnection"]["nodes"]
    ] == hops
    counts = [h for r in totals["recipients"] for p in r["paths"] for h in p["hops"]]
    assert [
        (c["categoriesConnection"]["totalCount"], c["legalBasesConnection"]["totalCount"])
        for c in counts
    ] == [(len(h["categories"]), len(h["legalBases"])) for h in hops]


async def test_a_cursor_must_be_one_the_list_gave(example: Database, graphql: GraphQL) -> None:
    body = await graphql('{ systemsConnection(after: "not-a-cursor") { totalCount } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "not-a-cursor" in body["errors"][0]["message"]
    body = await graphql("{ systemsConnection(first: 0) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_organisations_by_kind_and_role(example: Database, data: GraphQL) -> None:
    subs = await data("{ organisations(role: SUB_PROCESSOR) { id } }")
    assert {"link-ict"} <= {o["id"] for o in subs["organisations"]}
    controllers = await data("{ organisationsConnection(role: CONTROLLER) { nodes { id } } }")
    assert [o["id"] for o in controllers["organisationsConnection"]["nodes"]] == [
        "allestree-woodlands"
    ]
    police = await data("{ organisations(kind: POLICE) { id kind } }")
    assert police["organisations"]
    assert {o["kind"] for o in police["organisations"]} == {"POLICE"}


async def test_compliance_issues_by_severity_and_rule(example: Database, data: GraphQL) -> None:
    every = (await data("{ complianceIssues { ruleId severity } }"))["complianceIssues"]
    assert every
    errors = await data("{ complianceIssues(severity: ERROR) { severity } }")
    assert len(errors["complianceIssues"]) == sum(1 for i in every if i["severity"] == "ERROR")
    rule = every[0]["ruleId"]
    one_rule = await data(
        "query($r: String) { complianceIssuesConnection(rule: $r) "
        "{ totalCount nodes { ruleId } } }",
        r=rule,
    )
    found = one_rule["complianceIssuesConnection"]
    assert found["totalCount"] == sum(1 for i in every if i["ruleId"] == rule)
    assert {i["ruleId"] for i in found["nodes"]} == {rule}


async def test_disclosures_to_an_organisation(example: Database, data: GraphQL) -> None:
    found = await data(
        'query($d: Date) { disclosuresConnection(to: "Derby City Council", asOf: $d) { '
        "totalCount nodes { to { id } recipientRole activity { id } } } }",
        d=DAY,
    )
    nodes = found["disclosuresConnection"]["nodes"]
    assert nodes
    assert found["disclosuresConnection"]["totalCount"] == len(nodes)
    assert {n["to"]["id"] for n in nodes} == {"derby-city-council"}


async def test_the_summary_agrees_with_the_lists(example: Database, as_dpo: GraphQL) -> None:
    found = await as_dpo(
        "query($d: Date) { registerSummary(asOf: $d) { controllerId asOf activities issues "
        "issuesBySeverity { key count } issuesByRule { key count } specialCategoryFlows "
        "criminalOffenceFlows recipients subProcessors activitiesByLawfulBasis { key count } "
        "gapsPerMonth { month count } changesPerMonth { month count } "
        "upcoming { date kind entityId } latestChanges { sequence actor op entityId } } "
        "activities(asOf: $d) { id } complianceIssues(asOf: $d) { ruleId severity } "
        'subProcessors(processor: "school-transition-limited", asOf: $d) { id } }',
        d=DAY,
    )
    summary = found["registerSummary"]
    assert summary["controllerId"] == "allestree-woodlands"
    assert summary["activities"] == len(found["activities"])
    assert summary["issues"] == len(found["complianceIssues"])
    assert sum(c["count"] for c in summary["issuesByRule"]) == summary["issues"]
    errors = sum(1 for i in found["complianceIssues"] if i["severity"] == "ERROR")
    assert {c["key"]: c["count"] for c in summary["issuesBySeverity"]}.get("error", 0) == errors
    assert summary["specialCategoryFlows"] > 0
    assert summary["criminalOffenceFlows"] > 0
    assert summary["subProcessors"] >= len(found["subProcessors"]) > 0
    assert {c["key"] for c in summary["activitiesByLawfulBasis"]} >= {"art6-1-c", "art6-1-e"}
    assert [m["month"] for m in summary["gapsPerMonth"]][-1] == "2022-06"
    assert len(summary["gapsPerMonth"]) == 6
    assert all(u["date"] > DAY for u in summary["upcoming"])
    latest = summary["latestChanges"]
    assert latest
    assert [c["sequence"] for c in latest] == sorted((c["sequence"] for c in latest), reverse=True)
    assert {c["actor"] for c in latest} == {"tests"}


async def test_the_summary_is_cut_to_scope(example: Database, anonymous: GraphQL) -> None:
    body = await anonymous("{ registerSummary { issues } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_changes_since_a_day(example: Database, data: GraphQL) -> None:
    every = await data("{ changes(first: 5) { id } }")
    assert every["changes"]
    since = await data('{ changes(since: "2000-01-01", first: 5) { id } }')
    assert since["changes"] == every["changes"]
    future = await data('{ changes(since: "2999-01-01") { id } }')
    assert future["changes"] == []
