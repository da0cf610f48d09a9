"""Who may read and change which register: a matrix generated from the schema and the routes.

Every Query, Mutation and Subscription field of the served schema, and every HTTP route of the
app, must have a rule here: a new field or route fails `test_every_operation_has_a_rule` until
one says who may use it. Each rule is then run, through the app, for anonymous callers and for
a reader and a dpo in and out of scope, and an admin, on two registers (Allestree Woodlands, and
Mickleover Meadows, which is the out-of-scope principals' register): no principal reads or
writes anything of a register outside its scope, beyond the public sub-processor lists.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from graph import from_document, maintenance, register
from graph.database import Database
from graph.webhook_targets import WebhookTargetSettings
from schema.access.policy import PublicReads
from schema.access.tokens import hash_token
from schema.graphql.schema import build_schema
from schema.validation import load_document
from services.registry.app import create_app
from services.registry.loaders import build_context
from services.registry.settings import RegistrySettings

pytestmark = pytest.mark.neo4j

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
IN, OUT = "allestree-woodlands", "mickleover-meadows"
# Allestree's record spans its register and the one its processor keeps (which declares and
# owns the sub-processor engagements): the principals "in" hold both.
STL = "school-transition-limited"
PRINCIPALS: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "reader-in": {"role": "reader", "registers": [IN, STL]},
    "reader-out": {"role": "reader", "registers": [OUT]},
    "dpo-in": {"role": "dpo", "registers": [IN, STL]},
    "dpo-out": {"role": "dpo", "registers": [OUT]},
    "admin": {"role": "admin"},
}
IN_SCOPE = {"reader-in", "dpo-in", "admin"}
WRITERS = {"dpo-in", "admin"}


def _token(who: str) -> str:
    return f"matrix-token-{who}"


@pytest.fixture(scope="module")
async def two_registers(session_db: Database) -> Database:
    """Both example registers in one graph, applied once for the module, with the register
    School Transition Limited keeps as Allestree's processor (its sub-processors)."""
    await maintenance.wipe(session_db)
    for name in (f"{IN}.yaml", f"{STL}.yaml", f"{OUT}.yaml"):
        doc = load_document(EXAMPLES / name)
        await register.apply(session_db, doc.register_info.id, from_document.entities(doc), "cli")
    return session_db


