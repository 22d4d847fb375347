// The manifest records what generate last wrote and the hash of each file, so the next
// run can tell a file it may replace from one a person changed. Its format is part of the
// command-line contract: key order, 2-space indentation and the final newline are fixed.
import { createHash } from "node:crypto";
import type { FileKind } from "../kinds/types.js";
import { checkOutputPath, MANIFEST_PATH } from "./paths.js";

export interface ManifestEntry {
  path: string;
  kind: FileKind;
  sha256: string;
}

export interface Manifest {
  generator: "create-deploy";
  version: string;
  /** The descriptor relative to the output folder, forward slashes. */
  descriptor: string;
  /** Sorted by path. */
  files: ManifestEntry[];
}

/** The facts of a generated file the manifest keeps. */
export interface ManifestSource {
  path: string;
  kind: FileKind;
  content: string;
}

const KINDS: Record<FileKind, true> = {
  dockerfile: true,
  dockerignore: true,
  compose: true,
  "swarm-stack": true,
  "systemd-unit": true,
  env: true,
  shell: true,
  nftables: true,
  workflow: true,
  markdown: true,
  kubernetes: true,
  other: true,
};

function isFileKind(value: unknown): value is FileKind {
  return typeof value === "string" && Object.hasOwn(KINDS, value);
}

/** Hex SHA-256 of bytes, or of a string's UTF-8 encoding (what the writer puts on disk). */
export function hashBytes(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** Plain code-unit order, not locale order: the manifest must not depend on the machine. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function buildManifest(
  meta: { version: string; descriptor: string },
  files: readonly ManifestSource[],
): Manifest {
  return {
    generator: "create-deploy",
    version: meta.version,
    descriptor: meta.descriptor,
    files: files
      .map((f) => ({ path: f.path, kind: f.kind, sha256: hashBytes(f.content) }))
      .sort((a, b) => comparePaths(a.path, b.path)),
  };
}

export function serializeManifest(manifest: Manifest): string {
  // Rebuilt field by field so the key order is the contract's, whatever object came in.
  const ordered = {
    generator: manifest.generator,
    version: manifest.version,
    descriptor: manifest.descriptor,
    files: manifest.files.map((f) => ({ path: f.path, kind: f.kind, sha256: f.sha256 })),
  };
  return JSON.stringify(ordered, null, 2) + "\n";
}

export type ManifestParse = { ok: true; manifest: Manifest } | { ok: false; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads a manifest found on disk. Anything off (a path outside the output folder, an unknown
 * kind, a malformed hash) makes the whole manifest untrusted: a tampered record must never
 * steer a deletion.
 */
export function parseManifest(text: string): ManifestParse {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `${MANIFEST_PATH} is not JSON (${(error as Error).message})` };
  }
  const fail = (what: string): ManifestParse => ({ ok: false, reason: `${MANIFEST_PATH}: ${what}` });
  if (!isRecord(data)) return fail("must be a JSON object");
  if (data.generator !== "create-deploy") return fail('"generator" must be "create-deploy"');
  if (typeof data.version !== "string") return fail('"version" must be a string');
  if (typeof data.descriptor !== "string") return fail('"descriptor" must be a string');
  if (!Array.isArray(data.files)) return fail('"files" must be an array');
  const files: ManifestEntry[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of data.files.entries()) {
    if (!isRecord(entry)) return fail(`files[${i}] must be an object`);
    const { path, kind, sha256 } = entry;
    if (typeof path !== "string") return fail(`files[${i}].path must be a string`);
    const unsafe = checkOutputPath(path);
    if (unsafe !== undefined) return fail(`files[${i}].path ${JSON.stringify(path)} ${unsafe}`);
    if (seen.has(path)) return fail(`files[${i}].path ${JSON.stringify(path)} is listed twice`);
    seen.add(path);
    if (!isFileKind(kind)) return fail(`files[${i}].kind ${JSON.stringify(kind)} is not a known kind`);
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/u.test(sha256)) {
      return fail(`files[${i}].sha256 must be 64 lowercase hex digits`);
    }
    files.push({ path, kind, sha256 });
  }
  return {
    ok: true,
    manifest: { generator: "create-deploy", version: data.version, descriptor: data.descriptor, files },
  };
}
