// What the wizard tests share: every file `generate` wrote into a folder, checked by its
// ecosystem's own tool (the checkers of VALIDATORS.md), by the kind its manifest records.
import { readFileSync } from "node:fs";
import { basename, join, posix, relative } from "node:path";
import { expect } from "vitest";
import type { FileKind } from "../src/kinds/types.js";
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
} from "./checkers/index.js";
import { repoRoot } from "./checkers/paths.js";

export interface ManifestEntry {
  path: string;
  kind: FileKind;
  sha256: string;
}

export function readManifestEntries(dir: string): ManifestEntry[] {
  const manifest = JSON.parse(readFileSync(join(dir, ".create-deploy", "manifest.json"), "utf8")) as { files: ManifestEntry[] };
  return manifest.files;
}

/** `KEY='value'` lines read without dotenv, so the round trip compares two independent readings. */
function parseSingleQuotedEnv(content: string): Record<string, string> {
  const values: Record<string, string> = {};
  content.split("\n").forEach((line, index) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)='([^']*)'$/.exec(line);
    expect(match, `line ${index + 1} is not KEY='value': ${line}`).not.toBeNull();
    if (match?.[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2];
  });
  return values;
}

const PRETTIER_FILE = /\.(md|ya?ml|json)$/;

/** Runs every checker over every file the manifest in `dir` lists; fails on the first finding. */
export async function checkGeneratedTree(dir: string): Promise<ManifestEntry[]> {
  const files = readManifestEntries(dir);
  expect(files.length).toBeGreaterThan(0);
  const read = (path: string): string => readFileSync(join(dir, path), "utf8");
  const siblingsOf = (file: ManifestEntry, keep: (other: ManifestEntry) => boolean): Record<string, string> => {
    const folder = posix.dirname(file.path);
    const result: Record<string, string> = {};
    for (const other of files) {
      if (other.path === file.path || !keep(other)) continue;
      const inside = folder === "." ? other.path : other.path.startsWith(`${folder}/`) ? other.path.slice(folder.length + 1) : undefined;
      if (inside !== undefined) result[inside] = read(other.path);
    }
    return result;
  };

  for (const file of files) {
    const content = read(file.path);
    const what = file.path;
    expect(content.includes("\r"), `${what} has CR characters`).toBe(false);
    expect(content.endsWith("\n") && !content.endsWith("\n\n"), `${what} ends with exactly one newline`).toBe(true);
    // Inside the repository, so prettier's path-based parser choice applies; defaults only, as outputs.test.ts does.
    if (PRETTIER_FILE.test(file.path)) expectClean(await checkPrettierClean(relative(repoRoot, join(dir, file.path)), content), what);
    switch (file.kind) {
      case "systemd-unit": {
        if (file.path.includes(".d/")) break; // drop-ins are verified with their unit, as its siblings
        const siblings = siblingsOf(file, (other) => other.kind === "systemd-unit");
        expectClean(await verifyUnit(basename(file.path), content, { siblings }), what);
        if (file.path.endsWith(".service")) {
          const security = await scoreUnitSecurity(basename(file.path), content);
          expectClean(security, what);
          if (security.skipped === undefined) expect(security.exposure, `${what} exposure`).toBeLessThanOrEqual(2.0);
        }
        break;
      }
      case "shell":
        expectClean(await checkBashSyntax(content), what);
        expectClean(await checkShellcheck(content), what);
        break;
      case "nftables":
        expectClean(await checkNftables(content, basename(file.path)), what);
        break;
      case "workflow":
        expectClean(await checkWorkflow(content, file.path), what);
        break;
      case "swarm-stack":
        expectClean(await checkSwarmStack(content, { name: basename(file.path), siblings: siblingsOf(file, () => true) }), what);
        break;
      case "dockerfile":
        expectClean(await checkDockerfile(content, { service: /^EXPOSE\s/m.test(content) }), what);
        break;
      case "compose":
        expectClean(await checkCompose(content), what);
        break;
      case "env":
        expectClean(await checkEnvRoundTrip(content, parseSingleQuotedEnv(content)), what);
        break;
      case "markdown":
      case "dockerignore":
      case "kubernetes":
      case "other":
        break;
    }
  }
  // Each node's overlay merged onto the base must still be a valid compose model.
  const base = files.find((f) => f.path === "compose.yaml");
  if (base !== undefined) {
    for (const overlay of files.filter((f) => /^compose\.[^/]+\.yaml$/.test(f.path))) {
      expectClean(await checkComposeMerge(read(base.path), [read(overlay.path)]), `${base.path} + ${overlay.path}`);
    }
  }
  return files;
}
