// What generators/plopfile.js builds its generators from: the questions in the form plop's
// prompt library reads, and the actions that write deploy.yaml and generate. Nothing here
// loads plop or a prompt library; the plopfile is loaded by them.
import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runGenerate } from "../commands/generate.js";
import { printProblems, showPath } from "../commands/common.js";
import { resolveConfigPath } from "../pipeline.js";
import { type InitAnswers, joinCommand, parsePort, splitCommand } from "./answers.js";
import { guessCommand } from "./detect.js";
import { checkDescriptorText } from "./check-text.js";
import { defaultWebPort, insertService, SERVICE_KIND_TITLES, SERVICE_KINDS, type ServiceKind, suggestServiceName } from "./add-service.js";
import { draftFromAnswers, draftFromExample, type DraftResult, nextSteps, writeDescriptorFile } from "./init.js";
import { type Choice, initQuestions, type Question, type RawAnswers, resolveAnswers } from "./questions.js";
import { readManifestPaths } from "./manifest.js";
import type { WizardSession } from "./session.js";
import { formatProblem, sortProblems } from "../problems.js";

export { createSession, type WizardSession } from "./session.js";

/** A question as inquirer (plop's prompt library) reads it. */
export interface PromptQuestion {
  type: "input" | "list" | "confirm";
  name: string;
  message: string | ((answers: RawAnswers) => string);
  default?: unknown;
  choices?: Choice[];
  validate?: (value: unknown) => true | string;
  when?: (answers: RawAnswers) => boolean;
}

export const INIT_CONFIRM = "write";

function toPrompt(question: Question, session: WizardSession): PromptQuestion {
  return {
    type: question.type,
    name: question.name,
    message: question.message,
    default: (answers: RawAnswers) => question.default({ ...session.given, ...answers }),
    ...(question.choices === undefined ? {} : { choices: question.choices }),
    ...(question.validate === undefined ? {} : { validate: question.validate }),
  };
}

/** The descriptor the answers so far make, for the preview and the write action. */
export function draftOf(session: WizardSession, answers: RawAnswers): DraftResult {
  const merged: RawAnswers = { ...session.given, ...answers };
  const preset = session.preset;
  if (preset?.kind === "example") {
    return draftFromExample(preset, String(merged.name ?? session.project.name), session.schemaReference);
  }
  const resolved = resolveAnswers(initQuestions(session.dir, session.project), merged);
  if (!resolved.ok) {
    const problem = { file: "deploy.yaml", pointer: "", line: 1, col: 1, message: `${resolved.question}: ${resolved.message}` };
    return { ok: false, problems: [problem] };
  }
  const draft = draftFromAnswers(resolved.answers, session.project, session.schemaReference);
  return draft.ok ? { ...draft, notes: [...draft.notes, ...commandNotes(session, resolved.answers)] } : draft;
}

/** What the person should know about the command: a server the guess needs, a script not there yet. */
function commandNotes(session: WizardSession, answers: InitAnswers): string[] {
  const notes: string[] = [];
  const guess = guessCommand(session.dir, session.project, answers.runtime, answers.shape, answers.name, answers.port);
  if (guess.note !== undefined && joinCommand(guess.command) === joinCommand(answers.command)) notes.push(guess.note);
  const program = answers.command[0];
  if (program !== undefined && program.startsWith("./") && !existsSync(join(session.dir, program))) {
    notes.push(`${program} is not in the repository yet: add it (executable), or change the command in deploy.yaml`);
  }
  return notes;
}

function previewOf(session: WizardSession, answers: RawAnswers): string {
  const draft = draftOf(session, answers);
  if (!draft.ok) {
    const problems = sortProblems(draft.problems).map(formatProblem).join("\n");
    return `These answers make a deploy.yaml that does not validate, so it will not be written:\n${problems}\nContinue?`;
  }
  const notes = draft.notes.map((note) => `note: ${note}\n`).join("");
  return `deploy.yaml will read:\n\n${draft.text}\n${notes}Write deploy.yaml and generate the deployment files?`;
}

/**
 * init's questions in the order asked: every question for a shape, only the name for an
 * example preset; then the preview of deploy.yaml and whether to write it.
 */
export function initPrompts(session: WizardSession): PromptQuestion[] {
  const questions = initQuestions(session.dir, session.project).filter((q) => session.preset?.kind !== "example" || q.name === "name");
  return [
    ...questions.map((q) => toPrompt(q, session)),
    { type: "confirm", name: INIT_CONFIRM, message: (answers) => previewOf(session, answers), default: true },
  ];
}

/** Plop's answer bypass for the answers given before the questions: `_` asks the question. */
export function initBypass(session: WizardSession): string[] {
  const names = initPrompts(session).map((p) => p.name);
  const values = names.map((name) => {
    const value = session.given[name];
    return value === undefined ? "_" : typeof value === "boolean" ? (value ? "yes" : "no") : String(value);
  });
  // Trailing `_`s are the same as no bypass: leave them out.
  while (values.length > 0 && values[values.length - 1] === "_") values.pop();
  return values;
}

