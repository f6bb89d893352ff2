// Build static/vendor/bootstrap/ from Bootstrap's npm package (make assets, after npm ci):
//
// - bootstrap.min.css and bootstrap.rtl.min.css: Bootstrap's own builds purged (PurgeCSS) of
//   every selector no template, Python module or script of the portal can produce;
// - bootstrap.collapse.min.js: only the plugin the pages use (the navbar's collapse), bundled
//   by esbuild from Bootstrap's ES module sources, without Popper;
// - tests/data/bootstrap{,.rtl}.min.classes.txt: every class each full build defines, so that
//   a test can check that each one the templates use survived the purge
//   (tests/functional/test_static_assets.py).
//
// The output is committed: a fresh clone serves the portal without Node. Run it again after
// changing the templates' classes (a class that Bootstrap defines and the build dropped fails
// the test) or the pinned versions in package.json.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";
import { PurgeCSS } from "purgecss";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BOOTSTRAP = path.join(ROOT, "node_modules", "bootstrap");
const OUT = path.join(ROOT, "static", "vendor", "bootstrap");
const COLLAPSE_JS = path.join(OUT, "bootstrap.collapse.min.js");
const CLASS_LISTS = path.join(ROOT, "tests", "data");

const version = JSON.parse(await readFile(path.join(BOOTSTRAP, "package.json"), "utf8")).version;
const banner = `/*! Bootstrap v${version} (https://getbootstrap.com/), MIT licence (LICENSE). Built by scripts/build-assets.mjs`;

// Theme colours: classes composed in code from a variable (status badges "text-bg-{colour}" in
// portal/templating.py, flash messages "alert-{category}" in templates/base.html).
const COLOURS = "(primary|secondary|success|danger|warning|info|light|dark)";
const SAFELIST = {
  standard: [
    new RegExp(`^text-bg-${COLOURS}$`),
    new RegExp(`^alert-${COLOURS}$`),
    // Added and removed at run time by the collapse plugin (also found in its bundle).
    "collapse",
    "collapsing",
    "collapse-horizontal",
    "show",
  ],
};

async function buildScript() {
  await esbuild.build({
    stdin: {
      // Importing the plugin registers its data-bs-toggle="collapse" handler.
      contents: 'import "bootstrap/js/src/collapse.js";',
      resolveDir: ROOT,
      sourcefile: "bootstrap-collapse.js",
    },
    bundle: true,
    format: "iife",
    minify: true,
    target: ["es2019"],
    legalComments: "none",
    banner: { js: `${banner} (collapse plugin only) */` },
    outfile: COLLAPSE_JS,
  });
}

async function buildStyles() {
  const content = [
    path.join(ROOT, "templates", "**", "*.html"),
    path.join(ROOT, "portal", "**", "*.py"),
    path.join(ROOT, "static", "js", "**", "*.js"),
    COLLAPSE_JS,
  ];
  for (const name of ["bootstrap.min.css", "bootstrap.rtl.min.css"]) {
    const [result] = await new PurgeCSS().purge({
      content,
      css: [path.join(BOOTSTRAP, "dist", "css", name)],
      safelist: SAFELIST,
      // Custom properties and keyframes that no remaining rule uses go too.
      variables: true,
      keyframes: true,
      fontFace: true,
    });
    const css = result.css.replace(/\/\*# sourceMappingURL=.*?\*\/\s*$/, "").replace(/^@charset "UTF-8";\/\*!.*?\*\//s, "");
    await writeFile(path.join(OUT, name), `@charset "UTF-8";${banner}, purged of unused selectors */\n${css.trim()}\n`);
  }
}

async function listClasses(name) {
  const css = await readFile(path.join(BOOTSTRAP, "dist", "css", name), "utf8");
  const classes = new Set();
  const rules = css.replace(/\/\*[\s\S]*?\*\//g, "").replace(/url\([^)]*\)/g, "");
  for (const match of rules.matchAll(/\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)/g)) {
    classes.add(match[1]);
  }
  const lines = [...classes].sort();
  await mkdir(CLASS_LISTS, { recursive: true });
  await writeFile(
    path.join(CLASS_LISTS, name.replace(/\.css$/, ".classes.txt")),
    `# Every class Bootstrap v${version}'s ${name} defines (scripts/build-assets.mjs), one a line.\n${lines.join("\n")}\n`,
  );
}

await mkdir(OUT, { recursive: true });
await buildScript();
await buildStyles();
await listClasses("bootstrap.min.css");
await listClasses("bootstrap.rtl.min.css");
