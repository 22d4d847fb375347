// Regeneration through the built command line, on a copy of every example: the promises
// of the manifest (identical output, hand edits never clobbered, obsolete files removed).
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, copyExample, EXAMPLES, hashTree, readManifestFile, REPO, runCli } from "./support/bin.js";

const KINDS = [
  "dockerfile",
  "dockerignore",
  "compose",
  "swarm-stack",
  "systemd-unit",
  "env",
  "shell",
  "nftables",
  "workflow",
  "markdown",
  "kubernetes",
  "other",
];

const dirs: string[] = [];
async function example(name: string): Promise<string> {
  const dir = await copyExample(name);
  dirs.push(dir);
  return dir;
}

beforeAll(() => {
  assertBuilt();
});
afterAll(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

// Each test works in its own copy, so they run side by side.
describe.concurrent.each(EXAMPLES)("%s", (name) => {
  it("generates a manifest of every file, and the same bytes again on a second run", async () => {
    const dir = await example(name);
    const first = await runCli(["generate"], dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);

    const manifest = await readManifestFile(dir);
    const version = (JSON.parse(await fs.readFile(join(REPO, "package.json"), "utf8")) as { version: string }).version;
    expect(Object.keys(manifest)).toEqual(["generator", "version", "descriptor", "files"]);
    expect(manifest).toMatchObject({ generator: "create-deploy", version, descriptor: "deploy.yaml" });
    expect(manifest.files.length).toBeGreaterThan(0);
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toEqual([...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const entry of manifest.files) {
      expect(Object.keys(entry)).toEqual(["path", "kind", "sha256"]);
      expect(KINDS).toContain(entry.kind);
      expect(sha256(await fs.readFile(join(dir, entry.path))), entry.path).toBe(entry.sha256);
      expect(first.stdout).toContain(`create  ${entry.path}\n`);
    }
    const text = await fs.readFile(join(dir, ".create-deploy", "manifest.json"), "utf8");
    expect(text).toBe(JSON.stringify(manifest, null, 2) + "\n");

    const tree = await hashTree(dir);
    const second = await runCli(["generate"], dir);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/^(create|update|remove) /mu);
    expect(await hashTree(dir)).toEqual(tree);

    const check = await runCli(["check"], dir);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  it("never overwrites a hand-edited file without --force, and check reports it", async () => {
    const dir = await example(name);
    expect((await runCli(["generate"], dir)).code).toBe(0);
    const { files } = await readManifestFile(dir);
    const target = files[files.length - 1]!.path;
    const original = await fs.readFile(join(dir, target));
    await fs.appendFile(join(dir, target), "# a line added by hand\n");
    const edited = await hashTree(dir);

    const check = await runCli(["check"], dir);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`edited  ${target}\n`);

    const refused = await runCli(["generate"], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`edited  ${target}\n`);
    expect(refused.stderr).toContain("--force");
    expect(await hashTree(dir)).toEqual(edited);

    const dryRun = await runCli(["generate", "--dry-run"], dir);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`edited  ${target}\n`);
    expect(await hashTree(dir)).toEqual(edited);

    const forced = await runCli(["generate", "--force"], dir);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`update  ${target}\n`);
    expect(await fs.readFile(join(dir, target))).toEqual(original);
    expect((await runCli(["check"], dir)).code).toBe(0);
  });

  it("recreates a deleted file, which check reports as missing", async () => {
    const dir = await example(name);
    expect((await runCli(["generate"], dir)).code).toBe(0);
    const tree = await hashTree(dir);
    const target = (await readManifestFile(dir)).files[0]!.path;
    await fs.rm(join(dir, target));
    const check = await runCli(["check"], dir);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`missing ${target}\n`);
    const again = await runCli(["generate"], dir);
    expect(again.stdout).toContain(`create  ${target}\n`);
    expect(await hashTree(dir)).toEqual(tree);
  });

  it("writes nothing on --dry-run", async () => {
    const dir = await example(name);
    const before = await hashTree(dir);
    const run = await runCli(["generate", "--dry-run"], dir);
    expect(run.code).toBe(0);
    expect(lines(run.stdout).filter((l) => l.startsWith("create  ")).length).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/nothing written/u);
    expect(await hashTree(dir)).toEqual(before);
  });

  it("updates what a descriptor change touches; check calls it stale and diff shows it", async () => {
    const dir = await example(name);
    expect((await runCli(["generate"], dir)).code).toBe(0);
    const doc = parseDocument(await fs.readFile(join(dir, "deploy.yaml"), "utf8"));
    doc.set("description", "A description changed for the test");
    await fs.writeFile(join(dir, "deploy.yaml"), doc.toString());
    const before = await hashTree(dir);

    const dryRun = await runCli(["generate", "--dry-run"], dir);
    const updated = lines(dryRun.stdout)
      .filter((l) => l.startsWith("update  "))
      .map((l) => l.slice(8));
    expect(updated.length).toBeGreaterThan(0);

    const check = await runCli(["check"], dir);
    expect(check.code).toBe(1);
    for (const path of updated) expect(check.stderr).toContain(`stale   ${path}\n`);

    const diff = await runCli(["diff"], dir);
    expect(diff.code).toBe(0);
    for (const path of updated) expect(diff.stdout).toContain(`--- a/${path}\n+++ b/${path}\n@@ `);
    expect(diff.stdout).toMatch(/^\+.*A description changed for the test/mu);
    expect(await hashTree(dir)).toEqual(before);

    expect((await runCli(["generate"], dir)).code).toBe(0);
    expect((await runCli(["check"], dir)).code).toBe(0);
    expect((await runCli(["diff"], dir)).stdout).toBe("");
  });
});

