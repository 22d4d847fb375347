// diff --summary: the review summary of a descriptor change. The previous descriptor comes
// from --base FILE (an empty file: there was none), else from git (the descriptor as of
// HEAD). With a previous descriptor, both are rendered and compared, so the summary tells
// what the change does whatever the files on disk say; without one, it lists what generate
// would change on disk.
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { importModule } from "../dynamic-import.js";
import { kinds } from "../kinds/index.js";
import { parseDescriptor } from "../load.js";
import type { Descriptor } from "../model/descriptor.js";
import { descriptorLabel, loadAndValidate } from "../pipeline.js";
import { planFiles } from "../plan.js";
import { formatProblem, sortProblems } from "../problems.js";
import { renderFiles, type RenderedFile } from "../render/index.js";
import { type FileChange, summarizeChange } from "../summary.js";
import { validateDescriptor } from "../validate/index.js";
import type { PlannedChange } from "../write/index.js";
import { type Context, EXIT_FAILURE, EXIT_OK, type Prepared } from "./common.js";

/** The previous descriptor's text: undefined when there was none, or why it cannot be known. */
export type BaseText = { found: true; text: string | undefined; from: string } | { found: false; reason: string };

/** The descriptor as committed at HEAD of the git repository holding it. */
export async function readBaseFromGit(configPath: string): Promise<BaseText> {
  // Imported here: loading child_process would slow every other command's start.
  const { spawnSync } = await importModule<typeof import("node:child_process")>("node:child_process");
  const cwd = dirname(configPath);
  const git = (args: string[]) => spawnSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const inside = git(["rev-parse", "--is-inside-work-tree"]);
  if (inside.error !== undefined || inside.status !== 0) return { found: false, reason: "not in a git repository; pass the previous descriptor with --base FILE" };
  const spec = `HEAD:./${basename(configPath)}`;
  if (git(["rev-parse", "--verify", "--quiet", "HEAD"]).status !== 0) return { found: true, text: undefined, from: "git (no commit yet)" };
  if (git(["cat-file", "-e", spec]).status !== 0) return { found: true, text: undefined, from: "git HEAD" };
  const shown = git(["show", spec]);
  if (shown.status !== 0) return { found: false, reason: `git show ${spec} failed: ${shown.stderr.trim()}` };
  return { found: true, text: shown.stdout, from: "git HEAD" };
}

export function readBaseFile(path: string): BaseText | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, "utf8");
  return { found: true, text: text.trim() === "" ? undefined : text, from: path };
}

/** What the change does to the generated files: the base's rendering against the current one. */
export function compareRenderings(before: readonly RenderedFile[], after: readonly RenderedFile[]): FileChange[] {
  const old = new Map(before.map((f) => [f.path, f]));
  const changes: FileChange[] = [];
  for (const file of after) {
    const previous = old.get(file.path);
    if (previous === undefined) changes.push({ path: file.path, kind: file.kind, change: "create" });
    else if (previous.content !== file.content || previous.kind !== file.kind) changes.push({ path: file.path, kind: file.kind, change: "update" });
  }
  const now = new Set(after.map((f) => f.path));
  for (const file of before) if (!now.has(file.path)) changes.push({ path: file.path, kind: file.kind, change: "remove" });
  return changes;
}

/** What generate would do on disk, for when no previous descriptor is known. */
export function changesOnDisk(changes: readonly PlannedChange[]): FileChange[] {
  const out: FileChange[] = [];
  for (const change of changes) {
    if (change.action === "unchanged") continue;
    const kind = change.file?.kind ?? "other";
    if (change.action === "create") out.push({ path: change.path, kind, change: "create" });
    else if (change.file === undefined) out.push({ path: change.path, kind, change: "remove" });
    else out.push({ path: change.path, kind, change: "update" });
  }
  return out;
}

export async function runDiffSummary(ctx: Context, prepared: Prepared, baseFlag: string | undefined): Promise<number> {
  const { target } = prepared;
  // prepare() validated this same file a moment ago; this read only recovers the descriptor.
  const current = await loadAndValidate(target.configPath);
  if (!current.ok) throw new Error("the descriptor stopped validating between two reads");
  let base: BaseText;
  if (baseFlag !== undefined) {
    const read = readBaseFile(resolve(ctx.cwd, baseFlag));
    if (read === undefined) {
      ctx.io.err(`create-deploy: ${baseFlag}: file not found`);
      return EXIT_FAILURE;
    }
    base = read;
  } else {
    base = await readBaseFromGit(target.configPath);
  }

  let before: Descriptor | undefined;
  let files: FileChange[];
  let baseUnknown: string | undefined;
  if (base.found && base.text !== undefined) {
    const file = basename(target.configPath);
    const validated = validateDescriptor(parseDescriptor(base.text, file), file, kinds);
    if (validated.descriptor === undefined) {
      const first = sortProblems(validated.problems)[0];
      baseUnknown = `the previous descriptor (${base.from}) is not valid${first === undefined ? "" : `: ${formatProblem(first)}`}`;
    } else {
      before = validated.descriptor;
    }
  } else if (!base.found) {
    baseUnknown = base.reason;
  }
  if (baseUnknown === undefined) {
    const label = descriptorLabel(target.configPath, target.outDir);
    const rendered = before === undefined ? [] : renderFiles(planFiles(before), { descriptorFile: label });
    files = compareRenderings(rendered, prepared.files);
  } else {
    ctx.io.err(`note: ${baseUnknown}; comparing with the files on disk`);
    files = changesOnDisk(prepared.plan.changes);
  }
  const summary = summarizeChange(before, current.descriptor, files, baseUnknown === undefined ? {} : { baseUnknown });
  ctx.io.out(summary.replace(/\n$/u, ""));
  return EXIT_OK;
}
