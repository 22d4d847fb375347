// Build = codegen + one bundled ES module for the CLI. A single file keeps cold start
// short: Node resolves and reads one module instead of hundreds.
import { build } from "esbuild";
import { runCodegen } from "./codegen.mjs";

// A package build must never ship a validator that throws: fail the build instead.
process.env.CODEGEN_STRICT = "1";
runCodegen();
await build({
  entryPoints: ["src/cli.ts"],
  outfile: "dist/cli.js",
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
