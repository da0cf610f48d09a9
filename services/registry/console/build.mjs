// Copies the pinned npm files the console serves into static/vendor/, with their licences.
// Run by the Makefile after `npm ci`; the registry serves static/ at /console/static/.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const vendor = join(here, "static", "vendor");

// [package, file in the package, name served]
const FILES = [
  ["react", "umd/react.production.min.js", "react.production.min.js"],
  ["react", "LICENSE", "react.LICENSE"],
  ["react-dom", "umd/react-dom.production.min.js", "react-dom.production.min.js"],
  ["react-dom", "LICENSE", "react-dom.LICENSE"],
  ["graphiql", "graphiql.min.js", "graphiql.min.js"],
  ["graphiql", "graphiql.min.css", "graphiql.min.css"],
  ["graphiql", "LICENSE", "graphiql.LICENSE"],
  ["graphql-ws", "umd/graphql-ws.min.js", "graphql-ws.min.js"],
  ["graphql-ws", "LICENSE.md", "graphql-ws.LICENSE"],
  ["cytoscape", "dist/cytoscape.min.js", "cytoscape.min.js"],
  ["cytoscape", "LICENSE", "cytoscape.LICENSE"],
];

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
for (const [pkg, file, name] of FILES) {
  copyFileSync(join(modules, pkg, file), join(vendor, name));
}
console.log(`console: ${FILES.length} files in ${vendor}`);
