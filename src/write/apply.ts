// The only code that changes the output folder. All or nothing: new contents are staged
// as temporary files beside their targets, then renamed into place; replaced and deleted
// files are kept as backups until everything has succeeded, so any failure puts the
// folder back exactly as it was.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { WriteError } from "./errors.js";
import { serializeManifest } from "./manifest.js";
import { MANIFEST_PATH, parentFolders } from "./paths.js";
import { blockedChanges, type ChangePlan, effectOf, type PlannedChange } from "./plan.js";
import { createInspector, type OutputRoot, resolveOutputRoot, type TargetState } from "./safety.js";

/** The file operations the writer uses; replaceable so tests can make one of them fail. */
export interface WriteOps {
  /** Creates a new file (failing if it exists) with exactly this mode. */
  createFile(path: string, data: Uint8Array, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
}

// Synchronous calls behind the asynchronous interface: one change follows another anyway,
// and a cold process pays more for each trip through the thread pool than for the call.
const realOps: WriteOps = {
  async createFile(path, data, mode) {
    const fd = openSync(path, "wx", mode);
    try {
      // The process umask may have narrowed the mode given at creation.
      fchmodSync(fd, mode);
      writeFileSync(fd, data);
    } finally {
      closeSync(fd);
    }
  },
  rename: async (from, to) => renameSync(from, to),
  unlink: async (path) => unlinkSync(path),
  mkdir: async (path) => {
    mkdirSync(path);
  },
  rmdir: async (path) => rmdirSync(path),
};

export interface ApplyOptions {
  /** Overwrite or delete files a person edited. */
  force: boolean;
  /** The current folder, bounding where the output folder may really be (see resolveOutputRoot). */
  cwd?: string;
  ops?: Partial<WriteOps>;
}

export interface AppliedChange {
  path: string;
  effect: "write" | "delete";
  change: PlannedChange;
}

export type ApplyResult =
  | { ok: true; applied: AppliedChange[]; manifestWritten: boolean }
  /** Refused: files edited by hand stand in the way; nothing was touched. */
  | { ok: false; blocked: PlannedChange[] };

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}

function describe(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.message : String(error));
}

/**
 * Names the temporary files and backups of one run: hidden siblings of their targets, with
 * a random part drawn once per run and a counter, so two runs never pick the same name
 * (and creation with "wx" fails rather than reuse one that somehow exists).
 */
function siblingNamer(): (absolute: string, purpose: "tmp" | "backup") => string {
  const run = randomBytes(6).toString("hex");
  let count = 0;
  return (absolute, purpose) =>
    join(dirname(absolute), `.${basename(absolute)}.${run}${(count++).toString(36)}.create-deploy-${purpose}`);
}

interface Staged {
  path: string;
  absolute: string;
  temp: string;
  existed: boolean;
}

