// `create-deploy init`, the bare wizard and `create-deploy add`: the command line's side of
// the generators in generators/plopfile.js. With --yes (or all answers given) nothing is
// asked and neither plop nor a prompt library is loaded; with questions to ask, plop runs
// the generator in the terminal.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type InitFlags, UsageError } from "../commands/args.js";
import { type Context, EXIT_FAILURE, EXIT_OK, showPath } from "../commands/common.js";
import { importModule } from "../dynamic-import.js";
import { DEFAULT_CONFIG_NAMES } from "../pipeline.js";
import * as api from "./api.js";
import { SERVICE_KINDS, type ServiceKind } from "./add-service.js";
import { isOneOf } from "./answers.js";
import { findPackageRoot } from "./package-root.js";
import { findPreset, PRESET_NAMES, type Preset } from "./presets.js";
import { initQuestions, type QuestionName, type RawAnswers, resolveAnswers } from "./questions.js";
import { createSession, type WizardSession } from "./session.js";

export interface WizardOptions extends InitFlags {
  cwd: string;
  interactive: boolean;
  io: Context["io"];
  env: NodeJS.ProcessEnv;
}

/** The flags that answer one question each. */
const ANSWER_FLAGS: readonly QuestionName[] = ["name", "runtime", "shape", "port", "command", "database", "cache", "gpu", "registry", "firewall"];

function givenAnswers(options: WizardOptions, preset: Preset | undefined): RawAnswers {
  const given: RawAnswers = {};
  for (const name of ANSWER_FLAGS) {
    const value = (options as unknown as Record<string, unknown>)[name];
    if (value !== undefined) (given as Record<string, unknown>)[name] = value;
  }
  if (preset?.kind === "shape") {
    if (given.shape !== undefined && given.shape !== preset.shape) {
      throw new UsageError(`--preset ${preset.shape} and --shape ${String(given.shape)} disagree; give one of them`);
    }
    given.shape = preset.shape;
  }
  if (preset?.kind === "example") {
    const extra = Object.keys(given).filter((name) => name !== "name");
    if (extra.length > 0) {
      throw new UsageError(`--preset ${preset.example} is a whole deployment; it takes --name only, not --${extra.join(", --")}`);
    }
  }
  return given;
}

/** Checks each flag's answer as its question would, so a bad flag is a usage error naming it. */
function checkGiven(session: WizardSession): void {
  for (const question of initQuestions(session.dir, session.project)) {
    const value = session.given[question.name];
    if (value === undefined || question.validate === undefined) continue;
    const verdict = question.validate(typeof value === "number" ? String(value) : value);
    if (verdict !== true) throw new UsageError(`--${question.name} ${JSON.stringify(String(value))}: ${verdict}`);
  }
}

function existingDescriptor(dir: string): string | undefined {
  return DEFAULT_CONFIG_NAMES.map((name) => join(dir, name)).find((path) => existsSync(path));
}

const NO_TERMINAL =
  "no terminal to ask questions in: pass --yes to take every default, with flags for the answers you want " +
  "(--preset NAME, --name, --runtime, --shape, --port, --command, --database, --cache, --gpu, --registry, --firewall), " +
  "e.g. `create-deploy init --yes --preset compose`";

export async function runWizard(options: WizardOptions): Promise<number> {
  const dir = resolve(options.cwd, options.dir ?? ".");
  const existing = existingDescriptor(dir);
  if (existing !== undefined) {
    options.io.err(
      `create-deploy: ${showPath(options.cwd, existing)} is here already; run \`create-deploy generate\`, ` +
        "or `create-deploy add` to add a service to it",
    );
    return EXIT_FAILURE;
  }
  let preset: Preset | undefined;
  if (options.preset !== undefined) {
    preset = findPreset(options.preset);
    if (preset === undefined) throw new UsageError(`unknown preset ${JSON.stringify(options.preset)}; the presets are ${PRESET_NAMES.join(", ")}`);
  }
  const session = createSession({
    dir,
    cwd: options.cwd,
    io: options.io,
    env: options.env,
    ...(preset === undefined ? {} : { preset }),
    given: givenAnswers(options, preset),
  });
  checkGiven(session);

  if (options.yes) return runInitWithoutQuestions(session);
  if (!options.interactive) throw new UsageError(NO_TERMINAL);
  return runGenerator("init", session, api.initBypass(session));
}

