// Reading argv: which command, which flags. Strict: an unknown flag or a missing value is a
// usage error, reported in one line with a pointer to --help.
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

const CONFIG = { config: { type: "string" }, out: { type: "string" } } as const;
const HELP_FLAG = { help: { type: "boolean", short: "h" } } as const;
const INIT = {
  yes: { type: "boolean" },
  preset: { type: "string" },
  name: { type: "string" },
  dir: { type: "string" },
  // Each answers one of the wizard's questions.
  runtime: { type: "string" },
  shape: { type: "string" },
  port: { type: "string" },
  command: { type: "string" },
  database: { type: "string" },
  cache: { type: "string" },
  gpu: { type: "boolean" },
  registry: { type: "string" },
  firewall: { type: "string" },
} as const;
const ADD = {
  config: { type: "string" },
  type: { type: "string" },
  name: { type: "string" },
  command: { type: "string" },
  port: { type: "string" },
  yes: { type: "boolean" },
} as const;

const OPTIONS = {
  init: { ...INIT, ...HELP_FLAG },
  add: { ...ADD, ...HELP_FLAG },
  generate: { ...CONFIG, "dry-run": { type: "boolean" }, force: { type: "boolean" }, ...HELP_FLAG },
  check: { ...CONFIG, ...HELP_FLAG },
  diff: { ...CONFIG, summary: { type: "boolean" }, base: { type: "string" }, ...HELP_FLAG },
  validate: { config: CONFIG.config, ...HELP_FLAG },
  // With no command, init's flags start the wizard non-interactively (`npx create-deploy --yes`).
  none: { ...INIT, ...HELP_FLAG, version: { type: "boolean" } },
} as const satisfies Record<string, ParseArgsConfig["options"]>;

export interface InitFlags {
  yes: boolean;
  preset?: string;
  name?: string;
  dir?: string;
  runtime?: string;
  shape?: string;
  port?: string;
  command?: string;
  database?: string;
  cache?: string;
  gpu?: boolean;
  registry?: string;
  firewall?: string;
}

/** `create-deploy add`: a service for the existing descriptor. */
export interface AddFlags {
  yes: boolean;
  config?: string;
  type?: string;
  name?: string;
  command?: string;
  port?: string;
}

export type Invocation =
  | { command: "help" }
  | { command: "version" }
  | { command: "none"; init: InitFlags; initFlagsGiven: boolean }
  | { command: "init"; init: InitFlags }
  | { command: "add"; add: AddFlags }
  | { command: "generate"; config?: string; out?: string; dryRun: boolean; force: boolean }
  | { command: "check"; config?: string; out?: string }
  | { command: "diff"; config?: string; out?: string; summary: boolean; base?: string }
  | { command: "validate"; config?: string };

type CommandName = keyof typeof OPTIONS;
/** No option is declared `multiple`, so arrays never occur; the type allows them all the same. */
type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

function isCommand(word: string): word is Exclude<CommandName, "none"> {
  return word !== "none" && Object.hasOwn(OPTIONS, word);
}

/** The option named in one of util.parseArgs' messages (they quote it: '--out <value>'). */
function optionIn(message: string): string {
  const quoted = /'(-[^' ]*)/u.exec(message);
  return quoted?.[1] ?? "an option";
}

function parseFlags(command: CommandName, args: string[]): FlagValues {
  try {
    const options: ParseArgsConfig["options"] = OPTIONS[command];
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    const where = command === "none" ? "" : ` for ${command}`;
    switch (code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
        throw new UsageError(`unknown option ${optionIn(message)}${where}`);
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        throw new UsageError(
          message.includes("does not take an argument")
            ? `${optionIn(message)} takes no value`
            : `${optionIn(message)} needs a value`,
        );
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
        throw new UsageError(`unexpected argument ${JSON.stringify(/'([^']*)'/u.exec(message)?.[1] ?? "")}${where}`);
      default:
        throw error;
    }
  }
}

function text(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} needs a value`);
  return value;
}

function initFlags(values: FlagValues): InitFlags {
  const flags: InitFlags = { yes: values.yes === true };
  const names = ["preset", "name", "dir", "runtime", "shape", "port", "command", "database", "cache", "registry", "firewall"] as const;
  for (const name of names) {
    const value = text(values, name);
    if (value !== undefined) flags[name] = value;
  }
  if (values.gpu === true) flags.gpu = true;
  return flags;
}

function addFlags(values: FlagValues): AddFlags {
  const flags: AddFlags = { yes: values.yes === true };
  for (const name of ["config", "type", "name", "command", "port"] as const) {
    const value = text(values, name);
    if (value !== undefined) flags[name] = value;
  }
  return flags;
}

/** --config and --out, left out when not given (the types say absent, not undefined). */
function locations(values: FlagValues, names: readonly ("config" | "out")[]) {
  const found: { config?: string; out?: string } = {};
  for (const name of names) {
    const value = text(values, name);
    if (value !== undefined) found[name] = value;
  }
  return found;
}

export function parseCommandLine(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined || first.startsWith("-")) {
    const values = parseFlags("none", [...argv]);
    if (values.help === true) return { command: "help" };
    if (values.version === true) return { command: "version" };
    const init = initFlags(values);
    return { command: "none", init, initFlagsGiven: argv.length > 0 };
  }
  if (first === "help" && rest.length === 0) return { command: "help" };
  if (!isCommand(first)) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  const values = parseFlags(first, rest);
  if (values.help === true) return { command: "help" };
  switch (first) {
    case "init":
      return { command: "init", init: initFlags(values) };
    case "add":
      return { command: "add", add: addFlags(values) };
    case "generate":
      return {
        command: "generate",
        dryRun: values["dry-run"] === true,
        force: values.force === true,
        ...locations(values, ["config", "out"]),
      };
    case "check":
      return { command: first, ...locations(values, ["config", "out"]) };
    case "diff": {
      const summary = values.summary === true;
      const base = text(values, "base");
      if (base !== undefined && !summary) throw new UsageError("--base is only read with --summary");
      return { command: "diff", summary, ...(base === undefined ? {} : { base }), ...locations(values, ["config", "out"]) };
    }
    case "validate":
      return { command: "validate", ...locations(values, ["config"]) };
  }
}
