// Build = codegen + one bundled ES module for the CLI's default path. A single file keeps
// cold start short: Node resolves and reads one module instead of hundreds.
import { build } from "esbuild";
import { runCodegen } from "./codegen.mjs";

// A package build must never ship a validator that throws: fail the build instead.
process.env.CODEGEN_STRICT = "1";
runCodegen();
await build({
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
  sourcemap: false,
  legalComments: "none",
  // Loaded only on the interactive paths, with import(); never bundled.
  external: ["plop", "node-plop", "inquirer", "@inquirer/*", "prettier"],
  banner: {
    // Bundled CommonJS dependencies may call require(); give them one.
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  logLevel: "warning",
});