export async function applyChanges(outDir: string, plan: ChangePlan, options: ApplyOptions): Promise<ApplyResult> {
  const blocked = blockedChanges(plan);
  if (blocked.length > 0 && !options.force) return { ok: false, blocked };

  const ops: WriteOps = { ...realOps, ...options.ops };
  const root = await resolveOutputRoot(outDir, options.cwd === undefined ? {} : { cwd: options.cwd });

  // Every path is checked before anything changes, so a refusal leaves the folder untouched.
  // Each is inspected once: nothing changes between the checks below.
  const inspectOnce = createInspector(root);
  const inspected = new Map<string, TargetState>();
  const inspect = (path: string): TargetState => {
    let target = inspected.get(path);
    if (target === undefined) {
      target = inspectOnce(path);
      inspected.set(path, target);
    }
    return target;
  };
  const writes: { change: PlannedChange; content: string; executable: boolean }[] = [];
  const deletes: { change: PlannedChange; absolute: string }[] = [];
  for (const change of plan.changes) {
    const effect = effectOf(change, options.force);
    if (effect === "none") continue;
    const target = inspect(change.path);
    if (effect === "delete") {
      if (target.exists) deletes.push({ change, absolute: target.absolute });
    } else if (change.file !== undefined) {
      writes.push({ change, content: change.file.content, executable: change.file.executable });
    }
  }
  const files = writes.map((w) => ({ path: w.change.path, content: w.content, executable: w.executable }));
  if (plan.manifestChanged) {
    // Last, so an interrupted run leaves the old record and the next run re-plans from it.
    files.push({ path: MANIFEST_PATH, content: serializeManifest(plan.manifest), executable: false });
  }
  const targets = new Map<string, boolean>();
  const deleted = new Set(deletes.map((d) => d.change.path));
  const nonFolders = new Map<string, boolean>();
  for (const file of files) {
    targets.set(file.path, inspect(file.path).exists);
    for (const folder of parentFolders(file.path)) {
      if (deleted.has(folder)) continue;
      let nonFolder = nonFolders.get(folder);
      if (nonFolder === undefined) {
        nonFolder = isNonFolder(join(root.real, ...folder.split("/")));
        nonFolders.set(folder, nonFolder);
      }
      if (nonFolder) {
        throw new WriteError(`cannot write ${file.path}: ${folder} is a file, not a folder`, file.path);
      }
    }
  }

  const siblingName = siblingNamer();
  const undo: (() => Promise<void>)[] = [];
  const backups: string[] = [];
  /** Folders known to be there: made by this run or found by createFolders. */
  const present = new Set<string>();
  let step = "";
  try {
    step = `create the output folder ${root.shown}`;
    if (!root.exists) await createFolders(ops, root.real, undo, present);

    // Deletions first, so a folder may take the place of a file that is going away.
    for (const d of deletes) {
      step = `remove ${d.change.path}`;
      const backup = siblingName(d.absolute, "backup");
      await ops.rename(d.absolute, backup);
      undo.push(() => ops.rename(backup, d.absolute));
      backups.push(backup);
    }

    const staged: Staged[] = [];
    for (const file of files) {
      step = `write ${file.path}`;
      const absolute = join(root.real, ...file.path.split("/"));
      for (const folder of parentFolders(file.path)) {
        await createFolders(ops, join(root.real, ...folder.split("/")), undo, present);
      }
      const temp = siblingName(absolute, "tmp");
      await ops.createFile(temp, Buffer.from(file.content, "utf8"), file.executable ? 0o755 : 0o644);
      undo.push(() => ops.unlink(temp).catch(ignoreMissing));
      staged.push({ path: file.path, absolute, temp, existed: targets.get(file.path) ?? false });
    }

    for (const s of staged) {
      step = `write ${s.path}`;
      if (s.existed) {
        const backup = siblingName(s.absolute, "backup");
        await ops.rename(s.absolute, backup);
        undo.push(() => ops.rename(backup, s.absolute));
        backups.push(backup);
      }
      await ops.rename(s.temp, s.absolute);
      undo.push(() => ops.unlink(s.absolute));
    }
  } catch (error) {
    const failures = await rollBack(undo);
    const detail = failures.length === 0 ? "nothing was changed" : `restoring failed: ${failures.join("; ")}`;
    throw new WriteError(`could not ${step}: ${describe(error)}; ${detail}`);
  }

  // Committed: the backups are no longer needed, and a leftover one must not turn a
  // finished change into a reported failure.
  for (const backup of backups) await ops.unlink(backup).catch(() => undefined);
  for (const d of deletes) await pruneEmptyFolders(ops, root, d.change.path);

  const applied: AppliedChange[] = [
    ...writes.map((w) => ({ path: w.change.path, effect: "write" as const, change: w.change })),
    ...deletes.map((d) => ({ path: d.change.path, effect: "delete" as const, change: d.change })),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ok: true, applied, manifestWritten: plan.manifestChanged };
}

/** Something other than a folder is there (a file that a folder of ours would need to replace). */
function isNonFolder(absolute: string): boolean {
  try {
    return !statSync(absolute).isDirectory();
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw error;
  }
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== "ENOENT") throw error;
}

/**
 * mkdir -p that records each folder it made, so a rollback removes exactly those.
 * `present` remembers the folders already seen, so files sharing a folder look once.
 */
async function createFolders(
  ops: WriteOps,
  absolute: string,
  undo: (() => Promise<void>)[],
  present: Set<string>,
): Promise<void> {
  const missing: string[] = [];
  for (let current = absolute; ; current = dirname(current)) {
    if (present.has(current)) break;
    try {
      lstatSync(current);
      present.add(current);
      break;
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw error;
      missing.push(current);
      if (dirname(current) === current) break;
    }
  }
  for (const folder of missing.reverse()) {
    await ops.mkdir(folder);
    undo.push(() => ops.rmdir(folder));
    present.add(folder);
  }
}

async function rollBack(undo: (() => Promise<void>)[]): Promise<string[]> {
  const failures: string[] = [];
  for (const action of undo.reverse()) {
    try {
      await action();
    } catch (error) {
      failures.push(describe(error));
    }
  }
  return failures;
}

/** Removes the folders a deletion left empty, up to but never including the output folder. */
async function pruneEmptyFolders(ops: WriteOps, root: OutputRoot, path: string): Promise<void> {
  for (const folder of parentFolders(path).reverse()) {
    try {
      await ops.rmdir(join(root.real, ...folder.split("/")));
    } catch {
      // Not empty (or already gone): the folders above it are not empty either.
      return;
    }
  }
}