/** Writes deploy.yaml from the answers; "nothing written" when the person said no. */
export async function writeInitDescriptor(answers: RawAnswers, session: WizardSession): Promise<string> {
  if (answers[INIT_CONFIRM] === false) {
    session.io.out("Nothing written.");
    return "nothing written";
  }
  const draft = draftOf(session, answers);
  if (!draft.ok) {
    printProblems(session.io, draft.problems);
    session.exitCode = 1;
    throw new Error("the answers make an invalid deploy.yaml; nothing written");
  }
  const path = join(session.dir, "deploy.yaml");
  await writeDescriptorFile(path, draft.text);
  session.io.out(`Wrote ${showRelative(session, path)}.`);
  for (const note of draft.notes) session.io.out(`note: ${note}`);
  return path;
}

function showRelative(session: WizardSession, path: string): string {
  return showPath(session.cwd, path);
}

/** Runs `generate` on the repository's deploy.yaml, then says what to do next. */
export async function generateFiles(session: WizardSession): Promise<string> {
  const config = resolveConfigPath(session.dir);
  const code = await runGenerate(
    { cwd: session.cwd, io: session.io, env: session.env, interactive: false },
    { config, dryRun: false, force: false },
  );
  session.exitCode = code;
  if (code !== 0) throw new Error("generate did not finish");
  const steps = nextSteps(await readManifestPaths(session.dir));
  session.io.out("");
  session.io.out("Next steps:");
  steps.forEach((step, index) => session.io.out(`  ${index + 1}. ${step}`));
  return config;
}

// ---- add service ----

export const ADD_KIND = "kind";

/** A starting point for a worker's command, by what the repository holds; the person edits it. */
const WORKER_COMMANDS = { python: "python -m worker", node: "node worker.js", image: "./worker.sh" } as const;

export function addServicePrompts(session: WizardSession, services: Record<string, unknown>): PromptQuestion[] {
  const known = { services } as { services: Record<string, never> };
  const kindOf = (answers: RawAnswers): ServiceKind => (session.serviceKind ?? answers[ADD_KIND]) as ServiceKind;
  const needs = (answers: RawAnswers, kinds: readonly ServiceKind[]): boolean => kinds.includes(kindOf(answers));
  const prompts: PromptQuestion[] = [
    {
      type: "list",
      name: ADD_KIND,
      message: "Which service",
      choices: SERVICE_KINDS.map((value) => ({ name: `${value}: ${SERVICE_KIND_TITLES[value]}`, value })),
      default: "database",
    },
    {
      type: "input",
      name: "name",
      message: "Its name",
      default: (answers: RawAnswers) => suggestServiceName(known, kindOf(answers)),
    },
    {
      type: "input",
      name: "command",
      message: "The command that starts it",
      default: (answers: RawAnswers) => (kindOf(answers) === "worker" ? WORKER_COMMANDS[session.project.runtime] : undefined),
      validate: (value) => ((typeof value === "string" ? (splitCommand(value)?.length ?? 0) : 0) > 0 ? true : "give the program to run"),
      // Only these kinds run a program of their own; without a kind chosen first the question depends on the answer.
      ...(session.serviceKind === undefined ? { when: (answers: RawAnswers) => needs(answers, ["worker", "web"]) } : {}),
    },
    {
      type: "input",
      name: "port",
      message: "The port it listens on",
      default: () => String(defaultWebPort(known, session.project)),
      validate: (value) => {
        const parsed = parsePort(String(value));
        return parsed.ok && parsed.port !== undefined ? true : "a port is a number from 1 to 65535";
      },
      ...(session.serviceKind === undefined ? { when: (answers: RawAnswers) => needs(answers, ["web"]) } : {}),
    },
  ];
  if (session.serviceKind === undefined) return prompts;
  // The kind is known: ask only what it needs, with no question depending on another.
  const wanted = { database: ["name"], cache: ["name"], worker: ["name", "command"], web: ["name", "command", "port"] }[session.serviceKind];
  return prompts.filter((p) => wanted.includes(p.name));
}

/** Reads deploy.yaml, inserts the service, writes it back (atomically), then generates. */
export async function addServiceToDescriptor(answers: RawAnswers, session: WizardSession): Promise<string> {
  const path = resolveConfigPath(session.dir);
  const text = await readFile(path, "utf8");
  const kind = (session.serviceKind ?? answers[ADD_KIND]) as ServiceKind;
  const port = answers.port === undefined ? undefined : parsePort(String(answers.port));
  const result = insertService(
    text,
    {
      kind,
      name: String(answers.name ?? ""),
      ...(typeof answers.command === "string" ? { command: splitCommand(answers.command) ?? [] } : {}),
      ...(port?.ok === true && port.port !== undefined ? { port: port.port } : {}),
    },
    session.project,
  );
  if (!result.ok) {
    session.exitCode = 1;
    if ("problems" in result) printProblems(session.io, result.problems);
    else session.io.err(`create-deploy: ${result.message}`);
    throw new Error("the service was not added; deploy.yaml is unchanged");
  }
  // Written beside it first, then renamed over it: a reader never sees half a file.
  const temporary = `${path}.create-deploy-tmp`;
  await writeFile(temporary, result.text, "utf8");
  await rename(temporary, path);
  session.io.out(`Added services.${String(answers.name)} to ${showRelative(session, path)}.`);
  for (const note of result.notes) session.io.out(`note: ${note}`);
  return path;
}

/** The services of the repository's deploy.yaml, for the name defaults; empty when it does not validate. */
export async function readServices(session: WizardSession): Promise<Record<string, unknown>> {
  const text = await readFile(resolveConfigPath(session.dir), "utf8");
  const checked = checkDescriptorText(text);
  return checked.ok ? checked.descriptor.services : {};
}