/** --yes: every answer not given is its default; the same actions as the generator's. */
async function runInitWithoutQuestions(session: WizardSession): Promise<number> {
  if (session.preset?.kind !== "example") {
    const resolved = resolveAnswers(initQuestions(session.dir, session.project), session.given);
    if (!resolved.ok) throw new UsageError(`--${resolved.question}: ${resolved.message}`);
  }
  try {
    await api.writeInitDescriptor({}, session);
    await api.generateFiles(session);
  } catch {
    // The actions have printed why; their exit code says how it ended.
    return session.exitCode === EXIT_OK ? EXIT_FAILURE : session.exitCode;
  }
  return session.exitCode;
}

export interface AddOptions {
  cwd: string;
  interactive: boolean;
  io: Context["io"];
  env: NodeJS.ProcessEnv;
  config?: string;
  kind?: string;
  name?: string;
  command?: string;
  port?: string;
  yes: boolean;
}

/** `create-deploy add`: a service into the existing deploy.yaml, then generate. */
export async function runAddService(options: AddOptions): Promise<number> {
  const dir = options.config === undefined ? options.cwd : resolve(options.cwd, options.config, "..");
  if (existingDescriptor(dir) === undefined) {
    options.io.err(`create-deploy: no deploy.yaml in ${showPath(options.cwd, dir)}; create one with \`create-deploy init\``);
    return EXIT_FAILURE;
  }
  if (options.kind !== undefined && !isOneOf(SERVICE_KINDS, options.kind)) {
    throw new UsageError(`--type ${JSON.stringify(options.kind)}: choose one of ${SERVICE_KINDS.join(", ")}`);
  }
  const kind = options.kind as ServiceKind | undefined;
  const session = createSession({
    dir,
    cwd: options.cwd,
    io: options.io,
    env: options.env,
    ...(kind === undefined ? {} : { serviceKind: kind }),
  });
  const services = await api.readServices(session);
  const prompts = api.addServicePrompts(session, services);
  const given: RawAnswers = {
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.command === undefined ? {} : { command: options.command }),
    ...(options.port === undefined ? {} : { port: options.port }),
  };
  if (options.yes) {
    if (kind === undefined) throw new UsageError("add --yes needs --type (database, cache, worker or web)");
    const answers: RawAnswers = { ...given };
    for (const prompt of prompts) {
      if (answers[prompt.name] !== undefined) continue;
      const fallback = typeof prompt.default === "function" ? (prompt.default as (a: RawAnswers) => unknown)(answers) : prompt.default;
      if (fallback === undefined) throw new UsageError(`add --yes --type ${kind} needs --${prompt.name}`);
      answers[prompt.name] = fallback;
    }
    for (const prompt of prompts) {
      const verdict = prompt.validate?.(answers[prompt.name]) ?? true;
      if (verdict !== true) throw new UsageError(`--${prompt.name}: ${verdict}`);
    }
    try {
      await api.addServiceToDescriptor(answers, session);
      await api.generateFiles(session);
    } catch {
      return session.exitCode === EXIT_OK ? EXIT_FAILURE : session.exitCode;
    }
    return session.exitCode;
  }
  if (!options.interactive) {
    throw new UsageError("no terminal to ask questions in: pass --yes --type KIND (database, cache, worker or web), with --name, --command and --port as needed");
  }
  const bypass = prompts.map((p) => {
    const value = given[p.name];
    return value === undefined ? "_" : String(value);
  });
  while (bypass.length > 0 && bypass[bypass.length - 1] === "_") bypass.pop();
  return runGenerator("add service", session, bypass);
}

export const PLOPFILE = join("generators", "plopfile.js");

/** Loads plop's engine and runs one generator of the plopfile in the terminal. */
async function runGenerator(name: "init" | "add service", session: WizardSession, bypass: string[]): Promise<number> {
  const { default: nodePlop } = await importModule<typeof import("node-plop")>("node-plop");
  const plop = await nodePlop(join(findPackageRoot(), PLOPFILE), {
    destBasePath: session.dir,
    force: false,
    // Read by the plopfile: this module's own functions, and the run they work for.
    ...({ wizard: api, session } as object),
  });
  const generator = plop.getGenerator(name);
  const answers = (await generator.runPrompts(bypass)) as Record<string, unknown>;
  const result = await generator.runActions(answers);
  if (result.failures.length > 0 && session.exitCode === EXIT_OK) {
    for (const failure of result.failures) session.io.err(`create-deploy: ${failure.error || failure.message}`);
    return EXIT_FAILURE;
  }
  return session.exitCode;
}
