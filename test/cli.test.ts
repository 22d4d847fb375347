// The command-line contract, checked on the built bin from outside: commands, flags,
// exit codes, and what a user sees when something is wrong.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { badInputCases } from "./bad-input.cases.js";
import { assertBuilt, copyExample, EXAMPLES, hashTree, readManifestFile, REPO, runCli } from "./support/bin.js";

const dirs: string[] = [];
async function track(dir: string): Promise<string> {
  dirs.push(dir);
  return dir;
}
async function emptyDir(): Promise<string> {
  return track(await fs.realpath(await fs.mkdtemp(join(tmpdir(), "create-deploy-cli-"))));
}
async function example(name: string): Promise<string> {
  return track(await copyExample(name));
}

beforeAll(() => {
  assertBuilt();
});
afterAll(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

const NO_STACK = /^\s+at /mu;

describe("help and version", () => {
  it("prints the package version", async () => {
    const { version } = JSON.parse(await fs.readFile(join(REPO, "package.json"), "utf8")) as { version: string };
    const run = await runCli(["--version"], await emptyDir());
    expect(run).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("prints the usage of every command", async () => {
    const dir = await emptyDir();
    const contract = [
      "create-deploy                      # in a terminal with no deploy.yaml: the wizard",
      "create-deploy init [--yes] [--preset NAME] [--name NAME] [--dir DIR]",
      "create-deploy generate [--config FILE] [--out DIR] [--dry-run] [--force]",
      "create-deploy check    [--config FILE] [--out DIR]",
      "create-deploy diff     [--config FILE] [--out DIR]",
      "create-deploy validate [--config FILE]",
      "create-deploy --help | --version",
    ];
    for (const args of [["--help"], ["-h"], ["generate", "--help"]]) {
      const run = await runCli(args, dir);
      expect(run.code, args.join(" ")).toBe(0);
      for (const line of contract) expect(run.stdout).toContain(line);
    }
  });
});

describe("start-up", () => {
  it("keeps plop and every prompt library out of the bundle: reached only through the on-demand import", async () => {
    const bundle = await fs.readFile(join(REPO, "dist", "cli.cjs"), "utf8");
    // What the bundle loads as it starts: Node's own modules, nothing else.
    const required = new Set([...bundle.matchAll(/\brequire\("([^"]+)"\)/gu)].map((m) => m[1]!));
    expect(required).toContain("node:fs");
    expect([...required].filter((s) => !s.startsWith("node:"))).toEqual([]);
    // One import() in all of it: the default of src/dynamic-import.ts, which the bin replaces.
    expect([...bundle.matchAll(/\bimport\((?!\))/gu)]).toHaveLength(1);
    expect(bundle).toMatch(/importModule\("node-plop"\)/u);
    expect(bundle).not.toMatch(/inquirer/u);
  });
});

describe.concurrent("usage errors", () => {
  it.each([
    [["generate", "--bogus"], "--bogus"],
    [["generate", "--config"], "--config"],
    [["generate", "--config="], "--config"],
    [["check", "--out"], "--out"],
    [["generate", "--force=yes"], "--force"],
    [["validate", "--out", "x"], "--out"],
    [["validate", "extra"], "extra"],
    [["frobnicate"], "frobnicate"],
    [["--bogus"], "--bogus"],
    [["generate", "--version"], "--version"],
  ])("%j exits 2 naming %s, in one line, pointing at --help", async (args, named) => {
    const dir = await example("mlops-api");
    const before = await hashTree(dir);
    const run = await runCli(args, dir);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain(named);
    expect(run.stderr).toContain("--help");
    expect(await hashTree(dir)).toEqual(before);
  });
});

describe("validate", () => {
  it.each(EXAMPLES)("accepts examples/%s", async (name) => {
    const dir = await example(name);
    const run = await runCli(["validate"], dir);
    expect(run).toEqual({ code: 0, stdout: "deploy.yaml: valid\n", stderr: "" });
  });

  it("finds deploy.yml too, and a descriptor named with --config", async () => {
    const dir = await example("mlops-api");
    await fs.rename(join(dir, "deploy.yaml"), join(dir, "deploy.yml"));
    expect((await runCli(["validate"], dir)).stdout).toBe("deploy.yml: valid\n");
    await fs.mkdir(join(dir, "ops"));
    await fs.rename(join(dir, "deploy.yml"), join(dir, "ops", "api.yaml"));
    expect((await runCli(["validate", "--config", "ops/api.yaml"], dir)).stdout).toBe("ops/api.yaml: valid\n");
  });

  it("prints each problem as file:line:col path: message, never a stack, and exits 1", async () => {
    const dir = await example("mlops-api");
    const doc = parseDocument(await fs.readFile(join(dir, "deploy.yaml"), "utf8"));
    doc.setIn(["services", "api", "ports", 0, "port"], 70000);
    await fs.writeFile(join(dir, "deploy.yaml"), doc.toString());
    const before = await hashTree(dir);
    for (const command of ["validate", "generate", "check", "diff"]) {
      const run = await runCli([command], dir);
      expect(run.code, command).toBe(1);
      expect(run.stderr).toMatch(/^deploy\.yaml:\d+:\d+ services\.api\.ports\[0\]\.port: /mu);
      expect(run.stderr).not.toMatch(NO_STACK);
    }
    expect(await hashTree(dir)).toEqual(before);
  });

  it("says how to start when there is no descriptor", async () => {
    const dir = await emptyDir();
    for (const command of ["validate", "generate", "check", "diff"]) {
      const run = await runCli([command], dir);
      expect(run.code, command).toBe(1);
      expect(run.stderr).toContain("create-deploy init");
    }
    expect((await runCli(["generate", "--config", "nope.yaml"], dir)).stderr).toContain("nope.yaml: file not found");
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

// Each case works in its own folder, so they run side by side.
describe.concurrent("bad input through the command line", () => {
  it.each(badInputCases.map((c) => [c.name, c] as const))(
    "refuses %s: exit 1, the field named, nothing written",
    async (_, c) => {
      const dir = await emptyDir();
      await fs.writeFile(join(dir, "deploy.yaml"), c.yaml, "utf8");
      const before = await hashTree(dir);
      const run = await runCli(["generate"], dir);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      const prefix = `deploy.yaml:${c.line ?? "\\d+"}:\\d+ `;
      const problem = run.stderr
        .split("\n")
        .find(
          (line) =>
            new RegExp(`^${prefix}`, "u").test(line) &&
            line.includes(` ${c.field}: `) &&
            (c.messageIncludes === undefined || line.includes(c.messageIncludes)),
        );
      expect(problem, run.stderr).toBeDefined();
      expect(run.stderr).not.toMatch(NO_STACK);
      expect(await hashTree(dir)).toEqual(before);
    },
  );
});

describe("with no command", () => {
  it("suggests generate when a deploy.yaml is there, writing nothing", async () => {
    const dir = await example("genui");
    const run = await runCli([], dir);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("create-deploy generate");
    expect(await fs.readdir(dir)).toEqual(["deploy.yaml"]);
  });

  it("takes init's flags to init: `create-deploy --yes` writes deploy.yaml and generates", async () => {
    const dir = await emptyDir();
    const run = await runCli(["--yes", "--preset", "mlops-api", "--name", "demo"], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^create {2}/mu);
    expect((await runCli(["check"], dir)).code).toBe(0);
    const manifest = await readManifestFile(dir);
    expect(manifest.descriptor).toBe("deploy.yaml");
  });

  it("is a usage error without a terminal and without a deploy.yaml", async () => {
    const dir = await emptyDir();
    const run = await runCli([], dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("init --yes");
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

describe("--config and --out", () => {
  it("writes into the descriptor's folder by default and records the descriptor relative to the output", async () => {
    const dir = await emptyDir();
    await fs.mkdir(join(dir, "ops"));
    await fs.copyFile(join(REPO, "examples", "mlops-api", "deploy.yaml"), join(dir, "ops", "deploy.yaml"));
    expect((await runCli(["generate", "--config", "ops/deploy.yaml"], dir)).code).toBe(0);
    expect((await readManifestFile(join(dir, "ops"))).descriptor).toBe("deploy.yaml");
    expect((await runCli(["check", "--config", "ops/deploy.yaml"], dir)).code).toBe(0);

    const out = await runCli(["generate", "--config", "ops/deploy.yaml", "--out", "build/deploy"], dir);
    expect(out.code).toBe(0);
    expect((await readManifestFile(join(dir, "build", "deploy"))).descriptor).toBe("../../ops/deploy.yaml");
    expect((await runCli(["check", "--config", "ops/deploy.yaml", "--out", "build/deploy"], dir)).code).toBe(0);
  });

  it("refuses an output folder that is a symbolic link leading outside", async () => {
    const dir = await example("mlops-api");
    const outside = await emptyDir();
    await fs.symlink(outside, join(dir, "out"));
    const run = await runCli(["generate", "--out", "out"], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/output folder out .*symbolic link/u);
    expect(run.stderr).not.toMatch(NO_STACK);
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it("refuses to write through a generated file that is a symbolic link", async () => {
    const dir = await example("mlops-api");
    expect((await runCli(["generate"], dir)).code).toBe(0);
    const target = (await readManifestFile(dir)).files[0]!.path;
    const outside = join(await emptyDir(), "precious");
    await fs.writeFile(outside, "precious\n");
    await fs.rm(join(dir, target));
    await fs.symlink(outside, join(dir, target));
    for (const args of [["generate"], ["generate", "--force"], ["check"]]) {
      const run = await runCli(args, dir);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toContain(`${target} is a symbolic link`);
    }
    expect(await fs.readFile(outside, "utf8")).toBe("precious\n");
  });
});

describe("generate output", () => {
  it("lists each change and ends with a summary; a dry run lists kept files too", async () => {
    const dir = await example("mlops-api");
    const first = await runCli(["generate"], dir);
    const created = first.stdout.split("\n").filter((l) => l.startsWith("create  "));
    expect(created.length).toBeGreaterThan(0);
    expect(first.stdout.trimEnd().split("\n").at(-1)).toMatch(new RegExp(`${created.length} created, 0 updated`, "u"));
    const dry = await runCli(["generate", "--dry-run"], dir);
    expect(dry.stdout.split("\n").filter((l) => l.startsWith("keep    "))).toHaveLength(created.length);
  });

  it("writes a diff that git apply turns into exactly what generate writes", async () => {
    const dir = await example("mlops-api");
    expect((await runCli(["generate"], dir)).code).toBe(0);
    // Renaming the service removes one Dockerfile, adds another and updates other files.
    const descriptor = await fs.readFile(join(dir, "deploy.yaml"), "utf8");
    await fs.writeFile(join(dir, "deploy.yaml"), descriptor.replace("\n  api:\n", "\n  server:\n"));
    const diff = await runCli(["diff"], dir);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain("--- /dev/null\n+++ b/docker/server.Dockerfile\n");
    expect(diff.stdout).toContain("--- a/docker/api.Dockerfile\n+++ /dev/null\n");

    const applied = await emptyDir();
    await fs.cp(dir, applied, { recursive: true });
    const git = spawnSync("git", ["apply", "--whitespace=nowarn", "-"], { cwd: applied, input: `${diff.stdout}\n`, encoding: "utf8" });
    expect(git.status, git.stderr).toBe(0);
    expect((await runCli(["generate"], dir)).code).toBe(0);
    const withoutManifest = (tree: Record<string, string>) =>
      Object.fromEntries(Object.entries(tree).filter(([path]) => !path.startsWith(".create-deploy")));
    expect(withoutManifest(await hashTree(applied))).toEqual(withoutManifest(await hashTree(dir)));
  });

  it("shows removals in diff as whole-file deletions", async () => {
    const dir = await example("mlops-api");
    expect((await runCli(["generate"], dir)).code).toBe(0);
    const manifestPath = join(dir, ".create-deploy", "manifest.json");
    const manifest = await readManifestFile(dir);
    // A file recorded as generated but no longer planned: generate would remove it.
    await fs.writeFile(join(dir, "old.txt"), "one\ntwo\n");
    manifest.files.push({
      path: "old.txt",
      kind: "other",
      sha256: createHash("sha256").update("one\ntwo\n").digest("hex"),
    });
    manifest.files.sort((a, b) => (a.path < b.path ? -1 : 1));
    await fs.writeFile(manifestPath, JSON.stringify(manifest, null, 2) + "\n");
    const diff = await runCli(["diff"], dir);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toBe("--- a/old.txt\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-one\n-two\n");
    expect((await runCli(["generate"], dir)).stdout).toContain("remove  old.txt\n");
    await expect(fs.access(join(dir, "old.txt"))).rejects.toThrow();
  });
});
