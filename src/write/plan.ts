// Deciding what generate would do is pure: the manifest, the bytes on disk and the freshly
// rendered files in, one classified change per path out. generate, check, diff and
// --dry-run all read the same plan, so they cannot disagree about a file.
import type { RenderedFile } from "../render/index.js";
import { WriteError } from "./errors.js";
import { buildManifest, comparePaths, hashBytes, type Manifest, serializeManifest } from "./manifest.js";
import { checkOutputPath } from "./paths.js";

export type ChangeAction =
  /** Generated, not on disk. */
  | "create"
  /** On disk as last generated; generate would write different bytes. */
  | "update"
  /** On disk exactly as generate would write it. */
  | "unchanged"
  /** Recorded in the manifest, no longer generated, untouched since: deleted. */
  | "remove"
  /** Recorded in the manifest, but the bytes on disk are not the recorded ones: a person edited it. */
  | "hand-edited"
  /** On disk, unknown to the manifest, and different from what generate would write. */
  | "conflict";

export interface PlannedChange {
  path: string;
  action: ChangeAction;
  /** What generate would write; absent when the path is no longer generated. */
  file?: RenderedFile;
  /** The bytes on disk now, when there is a file. */
  current?: Uint8Array;
}

export interface CurrentState {
  /** The manifest found on disk, if any (already parsed and checked). */
  manifest?: Manifest;
  /** Bytes of every path of interest; undefined (or no entry) when no file is there. */
  filesOnDisk: ReadonlyMap<string, Uint8Array | undefined>;
}

export interface ChangePlan {
  /** One change per path generated now or recorded before, sorted by path. */
  changes: PlannedChange[];
  /** The manifest describing the rendered files. */
  manifest: Manifest;
  /** Whether the manifest on disk must be (re)written. */
  manifestChanged: boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function classifyGenerated(
  file: RenderedFile,
  onDisk: Uint8Array | undefined,
  recorded: string | undefined,
): ChangeAction {
  if (onDisk === undefined) return "create";
  if (sameBytes(onDisk, Buffer.from(file.content, "utf8"))) return "unchanged";
  if (recorded === undefined) return "conflict";
  return hashBytes(onDisk) === recorded ? "update" : "hand-edited";
}

export function planChanges(
  current: CurrentState,
  rendered: readonly RenderedFile[],
  meta: { version: string; descriptor: string },
): ChangePlan {
  const recorded = new Map((current.manifest?.files ?? []).map((f) => [f.path, f.sha256]));
  const generated = new Map<string, RenderedFile>();
  for (const file of rendered) {
    const unsafe = checkOutputPath(file.path);
    if (unsafe !== undefined) throw new WriteError(`output path ${JSON.stringify(file.path)} ${unsafe}`, file.path);
    if (generated.has(file.path)) throw new Error(`two generated files share the path ${file.path}`);
    generated.set(file.path, file);
  }

  const changes: PlannedChange[] = [];
  for (const path of new Set([...generated.keys(), ...recorded.keys()])) {
    const onDisk = current.filesOnDisk.get(path);
    const file = generated.get(path);
    const base = onDisk === undefined ? { path } : { path, current: onDisk };
    if (file !== undefined) {
      changes.push({ ...base, file, action: classifyGenerated(file, onDisk, recorded.get(path)) });
    } else if (onDisk !== undefined) {
      // No longer generated; already-deleted files need nothing.
      changes.push({ ...base, action: hashBytes(onDisk) === recorded.get(path) ? "remove" : "hand-edited" });
    }
  }
  changes.sort((a, b) => comparePaths(a.path, b.path));

  const manifest = buildManifest(meta, rendered);
  const manifestChanged =
    current.manifest === undefined || serializeManifest(current.manifest) !== serializeManifest(manifest);
  return { changes, manifest, manifestChanged };
}

/** Files a person changed (or owns) that generate would overwrite or delete. */
export function blockedChanges(plan: ChangePlan): PlannedChange[] {
  return plan.changes.filter((c) => c.action === "hand-edited" || c.action === "conflict");
}

/** What the writer does with a change: write the new bytes, delete the file, or nothing. */
export function effectOf(change: PlannedChange, force: boolean): "write" | "delete" | "none" {
  switch (change.action) {
    case "create":
    case "update":
      return "write";
    case "remove":
      return "delete";
    case "unchanged":
      return "none";
    case "hand-edited":
    case "conflict":
      if (!force) return "none";
      return change.file === undefined ? "delete" : "write";
  }
}

const LABELS: Record<ChangeAction, string> = {
  create: "create",
  update: "update",
  unchanged: "keep",
  remove: "remove",
  "hand-edited": "edited",
  conflict: "edited",
};

/** `create  compose.yaml`: a label padded to a column, then the path. */
export function formatChangeLine(label: string, path: string): string {
  return `${label.padEnd(7)} ${path}`;
}

/** The word --dry-run prints for a change: create, update, remove, keep or edited. */
export function labelOf(change: PlannedChange): string {
  return LABELS[change.action];
}

/** The --dry-run listing: every path, including the ones kept as they are. */
export function formatPlan(plan: ChangePlan): string[] {
  return plan.changes.map((c) => formatChangeLine(labelOf(c), c.path));
}