@pytest.fixture(scope="module")
async def matrix_app(
    two_registers: Database, registry_settings: RegistrySettings
) -> AsyncIterator[Starlette]:
    """The registry with a token for each principal of the matrix."""
    tokens = [
        {"name": who, "sha256": hash_token(_token(who))} | entry
        for who, entry in PRINCIPALS.items()
        if entry is not None
    ]
    settings = registry_settings.model_copy(
        update={
            "tokens": json.dumps(tokens),
            "webhook_targets": WebhookTargetSettings(allow_loopback=True),
        }
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def http(matrix_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the matrix app."""
    transport = httpx.ASGITransport(app=matrix_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        yield client


def _headers(who: str) -> dict[str, str]:
    return {} if PRINCIPALS[who] is None else {"authorization": f"Bearer {_token(who)}"}


async def _graphql(http: httpx.AsyncClient, who: str, query: str) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query}, headers=_headers(who))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in body.get("errors") or []}


def _ids(items: Any) -> set[str]:
    return {i["id"] for i in items or []}


@dataclass(frozen=True)
class Read:
    """A query reading Allestree Woodlands' data; `sees` says whether the answer shows it."""

    query: str
    sees: Callable[[dict[str, Any]], bool]
    public: bool = False  # part of the public sub-processor lists
    # The shared vocabulary (categories, data subjects, legal bases): every principal's.
    vocabulary: bool = False


READS: dict[str, Read] = {
    "organisations": Read("{ organisations { id } }", lambda d: IN in _ids(d["organisations"])),
    "organisation": Read(
        f'{{ organisation(ref: "{IN}") {{ id }} }}', lambda d: d["organisation"] is not None
    ),
    "activities": Read(
        '{ activities(asOf: "2022-06-01") { id } }',
        lambda d: "post16-transfer" in _ids(d["activities"]),
    ),
    "activity": Read(
        '{ activity(ref: "post16-transfer") { id } }', lambda d: d["activity"] is not None
    ),
    "dataCategories": Read(
        "{ dataCategories { id } }",
        lambda d: "safeguarding" in _ids(d["dataCategories"]),
        vocabulary=True,
    ),
    "dataSubjects": Read(
        "{ dataSubjects { id } }",
        lambda d: "year-11-students" in _ids(d["dataSubjects"]),
        vocabulary=True,
    ),
    "legalBases": Read(
        "{ legalBases { id } }", lambda d: "art9-2-g" in _ids(d["legalBases"]), vocabulary=True
    ),
    "systems": Read("{ systems { id } }", lambda d: bool(d["systems"])),
    "recipients": Read(
        '{ recipients(category: "safeguarding", asOf: "2022-06-01") { organisation { id } } }',
        lambda d: bool(d["recipients"]),
    ),
    "complianceIssues": Read(
        f'{{ complianceIssues(controller: "{IN}") {{ ruleId }} }}',
        lambda d: bool((d or {}).get("complianceIssues")),
    ),
    "subProcessors": Read(
        '{ subProcessors(processor: "school-transition-limited", asOf: "2022-06-01") { id } }',
        lambda d: "stl-link-ict" in _ids(d["subProcessors"]),
        public=True,
    ),
    "changes": Read(
        '{ changes(processor: "school-transition-limited", first: 10) { id } }',
        lambda d: bool(d["changes"]),
        public=True,
    ),
    "disclosures": Read(
        '{ disclosures(asOf: "2022-06-01") { id } }',
        lambda d: "census-to-dfe" in _ids(d["disclosures"]),
    ),
    "registerSummary": Read(
        f'{{ registerSummary(controller: "{IN}", asOf: "2022-06-01") {{ controllerId }} }}',
        lambda d: bool(d and d.get("registerSummary")),
    ),
    "auditLog": Read(
        f'{{ auditLog(register: "{IN}", first: 5) {{ edges {{ node {{ id }} }} }} }}',
        lambda d: bool(d and d["auditLog"]["edges"]),
    ),
}


def _nodes(data: dict[str, Any], field: str) -> Any:
    return data[field]["nodes"]


# Each connection pages what its list field answers: the same rule, read through `nodes`.
READS |= {
    "organisationsConnection": Read(
        "{ organisationsConnection(first: 100) { nodes { id } } }",
        lambda d: IN in _ids(_nodes(d, "organisationsConnection")),
    ),
    "activitiesConnection": Read(
        '{ activitiesConnection(asOf: "2022-06-01", first: 100) { nodes { id } } }',
        lambda d: "post16-transfer" in _ids(_nodes(d, "activitiesConnection")),
    ),
    "disclosuresConnection": Read(
        '{ disclosuresConnection(asOf: "2022-06-01", first: 100) { nodes { id } } }',
        lambda d: "census-to-dfe" in _ids(_nodes(d, "disclosuresConnection")),
    ),
    "dataCategoriesConnection": Read(
        "{ dataCategoriesConnection(first: 100) { nodes { id } } }",
        lambda d: "safeguarding" in _ids(_nodes(d, "dataCategoriesConnection")),
        vocabulary=True,
    ),
    "dataSubjectsConnection": Read(
        "{ dataSubjectsConnection(first: 100) { nodes { id } } }",
        lambda d: "year-11-students" in _ids(_nodes(d, "dataSubjectsConnection")),
        vocabulary=True,
    ),
    "legalBasesConnection": Read(
        "{ legalBasesConnection(first: 100) { nodes { id } } }",
        lambda d: "art9-2-g" in _ids(_nodes(d, "legalBasesConnection")),
        vocabulary=True,
    ),
    "systemsConnection": Read(
        "{ systemsConnection(first: 100) { nodes { id } } }",
        lambda d: bool(_nodes(d, "systemsConnection")),
    ),
    "recipientsConnection": Read(
        '{ recipientsConnection(category: "safeguarding", asOf: "2022-06-01", first: 100) '
        "{ nodes { organisation { id } } } }",
        lambda d: bool(_nodes(d, "recipientsConnection")),
    ),
    "complianceIssuesConnection": Read(
        f'{{ complianceIssuesConnection(controller: "{IN}", first: 100) '
        "{ nodes { ruleId } } }",
        lambda d: bool(d and _nodes(d, "complianceIssuesConnection")),
    ),
    "subProcessorsConnection": Read(
        '{ subProcessorsConnection(processor: "school-transition-limited", asOf: "2022-06-01", '
        "first: 100) { nodes { id } } }",
        lambda d: "stl-link-ict" in _ids(_nodes(d, "subProcessorsConnection")),
        public=True,
    ),
}
# Fields that need a writer (the dpo role), checked by `test_writes_are_cut_to_scope`.
WRITES = {
    "webhooks",
    "webhooksConnection",
    "engageSubProcessor",
    "updateEngagement",
    "endEngagement",
    "registerWebhook",
    "removeWebhook",
    "redeliver",
    "objectToEngagement",
}
# The differences the notifier finds in vendors' published lists: read by any dpo (a vendor's
# list is public); decided only by a dpo of a register declaring the watched organisation
# (tests/services/portal/test_watch.py); acting on one goes through the engagement mutations,
# which are cut to scope. Checked by `test_watched_lists_need_a_writer`.
WATCHED = {"listChanges", "listChangesConnection", "confirmListChange", "dismissListChange"}
# Open to everyone by design: a double opt-in e-mail subscription to a public list
# (tests/services/portal); checked below not to need a token.
PUBLIC_MUTATIONS = {"subscribeByEmail"}
SUBSCRIPTIONS = {"subProcessorChanges"}
# Routes: those for everyone by design, and those with a rule below.
PUBLIC_ROUTES = {"/healthz", "/readyz", "/metrics", "/processors", "/processors/{processor}"}
PUBLIC_MOUNTS = {"/portal/static", "/static", "/console/static"}
# The console's pages hold no register data: they read it through /graphql as their caller
# (checked below). The sign-in flow is for everyone (tests/services/signin).
CONSOLE_PAGES = {"/", "/dashboard", "/lineage"}
SIGN_IN = {"/auth/login", "/auth/logout", "/auth/me", "/auth/callback"}
# E-mail subscriptions to the public lists: double opt-in, for everyone (tests/services/portal).
SUBSCRIBING = {"/processors/{processor}/subscribe", "/subscriptions/confirm"}
SUBSCRIBING |= {"/subscriptions/unsubscribe"}
# The notices' index page and stylesheet, and the icon, hold no register data.
CONSOLE_PAGES |= {"/notices", "/notices/notice.css", "/favicon.ico"}
RULED_ROUTES = {
    "/graphql",
    "/export/ropa.{extension}",
    "/feeds/subprocessors/{processor}.atom",
    "/notices/{controller}/{audience}",
}


def _route_paths(routes: list[BaseRoute]) -> set[str]:
    paths: set[str] = set()
    for route in routes:
        if isinstance(route, Route | WebSocketRoute | Mount):
            paths.add(route.path)
    return paths


def test_every_operation_has_a_rule(registry_settings: RegistrySettings) -> None:
    schema = build_schema(show_unexpected_errors=False)._schema
    fields = {
        name
        for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if root is not None
        for name in root.fields
    }
    ruled = set(READS) | WRITES | SUBSCRIPTIONS | PUBLIC_MUTATIONS | WATCHED
    assert not fields - ruled, f"fields with no access rule in this test: {fields - ruled}"
    paths = _route_paths(create_app(registry_settings).routes)
    unruled = paths - PUBLIC_ROUTES - PUBLIC_MOUNTS - RULED_ROUTES - CONSOLE_PAGES - SIGN_IN
    unruled -= SUBSCRIBING
    assert not unruled, f"routes with no access rule in this test: {unruled}"


@pytest.mark.parametrize("field", sorted(READS))
async def test_reads_are_cut_to_scope(http: httpx.AsyncClient, field: str) -> None:
    rule = READS[field]
    for who in PRINCIPALS:
        body = await _graphql(http, who, rule.query)
        data = body.get("data")
        sees = data is not None and rule.sees(data)
        expected = who in IN_SCOPE or rule.public or (rule.vocabulary and who != "anonymous")
        assert sees == expected, f"{field} as {who}: sees Allestree's data: {sees}; {body}"


async def test_people_only_within_scope(http: httpx.AsyncClient) -> None:
    query = (
        "{ organisations { id contact { name email } } "
        "changes(first: 3) { actor } "
        'subProcessors(processor: "school-transition-limited", asOf: "2022-06-01") '
        "{ processor { id contact { name } dpo { name } } } }"
    )
    for who in PRINCIPALS:
        data = (await _graphql(http, who, query))["data"]
        actors = {c["actor"] for c in data["changes"]}
        contacts = [e["processor"]["contact"] for e in data["subProcessors"]]
        if who in IN_SCOPE:
            assert actors == {"cli"}, who
        else:
            assert actors == {None}, f"{who} was shown the actor of a change"
            assert not any(contacts), f"{who} was shown a processor's contacts"
            assert IN not in _ids(data["organisations"])


async def test_the_second_register_is_its_own_principals(http: httpx.AsyncClient) -> None:
    query = '{ activities(asOf: "2024-01-01") { id } organisations { id } }'
    out = (await _graphql(http, "reader-out", query))["data"]
    assert _ids(out["activities"]) == {"meadows-attendance"}
    # Shared by id: the DfE is declared by both registers, so both see it.
    assert {"dfe", OUT} <= _ids(out["organisations"])
    mine = (await _graphql(http, "reader-in", query))["data"]
    assert "meadows-attendance" not in _ids(mine["activities"])
    assert "dfe" in _ids(mine["organisations"])
    admin = (await _graphql(http, "admin", query))["data"]
    assert "meadows-attendance" in _ids(admin["activities"])


async def test_routes_are_cut_to_scope(http: httpx.AsyncClient) -> None:
    for page in sorted(CONSOLE_PAGES):
        shell = await http.get(page)
        assert b"Allestree" not in shell.content, f"{page} carries register data"
    for who in PRINCIPALS:
        export = await http.get(
            "/export/ropa.json", params={"controller": IN}, headers=_headers(who)
        )
        if who in IN_SCOPE:
            assert export.status_code == 200, (who, export.text)
        else:
            assert export.status_code in (401, 404), (who, export.status_code)
        mine = await http.get(
            "/export/ropa.json", params={"controller": OUT}, headers=_headers(who)
        )
        assert (mine.status_code == 200) == (who in {"reader-out", "dpo-out", "admin"}), who
        notice = await http.get(f"/notices/{IN}/pupils", headers=_headers(who))
        if who in IN_SCOPE:
            assert notice.status_code == 200, (who, notice.text)
        else:
            assert notice.status_code == (401 if who == "anonymous" else 404), who
            assert b"Allestree" not in notice.content
        feed = await http.get(
            "/feeds/subprocessors/school-transition-limited.atom", headers=_headers(who)
        )
        assert feed.status_code == 200
        assert (b"<name>cli</name>" in feed.content) == (who in IN_SCOPE), who
        assert b"stl-link-ict" in feed.content or b"Link ICT" in feed.content


async def test_subscriptions_deliver_what_the_principal_may_read(
    matrix_app: Starlette, two_registers: Database
) -> None:
    schema = build_schema(show_unexpected_errors=True)
    first = (await _changes(two_registers))[0]
    query = f'subscription {{ subProcessorChanges(after: "{first}") {{ id actor }} }}'
    for who, entry in PRINCIPALS.items():
        context = build_context(two_registers)
        context.changes = matrix_app.state.changes
        if entry is not None:
            tokens = matrix_app.state.tokens
            context.principal = next(t for t in tokens if t.name == who).principal()
        stream = await schema.subscribe(query, context_value=context)
        assert not isinstance(stream, dict)
        result = await anext(aiter(stream))
        assert result.errors is None, (who, result.errors)
        assert result.data is not None
        change = result.data["subProcessorChanges"]
        assert (change["actor"] == "cli") == (who in IN_SCOPE), who
        await stream.aclose()


async def _changes(db: Database) -> list[str]:
    from graph.read.changes import history

    return [c.id for c in await history(db, None, None, 10)]


@pytest.mark.parametrize(
    ("mutation", "allowed"),
    [
        (
            'mutation { updateEngagement(id: "stl-link-ict", input: {}) { errors { message } } }',
            WRITERS,
        ),
        (
            'mutation { endEngagement(id: "stl-link-ict", until: "2023-02-13") '
            "{ errors { message } } }",
            WRITERS,
        ),
        (
            'mutation { updateEngagement(id: "meadows-messaging-cloud-sms", input: {}) '
            "{ errors { message } } }",
            {"dpo-out", "admin"},
        ),
        (
            'mutation { engageSubProcessor(input: {processor: "school-transition-limited", '
            'subProcessor: "link-ict", purpose: "Matrix", categories: [], '
            'since: "2022-02-14"}) { errors { message } } }',
            WRITERS,
        ),
        (
            'mutation { objectToEngagement(id: "stl-link-ict", reason: "Matrix") { __typename } }',
            WRITERS,
        ),
    ],
    ids=["update-in", "end-in", "update-out", "engage-in", "object-in"],
)
async def test_writes_are_cut_to_scope(
    http: httpx.AsyncClient, mutation: str, allowed: set[str]
) -> None:
    for who in PRINCIPALS:
        body = await _graphql(http, who, mutation)
        codes = _codes(body)
        if who in allowed:
            # Allowed through: any other refusal (a closed objection window) is not access's.
            assert not codes & {"UNAUTHENTICATED", "FORBIDDEN"}, (who, body)
        else:
            expected = "UNAUTHENTICATED" if PRINCIPALS[who] is None else "FORBIDDEN"
            assert codes == {expected}, (who, body)


async def test_webhooks_are_administered_within_scope(http: httpx.AsyncClient) -> None:
    register_hook = (
        'mutation { registerWebhook(input: {url: "http://127.0.0.1:9/hook"}) '
        "{ webhook { id registers } errors { message } } }"
    )
    body = await _graphql(http, "dpo-in", register_hook)
    hook = body["data"]["registerWebhook"]["webhook"]
    assert hook["registers"] == sorted([IN, STL])  # the scope of the dpo who registered it
    for who in ("anonymous", "reader-in"):
        codes = _codes(await _graphql(http, who, register_hook))
        assert codes == {"UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"}
    listed = "{ webhooks { id } webhooksConnection { nodes { id } } }"
    for who in PRINCIPALS:
        body = await _graphql(http, who, listed)
        if who in {"anonymous", "reader-in", "reader-out"}:
            assert _codes(body) == {"FORBIDDEN" if PRINCIPALS[who] else "UNAUTHENTICATED"}, who
        else:
            assert (hook["id"] in _ids(body["data"]["webhooks"])) == (who in WRITERS), who
            paged = body["data"]["webhooksConnection"]["nodes"]
            assert _ids(paged) == _ids(body["data"]["webhooks"]), who
    for operation in (
        f'mutation {{ redeliver(webhook: "{hook["id"]}") {{ errors {{ message }} }} }}',
        f'mutation {{ removeWebhook(id: "{hook["id"]}") {{ errors {{ message }} }} }}',
    ):
        assert _codes(await _graphql(http, "dpo-out", operation)) == {"FORBIDDEN"}
        assert _codes(await _graphql(http, "reader-in", operation)) == {"FORBIDDEN"}
        assert not _codes(await _graphql(http, "dpo-in", operation))


@pytest.mark.parametrize("public", ["none", "all"])
async def test_public_reads(
    two_registers: Database, registry_settings: RegistrySettings, public: str
) -> None:
    settings = registry_settings.model_copy(update={"public_reads": PublicReads(public)})
    application = create_app(settings)
    query = (
        '{ activities(asOf: "2022-06-01") { id } organisations { id contact { name } } '
        'subProcessors(processor: "school-transition-limited", asOf: "2022-06-01") { id } '
        "changes(first: 3) { actor } }"
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            data = (await client.post("/graphql", json={"query": query})).json()["data"]
            page = await client.get("/processors/school-transition-limited")
    if public == "none":
        assert data == {"activities": [], "organisations": [], "subProcessors": [], "changes": []}
        assert page.status_code == 404
    else:
        assert "post16-transfer" in _ids(data["activities"])
        assert "stl-link-ict" in _ids(data["subProcessors"])
        # Every record, but no one's personal data.
        assert not any(o["contact"] for o in data["organisations"])
        assert {c["actor"] for c in data["changes"]} == {None}
        assert page.status_code == 200


async def test_e_mail_subscriptions_need_no_token(http: httpx.AsyncClient) -> None:
    body = await _graphql(
        http,
        "anonymous",
        'mutation { subscribeByEmail(processor: "school-transition-limited", '
        'email: "parent@example.org") { __typename } }',
    )
    assert not _codes(body) & {"UNAUTHENTICATED", "FORBIDDEN"}, body


@pytest.mark.parametrize(
    "operation",
    [
        "{ listChanges { id } }",
        "{ listChangesConnection { totalCount } }",
        'mutation { confirmListChange(id: "no-such-change") { __typename } }',
        'mutation { dismissListChange(id: "no-such-change") { __typename } }',
    ],
    ids=["listChanges", "listChangesConnection", "confirmListChange", "dismissListChange"],
)
async def test_watched_lists_need_a_writer(http: httpx.AsyncClient, operation: str) -> None:
    for who in PRINCIPALS:
        codes = _codes(await _graphql(http, who, operation))
        if who == "anonymous":
            assert codes == {"UNAUTHENTICATED"}, who
        elif who.startswith("reader"):
            assert codes == {"FORBIDDEN"}, who
        else:
            assert not codes & {"UNAUTHENTICATED", "FORBIDDEN"}, who
