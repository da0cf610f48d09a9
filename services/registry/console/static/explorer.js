// The explorer: GraphiQL on the registry's own /graphql, with the DPO's questions as tabs.
// Queries and mutations go over HTTP (with the session cookie or the pasted token);
// subscriptions over graphql-transport-ws on the same URL.
"use strict";
(function () {
  const C = window.RopaConsole;
  const tabs = JSON.parse(document.getElementById("explorer-tabs").textContent);
  // A link from another page (the dashboard's gaps) opens its query in a first tab.
  const asked = new URLSearchParams(window.location.search).get("query");
  if (asked) tabs.unshift({ query: asked });
  const http = new URL("/graphql", window.location.href);
  const ws = new URL(http);
  ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";

  const wsClient = window.graphqlWs.createClient({
    url: ws.href,
    lazy: true,
    connectionParams: () => {
      const t = C.token();
      return t ? { Authorization: "Bearer " + t } : {};
    },
  });
  const toolkit = window.GraphiQL.createFetcher({
    url: http.href,
    wsClient,
    fetch: C.consoleFetch,
  });

  // GraphiQL parses the editor's text 100 ms after each change and hands the fetcher what it
  // parsed last. An Execute inside that window (right after switching tabs, or on a busy
  // machine) sends the new text with the old tab's operation name and document, and the
  // toolkit then posts a subscription over HTTP, which the server refuses (400). So the
  // document is parsed here, from the very text being sent: the operation GraphQL would run
  // (the named one; the only one when the name is missing or names none of them) decides the
  // transport, and its name is the one sent.
  const { parse } = window.GraphiQL.GraphQL;
  function selected(query, name) {
    let document;
    try {
      document = parse(query);
    } catch (syntaxError) {
      return null; // the server answers with the syntax error itself
    }
    const operations = document.definitions.filter((d) => d.kind === "OperationDefinition");
    const named = operations.find((o) => o.name && o.name.value === name);
    const operation = named || (operations.length === 1 ? operations[0] : null);
    return operation && { document, operation };
  }
  function fetcher(params, options) {
    const chosen = selected(params.query, params.operationName);
    if (!chosen) return toolkit(params, options);
    const operationName = chosen.operation.name ? chosen.operation.name.value : undefined;
    return toolkit({ ...params, operationName }, { ...options, documentAST: chosen.document });
  }
  const root = document.getElementById("graphiql");
  root.textContent = "";

  // GraphiQL 3's markup falls short of WCAG in a few places that CSS cannot reach: editors'
  // text areas without labels, scrolling regions that take no focus, and session tabs that
  // hold a close button inside an ARIA tab. Mend them as GraphiQL draws them.
  const LABELS = [
    [".graphiql-query-editor textarea", "Query editor"],
    [".graphiql-editor-tool .graphiql-editor:nth-child(1) textarea", "Variables editor"],
    [".graphiql-editor-tool .graphiql-editor:nth-child(2) textarea", "Headers editor"],
    [".result-window textarea", "Result"],
    ["textarea", "Editor"],
  ];
  function set(node, name, value) {
    if (node.getAttribute(name) !== value) node.setAttribute(name, value);
  }
  function mend() {
    for (const [selector, label] of LABELS) {
      root.querySelectorAll(selector).forEach((t) => {
        if (!t.hasAttribute("aria-label")) t.setAttribute("aria-label", label);
      });
    }
    root.querySelectorAll(".CodeMirror-scroll").forEach((s) => set(s, "tabindex", "0"));
    root.querySelectorAll('.graphiql-tabs[role="tablist"]').forEach((l) => set(l, "role", "group"));
    root.querySelectorAll('.graphiql-tab[role="tab"]').forEach((t) => {
      set(t, "role", "group");
      t.removeAttribute("aria-selected");
    });
    root.querySelectorAll(".graphiql-tab-button").forEach((b) => {
      const active = b.closest(".graphiql-tab-active") !== null;
      set(b, "aria-pressed", active ? "true" : "false");
    });
  }
  new MutationObserver(mend).observe(root, { subtree: true, childList: true, attributes: true,
    attributeFilter: ["role", "class"] });

  window.ReactDOM.createRoot(root).render(
    window.React.createElement(window.GraphiQL, {
      fetcher,
      defaultTabs: tabs,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    })
  );
})();
