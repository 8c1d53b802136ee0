// Bundles the anywidget front end into the Python package's static/ folder.
// `node build.mjs` builds for production (minified); `--watch` rebuilds on change with inline source maps.
// Two entries: the voice console (widget.js) and the replay view (replay.js). CSS imported from an entry's
// TypeScript is emitted beside its bundle (widget.css, replay.css).
import * as esbuild from "esbuild";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes("--watch");
const production = !watch && process.env.NODE_ENV !== "development";

const outdir = path.join(here, "../realtime_widget/static");
const entries = { widget: "src/widget.ts", replay: "src/replay/replay.ts" };
const cssFiles = Object.keys(entries).map((name) => path.join(outdir, `${name}.css`));

/** @type {import("esbuild").BuildOptions} */
const options = {
  entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, path.join(here, file)])),
  outdir,
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
  // Each Python widget always points _css at its entry's CSS file: drop stale ones, and write an empty one
  // where no TypeScript module imports CSS.
  for (const cssFile of cssFiles) rmSync(cssFile, { force: true });
  try {
    await esbuild.build(options);
  } catch {
    // esbuild has already printed the errors with their source lines; a stack trace would only bury them.
    process.exit(1);
  }
  for (const cssFile of cssFiles) if (!existsSync(cssFile)) writeFileSync(cssFile, "");
}
