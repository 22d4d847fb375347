// The checks every generated file must pass, by the kind its manifest records: its
// ecosystem's own checker (VALIDATORS.md), LF line ends, one final newline, prettier's
// defaults. Shared by the tests of the committed examples and of freshly generated folders,
// so both hold the output to the same standard.
import { readFileSync } from "node:fs";
import { basename, join, posix, relative } from "node:path";
import { expect } from "vitest";
import type { FileKind } from "../../src/kinds/types.js";
import {
  checkBashSyntax,
  checkCompose,
  checkComposeMerge,
  checkDockerfile,
  checkEnvRoundTrip,
  checkNftables,
  checkPrettierClean,
  checkShellcheck,
  checkSwarmStack,
  checkWorkflow,
  expectClean,
  scoreUnitSecurity,
  verifyUnit,
} from "../checkers/index.js";
import { repoRoot } from "../checkers/paths.js";

export interface GeneratedFile {
  path: string;
  kind: FileKind;
}

/** A folder of generated files, as its manifest lists them. */
export interface GeneratedTree {
  /** The folder the manifest's paths are relative to. */
  dir: string;
  files: GeneratedFile[];
}

/** The files the manifest in `dir` lists, with their kinds. */
export function readGeneratedTree(dir: string): GeneratedTree {
  const manifest = JSON.parse(readFileSync(join(dir, ".create-deploy", "manifest.json"), "utf8")) as { files: GeneratedFile[] };
  return { dir, files: manifest.files };
}

function read(tree: GeneratedTree, path: string): string {
  return readFileSync(join(tree.dir, path), "utf8");
}

/**
 * `KEY='value'` lines, read without dotenv so the round-trip check compares two independent
 * readings. Anything else that is not blank or a comment is reported.
 */
export function parseSingleQuotedEnv(content: string): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  content.split("\n").forEach((line, index) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)='([^']*)'$/.exec(line);
    if (!match || match[1] === undefined || match[2] === undefined) problems.push(`line ${index + 1} is not KEY='value': ${line}`);
    else values[match[1]] = match[2];
  });
  return { values, problems };
}

const PRETTIER_FILE = /\.(md|markdown|ya?ml|json)$/;
const DROP_IN = /^(.*\/)?([^/]+\.[a-z]+)\.d\/[^/]+\.conf$/;
const COMPOSE_OVERLAY = /^compose\.[^/]+\.ya?ml$/;

/** Files under `folder` that `keep` accepts, keyed by their path relative to it. */
function filesUnder(tree: GeneratedTree, folder: string, keep: (file: GeneratedFile) => boolean): Record<string, string> {
  const result: Record<string, string> = {};
  for (const file of tree.files) {
    if (!keep(file)) continue;
    const inside = folder === "." ? file.path : file.path.startsWith(`${folder}/`) ? file.path.slice(folder.length + 1) : null;
    if (inside !== null) result[inside] = read(tree, file.path);
  }
  return result;
}

async function checkSystemdUnit(tree: GeneratedTree, file: GeneratedFile, content: string): Promise<void> {
  const folder = posix.dirname(file.path);
  // Units of one folder are verified together: they may refer to each other, and drop-ins apply to their unit.
  const siblings = filesUnder(tree, folder, (other) => other.kind === "systemd-unit" && other.path !== file.path);
  const dropIn = DROP_IN.exec(file.path);
  if (dropIn) {
    const unitName = dropIn[2] ?? "";
    const unitFolder = posix.dirname(posix.dirname(file.path));
    const prefix = unitFolder === "." ? "" : `${unitFolder}/`;
    if (tree.files.some((other) => other.path === `${prefix}${unitName}`)) return; // verified with its unit
    // A drop-in for a unit installed by someone else: its keys are still parsed, against a unit of that name.
    const dropIns = filesUnder(tree, unitFolder, (other) => other.path.startsWith(`${prefix}${unitName}.d/`));
    expectClean(await verifyUnit(unitName, "[Service]\nExecStart=/bin/true\n", { siblings: dropIns }), file.path);
    return;
  }
  const name = basename(file.path);
  expectClean(await verifyUnit(name, content, { siblings }), file.path);
  if (name.endsWith(".service")) {
    const security = await scoreUnitSecurity(name, content);
    expectClean(security, file.path);
    if (security.skipped === undefined) expect(security.exposure, `${file.path} exposure`).toBeLessThanOrEqual(2.0);
  }
}

