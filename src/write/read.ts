// Gathers what the planner needs from disk: the manifest and the bytes at every path that
// is generated now or was generated before. Every read goes through the same checks as a
// write, so a symbolic link planted in the output folder is reported, not followed.
import { type Manifest, parseManifest } from "./manifest.js";
import { MANIFEST_PATH } from "./paths.js";
import type { CurrentState } from "./plan.js";
import { createInspector, inspectTarget, type OutputRoot, readTarget } from "./safety.js";

export interface DiskState extends CurrentState {
  /** Why the manifest on disk cannot be trusted, when it cannot. */
  manifestProblem?: string;
}

export async function readManifest(root: OutputRoot): Promise<{ manifest?: Manifest; problem?: string }> {
  const target = await inspectTarget(root, MANIFEST_PATH);
  if (!target.exists) return {};
  const text = Buffer.from(await readTarget(target)).toString("utf8");
  const parsed = parseManifest(text);
  return parsed.ok ? { manifest: parsed.manifest } : { problem: parsed.reason };
}

/**
 * Reads the manifest and the files at `paths` plus every path the manifest records.
 * An untrusted manifest is left out (its paths are not read) and reported in manifestProblem.
 */
export async function readCurrentState(root: OutputRoot, paths: readonly string[]): Promise<DiskState> {
  const { manifest, problem } = await readManifest(root);
  const filesOnDisk = new Map<string, Uint8Array | undefined>();
  const wanted = new Set([...paths, ...(manifest?.files.map((f) => f.path) ?? [])]);
  const inspect = createInspector(root);
  for (const path of [...wanted].sort()) {
    const target = inspect(path);
    filesOnDisk.set(path, target.exists ? await readTarget(target) : undefined);
  }
  const state: DiskState = { filesOnDisk };
  if (manifest !== undefined) state.manifest = manifest;
  if (problem !== undefined) state.manifestProblem = problem;
  return state;
}
