// Bundles the anywidget front end into the Python package's static/ folder.
// `node build.mjs` builds for production (minified); `--watch` rebuilds on change with inline source maps.
// CSS imported from TypeScript is emitted beside the bundle as widget.css.
import * as esbuild from "esbuild";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes("--watch");
const production = !watch && process.env.NODE_ENV !== "development";

const outfile = path.join(here, "../realtime_widget/static/widget.js");
const cssFile = outfile.replace(/\.js$/, ".css");

/** @type {import("esbuild").BuildOptions} */
const options = {
  entryPoints: [path.join(here, "src/widget.ts")],
  outfile,
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  minify: production,
  sourcemap: production ? false : "inline",
  legalComments: "none",
  logLevel: "info",
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  // The Python widget always points _css at widget.css: drop a stale one, and write an empty one
  // when no TypeScript module imports CSS.
  rmSync(cssFile, { force: true });
  try {
    await esbuild.build(options);
  } catch {
    // esbuild has already printed the errors with their source lines; a stack trace would only bury them.
    process.exit(1);
  }
  if (!existsSync(cssFile)) writeFileSync(cssFile, "");
}
