// The init questions, in the order they are asked, each with its default. The same list
// drives the prompts (plop), the flags (plop's answer bypass) and --yes (every default).
import {
  CACHE_TITLES,
  CACHES,
  checkName,
  DATABASE_TITLES,
  DATABASES,
  FIREWALL_TITLES,
  FIREWALLS,
  type InitAnswers,
  isOneOf,
  joinCommand,
  parsePort,
  parseYesNo,
  REGISTRIES,
  REGISTRY_TITLES,
  RUNTIME_TITLES,
  RUNTIMES,
  type Runtime,
  SHAPE_TITLES,
  SHAPES,
  type Shape,
  splitCommand,
} from "./answers.js";
import { DEFAULT_PORTS, guessCommand, type Project } from "./detect.js";

/** Answers as the prompts give them: strings for typed text, values for choices. */
export interface RawAnswers {
  name?: string;
  runtime?: string;
  shape?: string;
  port?: string | number;
  command?: string;
  database?: string;
  cache?: string;
  gpu?: boolean | string;
  registry?: string;
  firewall?: string;
  [other: string]: unknown;
}

export type QuestionName = "name" | "runtime" | "shape" | "port" | "command" | "database" | "cache" | "gpu" | "registry" | "firewall";

export const QUESTION_ORDER: readonly QuestionName[] = ["name", "runtime", "shape", "port", "command", "database", "cache", "gpu", "registry", "firewall"];

export interface Choice {
  name: string;
  value: string;
}

/** One question, in the shape inquirer (plop's prompt library) reads. */
export interface Question {
  type: "input" | "list" | "confirm";
  name: QuestionName;
  message: string;
  default: (answers: RawAnswers) => string | boolean;
  choices?: Choice[];
  validate?: (value: unknown) => true | string;
}

function choicesOf<T extends string>(values: readonly T[], titles: Record<T, string>): Choice[] {
  return values.map((value) => ({ name: `${value}: ${titles[value]}`, value }));
}

function runtimeOf(raw: RawAnswers, project: Project): Runtime {
  return raw.runtime !== undefined && isOneOf(RUNTIMES, raw.runtime) ? raw.runtime : project.runtime;
}

function shapeOf(raw: RawAnswers): Shape {
  return raw.shape !== undefined && isOneOf(SHAPES, raw.shape) ? raw.shape : "compose";
}

function portOf(raw: RawAnswers, project: Project): number | undefined {
  if (raw.port === undefined) return DEFAULT_PORTS[runtimeOf(raw, project)];
  const parsed = parsePort(String(raw.port));
  return parsed.ok ? parsed.port : undefined;
}

function nameOf(raw: RawAnswers, project: Project): string {
  return raw.name !== undefined && checkName(raw.name) === undefined ? raw.name : project.name;
}

export function defaultCommand(dir: string, project: Project, raw: RawAnswers): string {
  return joinCommand(guessCommand(dir, project, runtimeOf(raw, project), shapeOf(raw), nameOf(raw, project), portOf(raw, project)).command);
}

/** The defaults a person starting out needs least explained: one host, a firewall that keeps SSH open. */
function defaultRegistry(raw: RawAnswers, project: Project): string {
  const shape = shapeOf(raw);
  if (shape === "systemd") return "none";
  if (shape === "swarm" || shape === "image-ci") return "ghcr.io";
  return project.githubOwner === undefined ? "none" : "ghcr.io";
}

function defaultFirewall(raw: RawAnswers): string {
  return shapeOf(raw) === "image-ci" ? "none" : "ufw";
}

const validateChoice =
  (values: readonly string[]) =>
  (value: unknown): true | string =>
    typeof value === "string" && values.includes(value) ? true : `choose one of ${values.join(", ")}`;

