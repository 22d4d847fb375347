// The command-line edge: argv in, exit code out. Everything it calls returns data or
// prints through ctx.io; only this file touches process. It is the entry of the bundle
// (dist/cli.cjs) that the bin runs.
import { existsSync } from "node:fs";
import { parseCommandLine, UsageError } from "./commands/args.js";
import { runCheck } from "./commands/check.js";
import { type Context, EXIT_FAILURE, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, showPath } from "./commands/common.js";
import { runDiff } from "./commands/diff.js";
import { runGenerate } from "./commands/generate.js";
import { HELP } from "./commands/help.js";
import { runValidate } from "./commands/validate.js";
import { VERSION } from "./commands/version.js";
import { runAdd, runInit } from "./commands/wizard.js";
import { type ImportModule, setModuleImporter } from "./dynamic-import.js";
import { resolveConfigPath } from "./pipeline.js";
import { WriteError } from "./write/index.js";

async function dispatch(ctx: Context, argv: readonly string[]): Promise<number> {
  const invocation = parseCommandLine(argv);
  switch (invocation.command) {
    case "help":
      ctx.io.out(HELP);
      return EXIT_OK;
    case "version":
      ctx.io.out(VERSION);
      return EXIT_OK;
    case "init":
      return runInit(ctx, invocation.init);
    case "add":
      return runAdd(ctx, invocation.add);
    case "generate":
      return runGenerate(ctx, invocation);
    case "check":
      return runCheck(ctx, invocation);
    case "diff":
      return runDiff(ctx, invocation);
    case "validate":
      return runValidate(ctx, invocation);
    case "none": {
      if (invocation.initFlagsGiven) return runInit(ctx, invocation.init);
      const config = resolveConfigPath(ctx.cwd);
      if (existsSync(config)) {
        // Someone who already has a descriptor most likely wants its files; say how, write nothing.
        ctx.io.out(`${showPath(ctx.cwd, config)} is here already.`);
        ctx.io.out(
          "Run `create-deploy generate` to write the deployment files from it, `create-deploy --help` for more.",
        );
        return EXIT_OK;
      }
      if (ctx.interactive) return runInit(ctx, invocation.init);
      throw new UsageError("no deploy.yaml here and no terminal to ask questions in; run `create-deploy init --yes`");
    }
  }
}

export async function main(argv: readonly string[], ctx: Context): Promise<number> {
  try {
    return await dispatch(ctx, argv);
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.io.err(`create-deploy: ${error.message} (see create-deploy --help)`);
      return EXIT_USAGE;
    }
    if (error instanceof WriteError) {
      ctx.io.err(`create-deploy: ${error.message}`);
      return EXIT_FAILURE;
    }
    const message = error instanceof Error ? error.message : String(error);
    ctx.io.err(`create-deploy: internal error: ${message}`);
    if (ctx.env.CREATE_DEPLOY_DEBUG === "1" && error instanceof Error && error.stack !== undefined) {
      ctx.io.err(error.stack);
    } else {
      ctx.io.err("This is a defect in create-deploy. Set CREATE_DEPLOY_DEBUG=1 for details when reporting it.");
    }
    return EXIT_INTERNAL;
  }
}

function writeLine(stream: NodeJS.WriteStream): (line: string) => void {
  return (line) => {
    stream.write(`${line}\n`);
  };
}

/**
 * Runs the command this process was started with and sets its exit code. The bin calls it
 * (see src/start.ts), passing the import() the bundle uses for modules loaded on demand.
 */
export async function runFromProcess(options: { importModule?: ImportModule } = {}): Promise<void> {
  if (options.importModule !== undefined) setModuleImporter(options.importModule);
  // A closed pipe (`create-deploy diff | head`) is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await main(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    io: { out: writeLine(process.stdout), err: writeLine(process.stderr) },
    interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
  });
}

/** The wizard's generator functions, for generators/plopfile.js when plop runs it itself. */
export function loadWizardApi(): Promise<typeof import("./wizard/api.js")> {
  return import("./wizard/api.js");
}
