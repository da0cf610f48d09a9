// The compliance dashboard: for each controller the caller may read, on a chosen day, the gaps
// by severity and rule, the counts, each disclosure in force with the law each of its bases
// rests on for it (and whose bases they are, and what the record assumes behind it), what
// comes up next, trends per month and the latest changes. It reads only the public GraphQL API
// (docs/api-connections.md).
"use strict";
(function () {
  const C = window.RopaConsole;
  const el = C.el;

  const CONTROLLERS = `query DashboardControllers {
  organisationsConnection(role: CONTROLLER) { totalCount nodes { id name } }
}`;
  const CONTROLLER = `query DashboardController($controller: String!, $asOf: Date) {
  registerSummary(controller: $controller, asOf: $asOf) {
    controllerId controllerName asOf
    activities specialCategoryFlows criminalOffenceFlows recipients processors subProcessors
    thirdCountryTransfers issues
    issuesBySeverity { key label count }
    issuesByRule { key label count }
    activitiesByLawfulBasis { key label count }
    upcoming { date kind entityKind entityId description }
    gapsPerMonth { month count }
    changesPerMonth { month count }
    latestChanges { sequence occurredAt actor op entityKind entityId }
    objections { id register reason objectedAt engagementId }
  }
  complianceIssuesConnection(controller: $controller, asOf: $asOf) {
    totalCount
    nodes { severity ruleId entityKind entityId message reference }
  }
}`;

  // The disclosures in force on the day, in every register the caller reads; each controller's
  // view shows those of its activities (the DfE's onward sharing in the school's census too).
  const DISCLOSURES = `query DashboardDisclosures($asOf: Date) {
  disclosures(asOf: $asOf) {
    id kind
    from { id name }
    to { id name }
    activity { id name controller { id } }
    citations { ${C.CITATION_FIELDS} }
    basisOf { id name }
    assumptions { ${C.ASSUMPTION_FIELDS} }
  }
}`;

  // A link that opens the explorer on the entity a gap concerns.
  const ENTITY_QUERIES = {
    ACTIVITY: (id) => `{\n  activity(ref: "${id}") {\n    name purposes retention\n    legalBases { title article }\n    categories { name special criminalOffence }\n    dpia { status link }\n    disclosures { id to { name } legalBases { title } }\n  }\n}\n`,
    ORGANISATION: (id) => `{\n  organisation(ref: "${id}") {\n    name kind country contact { name email } dpo { name email }\n  }\n  disclosuresConnection(to: "${id}") {\n    totalCount nodes { id activity { name } recipientRole legalBases { title } }\n  }\n}\n`,
    FLOW: (id) => `# The disclosure ${id}, among every disclosure in force today\n{\n  disclosuresConnection {\n    nodes { id activity { name } from { name } to { name } legalBases { title article } condition }\n  }\n}\n`,
    ENGAGEMENT: (id) => `# The engagement ${id}, among the sub-processor changes recorded\n{\n  changes(first: 500) {\n    after { id processorId subProcessorId since until status }\n  }\n}\n`,
  };

  function entityLink(kind, id) {
    const query = (ENTITY_QUERIES[kind] || ENTITY_QUERIES.ACTIVITY)(id);
    return el("a", { href: "/graphql?query=" + encodeURIComponent(query) }, [
      kind.toLowerCase() + " ",
      el("code", { text: id }),
    ]);
  }

  function card(label, value, id) {
    return el("div", { class: "card", "data-figure": id }, [
      el("span", { class: "figure", text: String(value) }),
      el("span", { class: "label", text: label }),
    ]);
  }

  function table(caption, headings, rows, numeric) {
    const head = el("tr", {}, headings.map((h, i) =>
      el("th", { scope: "col", class: (numeric || []).includes(i) ? "number" : null, text: h })));
    const body = rows.map((cells) => el("tr", {}, cells.map((c, i) =>
      el("td", { class: (numeric || []).includes(i) ? "number" : null }, c))));
    return el("table", {}, [el("caption", { text: caption }), el("thead", {}, head),
      el("tbody", {}, body.length ? body : [el("tr", {}, el("td", {
        colspan: String(headings.length), text: "None." }))])]);
  }

  function bar(count, max) {
    const span = el("span", { class: "bar", "aria-hidden": "true" });
    span.style.width = (max ? Math.round((count / max) * 8) : 0) + "rem";
    return [span, String(count)];
  }

  function section(title, id, children) {
    return el("section", { "aria-labelledby": id }, [el("h3", { id, text: title })].concat(children));
  }

  // Whose bases a disclosure rests on, as the notice says it.
  function whose(d, controllerId, controllerName) {
    return d.basisOf.id === controllerId ? `${controllerName}'s own`
      : `${d.basisOf.name}'s own lawful basis, not ${controllerName}'s`;
  }

  function disclosureRows(disclosures, controllerId, controllerName) {
    return disclosures.map((d) => el("tr", { "data-disclosure": d.id }, [
      el("td", {}, [entityLink("FLOW", d.id), el("br"), `${d.from.name} to ${d.to.name}`,
        el("br"), el("span", { class: "muted", text: "in " + d.activity.name })]),
      el("td", {}, d.citations.length
        ? el("ul", { class: "citations" }, d.citations.map((c) => el("li", { class: "citation", text: C.citationText(c) })))
        : "No lawful basis recorded"),
      el("td", { class: "whose", text: whose(d, controllerId, controllerName) }),
      el("td", {}, d.assumptions.length ? C.assumptionList(d.assumptions) : "None."),
    ]));
  }

  function disclosureTable(disclosures, controllerId, controllerName) {
    const head = el("tr", {}, ["Disclosure", "Lawful bases, each with the law it rests on here",
      "Whose bases", "Assumptions (for the DPO to confirm)"].map((h) => el("th", { scope: "col", text: h })));
    const rows = disclosureRows(disclosures, controllerId, controllerName);
    return el("table", { class: "disclosures" }, [
      el("caption", { text: `${disclosures.length} disclosures in force, with their lawful bases` }),
      el("thead", {}, head),
      el("tbody", {}, rows.length ? rows : [el("tr", {}, el("td", { colspan: "4", text: "None." }))]),
    ]);
  }

  function controllerView(data, disclosures) {
    const s = data.registerSummary;
    const issues = data.complianceIssuesConnection;
    const id = "c-" + s.controllerId;
    const severity = Object.fromEntries(s.issuesBySeverity.map((c) => [c.key, c.count]));
    const bases = s.activitiesByLawfulBasis;
    const maxBasis = Math.max(0, ...bases.map((b) => b.count));
    const months = s.gapsPerMonth.map((g) => {
      const changes = s.changesPerMonth.find((c) => c.month === g.month);
      return [g.month, g.count, changes ? changes.count : 0];
    });
    const maxGaps = Math.max(0, ...months.map((m) => m[1]));
    const maxChanges = Math.max(0, ...months.map((m) => m[2]));
    const order = { ERROR: 0, WARNING: 1 };
    const gaps = issues.nodes.slice().sort((a, b) =>
      order[a.severity] - order[b.severity] || a.ruleId.localeCompare(b.ruleId));
    return el("article", { class: "controller", "aria-labelledby": id, "data-controller": s.controllerId }, [
      el("h2", { id, text: s.controllerName }),
      el("p", { class: "status", text: `The record as it stood on ${s.asOf}.` }),
      el("div", { class: "cards" }, [
        card("Gaps: errors", severity.error || 0, "errors"),
        card("Gaps: warnings", severity.warning || 0, "warnings"),
        card("Activities in force", s.activities, "activities"),
        card("Special category flows", s.specialCategoryFlows, "special"),
        card("Criminal offence flows", s.criminalOffenceFlows, "criminal"),
        card("Recipients", s.recipients, "recipients"),
        card("Processors", s.processors, "processors"),
        card("Sub-processors", s.subProcessors, "sub-processors"),
        card("Third-country transfers", s.thirdCountryTransfers, "transfers"),
      ]),
      section("Gaps in the record", id + "-gaps", [
        table(`${issues.totalCount} gaps, errors first`, ["Severity", "Rule", "Concerns", "What is wrong", "Rests on"],
          gaps.map((g) => [el("span", { class: "severity-" + g.severity.toLowerCase(), text: g.severity.toLowerCase() }),
            el("code", { text: g.ruleId }), entityLink(g.entityKind, g.entityId), g.message, g.reference])),
      ]),
      section("Disclosures and the law they rest on", id + "-disclosures", [
        disclosureTable(disclosures.filter((d) => d.activity.controller.id === s.controllerId),
          s.controllerId, s.controllerName),
      ]),
      el("div", { class: "grid-2" }, [
        section("Gaps by rule", id + "-rules", [
          table("Gaps per rule", ["Rule", "Gaps"], s.issuesByRule.map((r) => [el("code", { text: r.key }), r.count]), [1]),
        ]),
        section("Activities by lawful basis", id + "-bases", [
          table("Activities in force per Article 6 basis", ["Lawful basis", "Activities"],
            bases.map((b) => [b.label, bar(b.count, maxBasis)])),
        ]),
        section("What comes up next", id + "-next", [
          table("In the next 90 days", ["Date", "What"], s.upcoming.map((u) => [u.date,
            [u.description, " (", entityLink(u.entityKind, u.entityId), ")"]])),
        ]),
        section("Trends", id + "-trends", [
          table("Gaps at each month's end, and changes recorded", ["Month", "Gaps", "Changes"],
            months.map((m) => [m[0], bar(m[1], maxGaps), bar(m[2], maxChanges)])),
        ]),
      ]),
      section("Objections", id + "-objections", [
        table("Objections to announced sub-processors (made by this register, or to its processor's engagements)",
          ["When", "Engagement", "Register", "Reason"], s.objections.map((o) =>
            [o.objectedAt.replace("T", " ").slice(0, 19), entityLink("ENGAGEMENT", o.engagementId),
              el("code", { text: o.register }), o.reason])),
      ]),
      section("Latest changes", id + "-latest", [
        table("The newest changes recorded", ["#", "When", "Change", "Who"], s.latestChanges.map((c) =>
          [String(c.sequence), c.occurredAt.replace("T", " ").slice(0, 19), `${c.op.toLowerCase()} ${c.entityKind} ${c.entityId}`, c.actor || "—"]), [0]),
      ]),
    ]);
  }

  async function show(day) {
    const status = document.getElementById("status");
    const out = document.getElementById("controllers");
    status.className = "status";
    status.textContent = "Loading the record on " + day + "…";
    out.textContent = "";
    try {
      const list = await C.graphql(CONTROLLERS);
      const controllers = list.organisationsConnection.nodes;
      if (!controllers.length) {
        status.textContent = "No controller in your scope has a record.";
        return;
      }
      const flows = C.graphql(DISCLOSURES, { asOf: day }).then((d) => d.disclosures);
      const views = await Promise.all(controllers.map((c) =>
        Promise.all([C.graphql(CONTROLLER, { controller: c.id, asOf: day }), flows])
          .then(([data, found]) => controllerView(data, found), (error) =>
          el("article", { class: "controller" }, [el("h2", { text: c.name }),
            el("p", { class: "status failed", text: error.message })]))));
      out.append(...views);
      status.textContent = `${controllers.length} controller(s) on ${day}.`;
    } catch (error) {
      status.className = "status failed";
      status.textContent = "The dashboard could not be loaded: " + error.message;
    }
  }

  const form = document.getElementById("dashboard-form");
  const input = document.getElementById("day");
  const params = new URLSearchParams(window.location.search);
  input.value = params.get("asOf") || C.today();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(window.location.href);
    url.searchParams.set("asOf", input.value);
    window.history.replaceState(null, "", url);
    show(input.value);
  });
  show(input.value);
})();
