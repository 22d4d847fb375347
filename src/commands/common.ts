// What the commands share: where output goes, exit codes, and the road from
// --config/--out to a change plan (build the files, read the output folder, compare).
import { existsSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { buildFiles, resolveConfigPath } from "../pipeline.js";
import { formatProblem, type Problem, sortProblems } from "../problems.js";
import type { RenderedFile } from "../render/index.js";
import {
  type ChangePlan,
  type DiskState,
  type OutputRoot,
  planChanges,
  readCurrentState,
  resolveOutputRoot,
} from "../write/index.js";
import { VERSION } from "./version.js";

export const EXIT_OK = 0;
/** Invalid descriptor, stale or hand-edited files, refused overwrite. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** EX_SOFTWARE from sysexits.h: a defect in create-deploy, not a mistake of the user. */
export const EXIT_INTERNAL = 70;

/** Where a command prints; lines without their newline. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface Context {
  cwd: string;
  io: Io;
  env: NodeJS.ProcessEnv;
  /** Both ends are a terminal, so a person can answer questions. */
  interactive: boolean;
}

/** A path as the user would type it from the current folder. */
export function showPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  if (rel === "") return ".";
  if (isAbsolute(rel) || rel === ".." || rel.startsWith(`..${sep}`)) return path;
  return rel.split(sep).join("/");
}

export function printProblems(io: Io, problems: readonly Problem[]): void {
  for (const problem of sortProblems(problems)) io.err(formatProblem(problem));
}

export interface Target {
  configPath: string;
  outDir: string;
  /** How the manifest names the descriptor: relative to the output folder, forward slashes. */
  descriptor: string;
}

/** Resolves --config and --out; undefined (after saying why) when there is no descriptor. */
export function resolveTarget(ctx: Context, flags: { config?: string; out?: string }): Target | undefined {
  const configPath = resolveConfigPath(ctx.cwd, flags.config);
  if (!existsSync(configPath)) {
    if (flags.config === undefined) {
      ctx.io.err(
        `create-deploy: no deploy.yaml or deploy.yml in ${showPath(ctx.cwd, ctx.cwd)}; ` +
          "create one with `create-deploy init`, or name one with --config FILE",
      );
    } else {
      ctx.io.err(`create-deploy: ${flags.config}: file not found`);
    }
    return undefined;
  }
  const outDir = flags.out === undefined ? dirname(configPath) : resolve(ctx.cwd, flags.out);
  const descriptor = relative(outDir, configPath).split(sep).join("/");
  return { configPath, outDir, descriptor };
}

/** The files `generate` would write for `target`; undefined after printing why the descriptor is invalid. */
export async function buildOrReport(ctx: Context, target: Target): Promise<RenderedFile[] | undefined> {
  const built = await buildFiles(target.configPath, target.outDir);
  if (built.ok) return built.files;
  printProblems(ctx.io, built.problems);
  return undefined;
}

export interface Prepared {
  target: Target;
  root: OutputRoot;
  files: RenderedFile[];
  state: DiskState;
  plan: ChangePlan;
}

/**
 * Builds the files and plans the changes against the output folder. Prints and returns an
 * exit code when there is nothing to plan with (no descriptor, an invalid one).
 */
export async function prepare(ctx: Context, flags: { config?: string; out?: string }): Promise<Prepared | number> {
  const target = resolveTarget(ctx, flags);
  if (target === undefined) return EXIT_FAILURE;
  const files = await buildOrReport(ctx, target);
  if (files === undefined) return EXIT_FAILURE;
  const root = await resolveOutputRoot(target.outDir, { cwd: ctx.cwd });
  const state = await readCurrentState(
    root,
    files.map((f) => f.path),
  );
  const plan = planChanges(state, files, { version: VERSION, descriptor: target.descriptor });
  return { target, root, files, state, plan };
}