describe("removing a service", () => {
  it("removes the files generated for it and only those", async () => {
    const plannedPaths = (run: { stdout: string }): string[] =>
      lines(run.stdout)
        .filter((l) => /^(create|keep) {2,4}/u.test(l))
        .map((l) => l.slice(8));
    // Find a service whose removal leaves a valid descriptor and takes some files with it.
    let found: { name: string; trimmed: string; gone: string[]; kept: string[] } | undefined;
    const scratch = await example("mlops-api");
    search: for (const name of EXAMPLES) {
      const source = await fs.readFile(join(REPO, "examples", name, "deploy.yaml"), "utf8");
      await fs.writeFile(join(scratch, "deploy.yaml"), source);
      const all = plannedPaths(await runCli(["generate", "--dry-run"], scratch));
      for (const service of Object.keys((parseDocument(source).toJS() as { services: object }).services)) {
        const doc = parseDocument(source);
        doc.deleteIn(["services", service]);
        await fs.writeFile(join(scratch, "deploy.yaml"), doc.toString());
        const run = await runCli(["generate", "--dry-run"], scratch);
        if (run.code !== 0) continue;
        const kept = plannedPaths(run);
        const gone = all.filter((p) => !kept.includes(p));
        if (gone.length > 0) {
          found = { name, trimmed: doc.toString(), gone, kept };
          break search;
        }
      }
    }
    expect(found, "no example has a service with files of its own").toBeDefined();
    const { name, trimmed, gone, kept } = found!;

    const dir = await example(name);
    expect((await runCli(["generate"], dir)).code).toBe(0);
    await fs.writeFile(join(dir, "deploy.yaml"), trimmed);
    const run = await runCli(["generate"], dir);
    expect(run.code).toBe(0);
    for (const path of gone) {
      expect(run.stdout).toContain(`remove  ${path}\n`);
      await expect(fs.access(join(dir, path))).rejects.toThrow();
    }
    for (const path of kept) await expect(fs.access(join(dir, path))).resolves.toBeUndefined();
    const manifest = await readManifestFile(dir);
    expect(manifest.files.map((f) => f.path)).toEqual([...kept].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect((await runCli(["check"], dir)).code).toBe(0);
  }, 300_000);
});
