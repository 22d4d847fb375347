// `create-deploy init` and the bare wizard: answers → deploy.yaml → generate.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { InitFlags } from "../commands/args.js";
import { type Context, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, printProblems, showPath } from "../commands/common.js";
import { runGenerate } from "../commands/generate.js";
import { loadAndValidate } from "../pipeline.js";
import { presetText, PRESET_NAMES } from "./presets.js";

export interface WizardOptions extends InitFlags {
  cwd: string;
  interactive: boolean;
  io: Context["io"];
  env: NodeJS.ProcessEnv;
}

export async function runWizard(options: WizardOptions): Promise<number> {
  const { io } = options;
  const dir = resolve(options.cwd, options.dir ?? ".");
  const configPath = resolve(dir, "deploy.yaml");
  if (existsSync(configPath) || existsSync(resolve(dir, "deploy.yml"))) {
    io.err(`create-deploy: ${showPath(options.cwd, configPath)} exists already; run \`create-deploy generate\``);
    return EXIT_FAILURE;
  }
  if (!options.yes) {
    io.err("create-deploy: init without questions needs --yes (with --preset NAME)");
    return EXIT_USAGE;
  }
  const preset = options.preset ?? "mlops-api";
  if (!PRESET_NAMES.includes(preset)) {
    io.err(`create-deploy: unknown preset ${JSON.stringify(preset)}; choose one of ${PRESET_NAMES.join(", ")}`);
    return EXIT_USAGE;
  }
  const text = await presetText(preset, options.name ?? "app");
  await mkdir(dir, { recursive: true });
  await writeFile(configPath, text, { encoding: "utf8", flag: "wx" });
  const validated = await loadAndValidate(configPath);
  if (!validated.ok) {
    printProblems(io, validated.problems);
    return EXIT_FAILURE;
  }
  io.out(`Wrote ${showPath(options.cwd, configPath)}.`);
  const ctx: Context = { cwd: options.cwd, io, env: options.env, interactive: options.interactive };
  const code = await runGenerate(ctx, { config: configPath, dryRun: false, force: false });
  return code === EXIT_OK ? EXIT_OK : code;
}
