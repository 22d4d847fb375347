// Build = codegen + two bundles:
//   dist/cli.cjs  the whole command line in one CommonJS file, which the bin runs through
//                 V8's code cache (src/start.ts); the wizard is in it, reached only on its
//                 own paths, and plop is loaded on demand, never bundled.
//   dist/start.js the bin's loader for it.
// One file keeps a cold start short: Node reads and compiles one script instead of
// resolving hundreds of modules, and the code cache covers all of it.
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { runCodegen } from "./codegen.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// A package build must never ship a validator that throws: fail the build instead.
process.env.CODEGEN_STRICT = "1";
runCodegen();

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  // Every cold start without a cache parses the whole bundle: fewer bytes parse sooner.
  // Identifiers keep their names, so a stack trace (CREATE_DEPLOY_DEBUG=1) still names
  // the functions.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
};

await build({
  ...common,
  entryPoints: ["src/cli.ts"],
  outfile: "dist/cli.cjs",
  format: "cjs",
  alias: {
    // yaml's ES module build (the same code as its CommonJS one, which Node's export
    // condition would pick): esbuild drops the parts the CLI does not use.
    yaml: "./node_modules/yaml/browser/index.js",
  },
  // Loaded on demand through src/dynamic-import.ts; listed so that a static import of one
  // by mistake fails the start-up test instead of pulling a prompt library into the bundle.
  external: ["plop", "node-plop", "inquirer", "@inquirer/*", "prettier"],
  // The sources read files beside the package through import.meta.url (the schema, the
  // examples); in the CommonJS bundle the module's URL comes from its file name.
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: 'var __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
});

await build({
  ...common,
  entryPoints: ["src/start.ts"],
  outfile: "dist/start.js",
  format: "esm",
});

// Earlier builds wrote ES module chunks; a stale one must not be shipped or loaded.
for (const old of ["dist/chunks", "dist/cli.js", "dist/wizard.js"]) {
  if (existsSync(join(root, old))) rmSync(join(root, old), { recursive: true, force: true });
}
