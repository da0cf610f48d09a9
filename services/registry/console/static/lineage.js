// The lineage map: who receives a category of data from a controller on a day, drawn with
// cytoscape (served by the registry). Organisations are nodes; each hop is an edge styled by
// its kind and labelled with its Articles and condition. Selecting one shows its details: each
// basis with the law it rests on for that hop (`citations`), whose bases they are (`basisOf`:
// the DfE's own for its onward sharing) and what the record assumes behind it, marked as
// assumptions for the DPO to confirm; and the query that produced them. The list below the map
// says the same in text.
"use strict";
(function () {
  const C = window.RopaConsole;
  const el = C.el;

  const CHOICES = `query LineageChoices {
  dataCategoriesConnection { nodes { id name special criminalOffence } }
  organisationsConnection(role: CONTROLLER) { nodes { id name } }
}`;
  const RECIPIENTS = `query LineageMap($category: String!, $controller: String, $asOf: Date) {
  recipients(category: $category, controller: $controller, asOf: $asOf) {
    organisation { id name kind }
    paths {
      hops {
        kind
        from { id name kind }
        to { id name kind }
        activity { id name }
        categories { name }
        citations { ${C.CITATION_FIELDS} }
        basisOf { id name }
        assumptions { ${C.HOP_ASSUMPTION_FIELDS} }
        condition
        engagement { id purpose since until status }
        disclosure { id recipientRole }
      }
    }
  }
}`;
  const KIND_NAMES = {
    DISCLOSURE: "disclosure",
    SUB_PROCESSING: "sub-processing",
    ONWARD_DISCLOSURE: "onward disclosure",
  };

  const form = document.getElementById("lineage-form");
  const category = document.getElementById("category");
  const controller = document.getElementById("controller");
  const day = document.getElementById("day");
  const status = document.getElementById("status");
  const details = document.getElementById("details-body");
  const queryBox = document.getElementById("query");
  const list = document.getElementById("recipients-list");

  const cy = window.cytoscape({
    container: document.getElementById("map"),
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: {
        label: "data(label)", "text-wrap": "wrap", "text-max-width": "140px", "font-size": 11,
        "text-valign": "bottom", "text-margin-y": 4, color: "#1b1f24",
        "background-color": "#14365c", width: 22, height: 22 } },
      { selector: "node.controller", style: { "background-color": "#f5a623", shape: "round-rectangle", width: 30, height: 30 } },
      { selector: "edge", style: {
        width: 2, "curve-style": "bezier", "target-arrow-shape": "triangle",
        label: "data(label)", "font-size": 10, "text-wrap": "wrap", "text-max-width": "160px",
        "text-background-color": "#ffffff", "text-background-opacity": 0.85, color: "#1b1f24" } },
      { selector: "edge.DISCLOSURE", style: { "line-color": "#0b5cad", "target-arrow-color": "#0b5cad" } },
      { selector: "edge.SUB_PROCESSING", style: { "line-color": "#a4161a", "target-arrow-color": "#a4161a", "line-style": "dashed" } },
      { selector: "edge.ONWARD_DISCLOSURE", style: { "line-color": "#1d6b32", "target-arrow-color": "#1d6b32", "line-style": "dotted" } },
      { selector: ":selected", style: { "overlay-color": "#f5a623", "overlay-opacity": 0.35, "overlay-padding": 6 } },
    ],
  });
  window.RopaLineage = { cy };

  let lastQuery = "";

  // On the map an edge names only its UK GDPR Articles, a † when it rests on an assumption
  // (the details give each basis with its law, and the assumptions).
  const ARTICLES = ["ARTICLE_6", "ARTICLE_9", "ARTICLE_10"];
  function edgeLabel(hop) {
    const articles = hop.citations.map((c) => c.basis)
      .filter((b) => ARTICLES.includes(b.kind) && b.article).map((b) => b.article);
    return articles.join(", ") + (hop.condition ? " · conditional" : "") +
      (hop.assumptions.length ? " †" : "");
  }

  // Whose lawful bases the hop rests on, said as the notice says it.
  function whoseBases(hop, controller) {
    if (hop.kind === "SUB_PROCESSING" || !hop.basisOf) {
      return "the processor's: it works under the bases of the hop that brought it the data";
    }
    if (hop.basisOf.id === controller.id) return `${controller.name}'s own`;
    return `${hop.basisOf.name}'s own lawful basis, not ${controller.name}'s`;
  }

  // The row of a hop's details each field an assumption can be about is shown in: that row is
  // marked † (the list below the rows says what is assumed).
  const OWN_ROWS = {
    legal_bases: "Lawful bases", condition: "Condition", data_categories: "Categories",
    activity: "Activity", source: "From", recipient: "To", recipient_role: "Receives as",
    processor: "From", sub_processor: "To", purpose: "Engagement", since: "Engagement",
    until: "Engagement", status: "Engagement", recurs: "Engagement", location: "Engagement",
  };
  function assumedRows(assumptions) {
    const rows = new Set();
    for (const a of assumptions) {
      if (a.on === "to") rows.add("To");
      else if (a.about && OWN_ROWS[a.about]) rows.add(OWN_ROWS[a.about]);
    }
    return rows;
  }

  function showDetails(target) {
    const data = target.data();
    details.textContent = "";
    if (target.isNode()) {
      details.append(el("strong", { text: data.name }), ` (${data.kind.toLowerCase().replace(/_/g, " ")})`);
      const incoming = target.incomers("edge").map((e) => e.data());
      if (incoming.length) {
        details.append(el("p", { text: "Receives through:" }), el("ul", {}, incoming.map((e) =>
          el("li", { text: `${KIND_NAMES[e.kind]} from ${e.fromName}${e.activity ? " in " + e.activity : ""}` }))));
      }
    } else {
      const rows = [
        ["Kind", KIND_NAMES[data.kind]],
        ["From", data.fromName],
        ["To", data.toName],
        ["Activity", data.activity || "—"],
        ["Categories", data.categories.join(", ") || "—"],
        ["Lawful bases of", data.whose],
        ["Lawful bases", data.citations.length
          ? el("ul", { class: "citations" }, data.citations.map(C.citationItem))
          : "—"],
        ["Condition", data.condition || "—"],
      ];
      if (data.engagement) {
        const e = data.engagement;
        rows.push(["Engagement", `${e.purpose || e.id}: ${e.since || "…"} to ${e.until || "…"} (${e.status})`]);
      }
      if (data.role) rows.push(["Receives as", data.role.toLowerCase()]);
      const assumed = assumedRows(data.assumptions);
      details.append(el("dl", {}, rows.flatMap(([k, v]) => [
        el("dt", assumed.has(k) ? { class: "assumed", title: "Rests on an assumption: see below" } : {},
          assumed.has(k) ? [k, el("span", { class: "assumption-mark", text: " †" })] : k),
        el("dd", {}, v)])));
      if (data.assumptions.length) {
        details.append(el("h3", { text: "What this hop assumes" }), C.assumptionList(data.assumptions));
      }
    }
    queryBox.textContent = lastQuery;
  }

  function draw(answer, variables) {
    cy.elements().remove();
    list.textContent = "";
    const nodes = new Map();
    const edges = new Map();
    const addNode = (org, isController) => {
      if (!nodes.has(org.id)) nodes.set(org.id, { data: { id: org.id, name: org.name, kind: org.kind, label: org.name }, classes: "" });
      if (isController) nodes.get(org.id).classes = "controller";
    };
    for (const recipient of answer.recipients) {
      for (const path of recipient.paths) {
        path.hops.forEach((hop, i) => {
          addNode(hop.from, i === 0);
          addNode(hop.to, false);
          const key = [hop.from.id, hop.to.id, hop.kind, hop.activity ? hop.activity.id : ""].join("|");
          if (edges.has(key)) return;
          const label = edgeLabel(hop);
          const controller = path.hops[0].from;
          edges.set(key, { data: {
            id: "e" + edges.size, source: hop.from.id, target: hop.to.id, kind: hop.kind, label,
            fromName: hop.from.name, toName: hop.to.name, activity: hop.activity && hop.activity.name,
            categories: hop.categories.map((c) => c.name), citations: hop.citations,
            whose: whoseBases(hop, controller), assumptions: hop.assumptions, condition: hop.condition, engagement: hop.engagement, role: hop.disclosure && hop.disclosure.recipientRole,
          }, classes: hop.kind });
        });
      }
    }
    cy.add([...nodes.values(), ...edges.values()]);
    cy.layout({ name: "breadthfirst", directed: true, roots: cy.nodes(".controller"), spacingFactor: 1.4, padding: 30 }).run();
    lastQuery = RECIPIENTS + "\n\n# variables\n" + JSON.stringify(variables, null, 2);
    queryBox.textContent = lastQuery;
    for (const recipient of answer.recipients) {
      const org = recipient.organisation;
      const hops = recipient.paths.map((p) => p.hops.map((h) => {
        const cited = h.citations.map(C.citationText).join("; ") || "no legal basis";
        const theirs = h.basisOf && h.basisOf.id !== p.hops[0].from.id ? `, ${h.basisOf.name}'s own lawful basis` : "";
        const assumed = h.assumptions.length ? ` † ${h.assumptions.length} assumption(s) to confirm` : "";
        return `${KIND_NAMES[h.kind]} to ${h.to.name} (${cited}${theirs})${assumed}`;
      }).join(", then "));
      const button = el("button", { type: "button", class: "linkish", text: org.name });
      button.addEventListener("click", () => {
        cy.elements().unselect();
        const node = cy.getElementById(org.id);
        node.select();
        showDetails(node);
      });
      list.append(el("li", { "data-recipient": org.id }, [button, ": ", hops.join("; ")]));
    }
    const count = answer.recipients.length;
    status.textContent = `${count} recipient(s) of ${variables.category} on ${variables.asOf}.`;
  }

  cy.on("tap", "node, edge", (event) => showDetails(event.target));

  async function run() {
    const variables = { category: category.value, controller: controller.value || null, asOf: day.value };
    status.className = "status";
    status.textContent = "Tracing " + variables.category + "…";
    const url = new URL(window.location.href);
    for (const [k, v] of Object.entries(variables)) {
      if (v) url.searchParams.set(k, v); else url.searchParams.delete(k);
    }
    window.history.replaceState(null, "", url);
    try {
      draw(await C.graphql(RECIPIENTS, variables), variables);
    } catch (error) {
      status.className = "status failed";
      status.textContent = "The map could not be drawn: " + error.message;
    }
  }

  async function start() {
    const params = new URLSearchParams(window.location.search);
    day.value = params.get("asOf") || C.today();
    try {
      const choices = await C.graphql(CHOICES);
      for (const c of choices.dataCategoriesConnection.nodes) {
        category.append(el("option", { value: c.id, text: c.name + (c.special ? " (special)" : c.criminalOffence ? " (criminal offence)" : "") }));
      }
      controller.append(el("option", { value: "", text: "Every controller" }));
      for (const o of choices.organisationsConnection.nodes) {
        controller.append(el("option", { value: o.id, text: o.name }));
      }
      category.value = params.get("category") || "safeguarding";
      if (!category.value && category.options.length) category.selectedIndex = 0;
      controller.value = params.get("controller") || (choices.organisationsConnection.nodes[0] || { id: "" }).id;
    } catch (error) {
      status.className = "status failed";
      status.textContent = "The register could not be read: " + error.message;
      return;
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run();
    });
    run();
  }
  start();
})();