export function initQuestions(dir: string, project: Project): Question[] {
  return [
    {
      type: "input",
      name: "name",
      message: "Project name",
      default: () => project.name,
      validate: (value) => (typeof value === "string" ? (checkName(value) ?? true) : "a name is text"),
    },
    {
      type: "list",
      name: "runtime",
      message: "What does the repository hold",
      choices: choicesOf(RUNTIMES, RUNTIME_TITLES),
      default: () => project.runtime,
      validate: validateChoice(RUNTIMES),
    },
    {
      type: "list",
      name: "shape",
      message: "How is it deployed",
      choices: choicesOf(SHAPES, SHAPE_TITLES),
      default: () => "compose",
      validate: validateChoice(SHAPES),
    },
    {
      type: "input",
      name: "port",
      message: "The port it listens on (none for a worker)",
      default: (raw) => String(DEFAULT_PORTS[runtimeOf(raw, project)]),
      validate: (value) => {
        const parsed = parsePort(String(value));
        return parsed.ok ? true : parsed.message;
      },
    },
    {
      type: "input",
      name: "command",
      message: "The command that starts it",
      default: (raw) => defaultCommand(dir, project, raw),
      validate: (value) => {
        const words = typeof value === "string" ? splitCommand(value) : undefined;
        if (words === undefined) return "close the quote";
        return words.length > 0 ? true : "give the program to run";
      },
    },
    {
      type: "list",
      name: "database",
      message: "A database",
      choices: choicesOf(DATABASES, DATABASE_TITLES),
      default: () => "none",
      validate: validateChoice(DATABASES),
    },
    {
      type: "list",
      name: "cache",
      message: "A cache",
      choices: choicesOf(CACHES, CACHE_TITLES),
      default: () => "none",
      validate: validateChoice(CACHES),
    },
    {
      type: "confirm",
      name: "gpu",
      message: "Does it need a GPU",
      default: () => false,
    },
    {
      type: "list",
      name: "registry",
      message: "Where are images pushed",
      choices: choicesOf(REGISTRIES, REGISTRY_TITLES),
      default: (raw) => defaultRegistry(raw, project),
      validate: validateChoice(REGISTRIES),
    },
    {
      type: "list",
      name: "firewall",
      message: "Which firewall do the hosts run",
      choices: choicesOf(FIREWALLS, FIREWALL_TITLES),
      default: (raw) => defaultFirewall(raw),
      validate: validateChoice(FIREWALLS),
    },
  ];
}

export type Resolved = { ok: true; answers: InitAnswers } | { ok: false; question: QuestionName; message: string };

/**
 * Every question answered: what was given, else its default, in question order so that
 * later defaults follow earlier answers (the command follows runtime, shape and port).
 */
export function resolveAnswers(questions: readonly Question[], given: RawAnswers): Resolved {
  const raw: RawAnswers = {};
  for (const question of questions) {
    const value = given[question.name] ?? question.default(raw);
    if (question.type === "confirm") {
      const flag = typeof value === "boolean" ? value : parseYesNo(String(value));
      if (flag === undefined) return { ok: false, question: question.name, message: "answer yes or no" };
      (raw as Record<string, unknown>)[question.name] = flag;
      continue;
    }
    const verdict = question.validate?.(typeof value === "number" ? String(value) : value) ?? true;
    if (verdict !== true) return { ok: false, question: question.name, message: verdict };
    raw[question.name] = typeof value === "number" ? String(value) : (value as string);
  }
  return { ok: true, answers: toAnswers(raw) };
}

/** Answers that passed their questions' checks, typed. */
export function toAnswers(raw: RawAnswers): InitAnswers {
  const port = parsePort(String(raw.port ?? ""));
  const pick = <T extends string>(values: readonly T[], value: unknown, fallback: T): T =>
    typeof value === "string" && isOneOf(values, value) ? value : fallback;
  return {
    name: String(raw.name),
    runtime: pick(RUNTIMES, raw.runtime, "python"),
    shape: pick(SHAPES, raw.shape, "compose"),
    command: splitCommand(String(raw.command ?? "")) ?? [],
    port: port.ok ? port.port : undefined,
    database: pick(DATABASES, raw.database, "none"),
    cache: pick(CACHES, raw.cache, "none"),
    gpu: raw.gpu === true || (typeof raw.gpu === "string" && parseYesNo(raw.gpu) === true),
    registry: pick(REGISTRIES, raw.registry, "none"),
    firewall: pick(FIREWALLS, raw.firewall, "none"),
  };
}
