// Shared by the console's pages: the caller's credentials and a GraphQL client for the same
// origin. Signed-in people send their session cookie (and the CSRF header /auth/me names);
// others may paste a bearer token, kept for this tab only (sessionStorage).
"use strict";
(function () {
  const TOKEN_KEY = "ropa-console-token";
  let csrf = null;

  function token() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setToken(value) {
    try {
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage disabled: the token lasts for this page only */
    }
  }

  function headers(extra) {
    const out = Object.assign({}, extra || {});
    const t = token();
    if (t && !Object.keys(out).some((k) => k.toLowerCase() === "authorization")) {
      out.Authorization = "Bearer " + t;
    }
    if (csrf) out[csrf.header] = csrf.value;
    return out;
  }

  // The session, when the registry has sign-in (the page then names /auth/me in a meta
  // element): it answers 200 with who is signed in, and the CSRF token to send back.
  const session = document.querySelector('meta[name="ropa-session"]');
  const me = (session
    ? window.fetch(session.content, {
        credentials: "same-origin",
        headers: { accept: "application/json" },
      })
    : Promise.resolve(null)
  )
    .then((r) => (r && r.ok ? r.json() : null))
    .catch(() => null)
    .then((body) => {
      if (body && typeof body === "object") {
        const value = body.csrfToken || body.csrf_token || body.csrf;
        if (typeof value === "string") {
          csrf = { header: body.csrfHeader || body.csrf_header || "X-CSRF-Token", value };
        }
      }
      return body;
    });

  // fetch for the same origin with the caller's credentials.
  async function consoleFetch(input, init) {
    await me;
    const options = Object.assign({}, init || {});
    options.credentials = "same-origin";
    options.headers = headers(options.headers);
    return window.fetch(input, options);
  }

  // Runs an operation; resolves to `data`, rejects with the errors' messages.
  async function graphql(query, variables) {
    const response = await consoleFetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query, variables: variables || {} }),
    });
    let body;
    try {
      body = await response.json();
    } catch (e) {
      throw new Error("the registry answered " + response.status + " without JSON");
    }
    if (body.errors && body.errors.length) {
      const codes = body.errors.map((e) => (e.extensions || {}).code);
      const denied = codes.some((c) => c === "FORBIDDEN" || c === "UNAUTHENTICATED");
      const error = new Error(
        body.errors.map((e) => e.message).join("; ") +
          (denied ? ". Sign in, or paste a bearer token above, to read this register." : "")
      );
      error.errors = body.errors;
      throw error;
    }
    return body.data;
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // The GraphQL fields a citation needs for citationText, to put in a selection.
  const CITATION_FIELDS = "basis { title article kind } restsOn { law { title article kind } provision }";

  // "Article 6(1)(c) (Legal obligation)": an Article basis with its title, as the exports
  // print it (schema/compliance/index.py describe_basis).
  function basisText(basis) {
    if (!basis.article) return basis.title;
    const prefix = { ARTICLE_6: "Article ", ARTICLE_9: "Article ", ARTICLE_10: "Article ",
      DPA_SCHEDULE_1: "DPA 2018 ", DPA_SCHEDULE_2: "DPA 2018 " }[basis.kind] || "";
    const has = prefix && basis.article.toLowerCase().startsWith(prefix.trim().toLowerCase());
    return (has ? "" : prefix) + basis.article + " (" + basis.title + ")";
  }

  function andList(items) {
    return items.length < 2 ? items.join("") : items.slice(0, -1).join(", ") + " and " + items[items.length - 1];
  }

  // One use's citation: the basis and the law it rests on for that use only, "Article 6(1)(c)
  // (Legal obligation), on Education Act 1996 s537A and Regulation 5 ..." (as the exports).
  function citationText(citation) {
    const laws = citation.restsOn.map((r) => {
      const law = r.law.kind === "STATUTE" || r.law.kind === "GUIDANCE" ? r.law.title : basisText(r.law);
      return r.provision ? law + " " + r.provision : law;
    });
    return basisText(citation.basis) + (laws.length ? ", on " + andList(laws) : "");
  }

  // One use's citation as an item of a list: the basis on its own line, then each law it rests
  // on for that use on one line of its own, cut to the width with the full title on hover
  // and when opened (long statute titles would otherwise fill a narrow column).
  function citationItem(citation) {
    const laws = citation.restsOn.map((r) => {
      const law = r.law.kind === "STATUTE" || r.law.kind === "GUIDANCE" ? r.law.title : basisText(r.law);
      const full = r.provision ? law + " " + r.provision : law;
      return el("li", {}, el("details", { class: "law" }, el("summary", { title: full, text: full })));
    });
    return el("li", { class: "citation" }, [
      el("span", { class: "basis", text: basisText(citation.basis) }),
      laws.length ? el("span", { class: "on", text: ", on" }) : null,
      laws.length ? el("ul", { class: "laws" }, laws) : null,
    ]);
  }

  // The GraphQL fields an assumption needs for assumptionList (`on` only on a Hop).
  const ASSUMPTION_FIELDS = "text about";
  const HOP_ASSUMPTION_FIELDS = "text about on";
  const HOLDERS = { disclosure: "the disclosure", engagement: "the engagement", to: "the recipient" };

  // What an assumption is about, in words: "about the disclosure's legal bases", "about its
  // retention", "about the recipient"; "" for one about the whole entity that holds it.
  function assumptionAbout(a) {
    const field = a.about ? a.about.replace(/_/g, " ") : "";
    const holder = a.on ? HOLDERS[a.on] || a.on : "";
    if (holder && field) return `about ${holder}'s ${field}`;
    if (holder) return `about ${holder}`;
    return field ? `about its ${field}` : "";
  }

  // What the record assumes behind a statement, set apart as assumptions for the DPO to
  // confirm (never presented as fact), each saying which field it concerns.
  function assumptionList(assumptions) {
    return el("ul", { class: "assumptions", "aria-label": "Assumptions for the DPO to confirm" },
      assumptions.map((a) => {
        const about = assumptionAbout(a);
        return el("li", { class: "assumption", "data-about": a.about || "", "data-on": a.on || "" }, [
          el("span", { class: "assumption-mark", text: "Assumption, to confirm: " }),
          about ? el("span", { class: "assumption-about", text: `(${about}) ` }) : null,
          a.text]);
      }));
  }

  function today() {
    const d = new Date();
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function wireHeader() {
    const page = document.body.className.replace("page-", "");
    document.querySelectorAll("nav a[data-page]").forEach((a) => {
      if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    });
    const form = document.getElementById("token-form");
    const input = document.getElementById("token-input");
    const who = document.getElementById("who");
    if (!form) return;
    const show = () => {
      me.then((body) => {
        who.textContent = "";
        if (body && body.signedIn) {
          who.append("Signed in as " + (body.displayName || body.subject || "you") + " ");
          form.querySelectorAll("label, input, button").forEach((n) => (n.hidden = true));
        } else if (token()) {
          who.append("Using a pasted token ");
        } else if (body && body.signInAvailable && body.signIn) {
          who.append(el("a", { href: body.signIn, class: "signin", text: "Sign in" }), " or ");
        }
      });
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      setToken(input.value.trim());
      input.value = "";
      window.location.reload();
    });
    document.getElementById("token-clear").addEventListener("click", () => {
      setToken("");
      window.location.reload();
    });
    show();
  }

  window.RopaConsole = {
    token, headers, consoleFetch, graphql, el, today, me,
    CITATION_FIELDS, ASSUMPTION_FIELDS, HOP_ASSUMPTION_FIELDS, basisText, citationText, citationItem,
    assumptionAbout, assumptionList,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireHeader);
  else wireHeader();
})();
