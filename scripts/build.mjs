// Build = codegen + one bundled ES module for the CLI's default path. A single file keeps
// cold start short: Node resolves and reads one module instead of hundreds.
import { readdirSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { runCodegen } from "./codegen.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const chunksDir = join(root, "dist", "chunks");

// A package build must never ship a validator that throws: fail the build instead.
process.env.CODEGEN_STRICT = "1";
runCodegen();
const result = await build({
  absWorkingDir: root,
  // wizard.js: the generators' functions, for generators/plopfile.js when plop itself runs it.
  entryPoints: { cli: "src/cli.ts", wizard: "src/wizard/api.ts" },
  outdir: "dist",
  // Paths reached through import() (the wizard) become their own chunks, loaded only there.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Every cold start parses the whole bundle: fewer bytes parse sooner. Identifiers keep
  // their names, so a stack trace (CREATE_DEPLOY_DEBUG=1) still names the functions.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: false,
  legalComments: "none",
  alias: {
    // yaml's ES module build (the same code as its CommonJS one, which Node's export
    // condition would pick): no CommonJS wrappers to run at start-up, and unused parts drop out.
    yaml: "./node_modules/yaml/browser/index.js",
  },
  // Loaded only on the interactive paths, with import(); never bundled.
  external: ["plop", "node-plop", "inquirer", "@inquirer/*", "prettier"],
  banner: {
    // Bundled CommonJS dependencies may call require(); give them one.
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  metafile: true,
  logLevel: "warning",
});

// Chunk names carry a content hash, so every change leaves the previous chunks behind.
// They are removed after the build rather than before, so that a command started
// meanwhile from this checkout never finds its entry pointing at a missing chunk.
const written = new Set(Object.keys(result.metafile.outputs).map((path) => relative("dist/chunks", path)));
for (const name of readdirSync(chunksDir)) {
  if (!written.has(name)) rmSync(join(chunksDir, name), { force: true });
}
