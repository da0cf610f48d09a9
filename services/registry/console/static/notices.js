// The notices index: a link per controller and audience to its stable notice URL.
"use strict";
(function () {
  const C = window.RopaConsole;
  const el = C.el;
  const AUDIENCES = ["pupils", "parents", "staff"];
  const status = document.getElementById("status");
  const list = document.getElementById("notices");
  C.graphql("{ organisationsConnection(role: CONTROLLER) { nodes { id name } } }").then((data) => {
    const controllers = data.organisationsConnection.nodes;
    for (const c of controllers) {
      list.append(el("li", {}, [c.name + ": ", ...AUDIENCES.flatMap((a, i) => [
        i ? ", " : "", el("a", { href: `/notices/${encodeURIComponent(c.id)}/${a}`, text: "for " + a })])]));
    }
    status.textContent = controllers.length ? "" : "No controller in your scope has a record.";
  }, (error) => {
    status.className = "status failed";
    status.textContent = "The register could not be read: " + error.message;
  });
})();