async function checkEnvFile(file: GeneratedFile, content: string): Promise<void> {
  const { values, problems } = parseSingleQuotedEnv(content);
  expect(problems, `${file.path} lines`).toEqual([]);
  expectClean(await checkEnvRoundTrip(content, values), file.path);
}

/** The ecosystem checks of each kind; kinds without their own checker rely on the checks every file gets. */
const checksByKind: Record<FileKind, (tree: GeneratedTree, file: GeneratedFile, content: string) => Promise<void>> = {
  "systemd-unit": checkSystemdUnit,
  shell: async (_tree, file, content) => {
    expectClean(await checkBashSyntax(content), file.path);
    expectClean(await checkShellcheck(content), file.path);
  },
  nftables: async (_tree, file, content) => expectClean(await checkNftables(content, basename(file.path)), file.path),
  workflow: async (_tree, file, content) => expectClean(await checkWorkflow(content, file.path), file.path),
  "swarm-stack": async (tree, file, content) => {
    const siblings = filesUnder(tree, posix.dirname(file.path), (other) => other.path !== file.path);
    expectClean(await checkSwarmStack(content, { name: basename(file.path), siblings }), file.path);
  },
  // A service image (one that listens: EXPOSE) must also say how to tell it is healthy.
  dockerfile: async (_tree, file, content) =>
    expectClean(await checkDockerfile(content, { service: /^EXPOSE\s/m.test(content) }), file.path),
  compose: async (_tree, file, content) => expectClean(await checkCompose(content), file.path),
  env: async (_tree, file, content) => checkEnvFile(file, content),
  markdown: async () => undefined,
  dockerignore: async () => undefined,
  kubernetes: async () => undefined,
  other: async () => undefined,
};

/** Every check one generated file must pass; fails the running test on the first finding. */
export async function checkGeneratedFile(tree: GeneratedTree, file: GeneratedFile): Promise<void> {
  const content = read(tree, file.path);
  // Byte-deterministic text: LF line ends and exactly one final newline.
  expect(content.includes("\r"), `${file.path} has CR characters`).toBe(false);
  expect(content.endsWith("\n") && !content.endsWith("\n\n"), `${file.path} ends with exactly one newline`).toBe(true);
  // The path, relative to the repository, picks prettier's parser.
  if (PRETTIER_FILE.test(file.path)) expectClean(await checkPrettierClean(relative(repoRoot, join(tree.dir, file.path)), content), file.path);
  await checksByKind[file.kind](tree, file, content);
}

export interface ComposeMerge {
  base: string;
  overlay: string;
}

/** Each overlay `compose.<node>.yaml` with the `compose.yaml` beside it. */
export function findComposeMerges(files: readonly GeneratedFile[]): ComposeMerge[] {
  const composeFiles = files.filter((file) => file.kind === "compose");
  return composeFiles.flatMap((base) =>
    /^compose\.ya?ml$/.test(posix.basename(base.path))
      ? composeFiles
          .filter((file) => posix.dirname(file.path) === posix.dirname(base.path) && COMPOSE_OVERLAY.test(posix.basename(file.path)))
          .map((overlay) => ({ base: base.path, overlay: overlay.path }))
      : [],
  );
}

/** An overlay merged onto its base must still be a valid compose model. */
export async function checkMerge(tree: GeneratedTree, merge: ComposeMerge): Promise<void> {
  expectClean(await checkComposeMerge(read(tree, merge.base), [read(tree, merge.overlay)]), `${merge.base} + ${merge.overlay}`);
}
