// The central promise, end to end: any descriptor the validator accepts yields files that
// all pass their ecosystems' checkers, byte for byte the same wherever and however often it
// is generated, with no secret value in them and every secret file kept out of git.
// Descriptors come from test/support/arbitrary-descriptor.ts, go through YAML and the real
// pipeline (load → validate → plan → render). E2E_RUNS and E2E_SEED widen the search locally.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { parse as parseYaml, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import type { Descriptor } from "../src/model/descriptor.js";
import { secretEnvName, secretFilePath } from "../src/model/derive.js";
import { buildFiles, type RenderedFile } from "../src/pipeline.js";
import { ComposeTagged, parseCompose } from "./checkers/index.js";
import { descriptorArb } from "./support/arbitrary-descriptor.js";
import {
  checkGeneratedFile,
  checkMerge,
  findComposeMerges,
  parseSingleQuotedEnv,
  type GeneratedTree,
} from "./support/generated-checks.js";

const RUNS = Number(process.env["E2E_RUNS"] ?? 25);
const SEED = Number(process.env["E2E_SEED"] ?? 20_251_122);
/** At least this share of generated descriptors must be accepted, or the property proves little. */
const MIN_ACCEPTED = 0.5;
/** Planted where secret values live on a deploying machine; generation must never copy it. */
const SENTINEL = "e2e-sentinel-9c41f7d2";

interface Generated {
  dir: string;
  result: Awaited<ReturnType<typeof buildFiles>>;
}

/** Writes deploy.yaml and planted secret values into a fresh folder, and builds the files from it. */
async function generateIn(prefix: string, yamlText: string, secrets: readonly string[]): Promise<Generated> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const config = join(dir, "deploy.yaml");
  await writeFile(config, yamlText);
  await mkdir(join(dir, "secrets"), { recursive: true });
  for (const name of secrets) await writeFile(join(dir, secretFilePath(name)), `${SENTINEL}-${name}\n`);
  await writeFile(join(dir, ".env"), `TOKEN=${SENTINEL}\n`);
  return { dir, result: await buildFiles(config, dir) };
}

async function writeOutput(dir: string, files: readonly RenderedFile[]): Promise<void> {
  for (const file of files) {
    await mkdir(dirname(join(dir, file.path)), { recursive: true });
    await writeFile(join(dir, file.path), file.content);
  }
}

/** The paths, of those given, that git would ignore in `dir`. */
function gitIgnored(dir: string, paths: readonly string[]): string[] {
  execFileSync("git", ["init", "-q", dir]);
  try {
    const out = execFileSync("git", ["-C", dir, "check-ignore", "--stdin"], { input: paths.join("\n"), encoding: "utf8" });
    return out.split("\n").filter((line) => line !== "");
  } catch (error) {
    // Exit status 1: none of the paths is ignored.
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

/** Variables of compose and stack services, which must point at secret files, never hold values. */
function serviceEnvironmentKeys(content: string): string[] {
  // Compose's own tags (!override, !reset) parse as tagged values.
  const doc = parseCompose(content).data as { services?: Record<string, { environment?: unknown }> } | null;
  return Object.values(doc?.services ?? {}).flatMap((service) => {
    const raw = service.environment;
    const env = raw instanceof ComposeTagged ? raw.value : raw;
    if (env === undefined) return [];
    if (env === null || typeof env !== "object") return [];
    return Array.isArray(env) ? env.map((entry) => String(entry).split("=")[0] ?? "") : Object.keys(env);
  });
}

/** Secret values stay where they are: out of every file, out of git, out of clear variables. */
async function expectNoSecretLeaks(descriptor: Descriptor, dir: string, files: readonly RenderedFile[]): Promise<void> {
  for (const file of files) expect(file.content.includes(SENTINEL), `${file.path} holds a planted secret value`).toBe(false);
  const secretFolderFiles = files.filter((file) => file.path.startsWith("secrets/")).map((file) => file.path);
  expect(secretFolderFiles, "nothing but the ignore file is generated into secrets/").toEqual(secretFolderFiles.length === 0 ? [] : ["secrets/.gitignore"]);

  const secrets = Object.entries(descriptor.secrets ?? {});
  if (secrets.length > 0) {
    const secretPaths = secrets.map(([name]) => secretFilePath(name));
    const committable = files.map((file) => file.path);
    const ignored = gitIgnored(dir, [...secretPaths, ...committable]);
    expect(ignored.filter((path) => secretPaths.includes(path)).sort(), "every secret file is git-ignored").toEqual([...secretPaths].sort());
    expect(ignored.filter((path) => committable.includes(path)), "generated files are committable").toEqual([]);
  }

  const secretVariables = new Set(secrets.map(([name, secret]) => secretEnvName(name, secret)));
  for (const file of files) {
    if (file.kind === "env") {
      const { values } = parseSingleQuotedEnv(file.content);
      for (const [key, value] of Object.entries(values)) {
        if (secretVariables.has(key)) expect(value, `${file.path} gives secret variable ${key} a value`).toBe("");
      }
    } else if (file.kind === "compose" || file.kind === "swarm-stack") {
      const clear = serviceEnvironmentKeys(file.content).filter((key) => secretVariables.has(key));
      expect(clear, `${file.path} sets secret variables in clear`).toEqual([]);
    }
  }
}

async function expectAllChecksPass(dir: string, files: readonly RenderedFile[]): Promise<void> {
  const tree: GeneratedTree = { dir, files: files.map(({ path, kind }) => ({ path, kind })) };
  // Checkers are separate processes: run them side by side.
  await Promise.all(tree.files.map((file) => checkGeneratedFile(tree, file)));
  await Promise.all(findComposeMerges(tree.files).map((merge) => checkMerge(tree, merge)));
}

function summarise(files: readonly RenderedFile[]): Array<[string, string, boolean]> {
  return files.map((file) => [file.path, file.content, file.executable]);
}

describe("end to end over generated descriptors", () => {
  it(
    `every accepted descriptor yields checker-clean, deterministic, secret-free files (${RUNS} runs, seed ${SEED})`,
    async () => {
      let attempts = 0;
      let accepted = 0;
      const refusals = new Map<string, number>();
      const kindsSeen = new Set<string>();
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(descriptorArb, async (plain) => {
          attempts++;
          const yamlText = stringify(plain);
          const secrets = Object.keys((plain["secrets"] as Record<string, unknown> | undefined) ?? {});
          const first = await generateIn("e2e-a-", yamlText, secrets);
          const dirs = [first.dir];
          try {
            if (!first.result.ok) {
              for (const p of first.result.problems) {
                const key = `${p.pointer.replace(/\/(services|nodes|secrets|volumes|networks|environments)\/[^/]+/g, "/$1/*").replace(/\/\d+/g, "/N")}: ${p.message.replace(/"[^"]*"|\d+/g, "…")}`;
                refusals.set(key, (refusals.get(key) ?? 0) + 1);
              }
              fc.pre(false);
              return;
            }
            accepted++;
            const { files, descriptor } = first.result;
            for (const file of files) kindsSeen.add(file.kind);
            try {
              const second = await generateIn("e2e-b-", yamlText, secrets);
              dirs.push(second.dir);
              expect(second.result.ok, "the same descriptor is accepted twice").toBe(true);
              if (second.result.ok) expect(summarise(second.result.files), "generation is byte-deterministic").toEqual(summarise(files));
              await writeOutput(first.dir, files);
              await expectAllChecksPass(first.dir, files);
              await expectNoSecretLeaks(descriptor, first.dir, files);
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              throw new Error(`${message}\n--- deploy.yaml ---\n${yamlText}`, { cause: error });
            }
          } finally {
            await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: process.env["E2E_SHRINK"] !== "1" },
      );
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (process.env["E2E_REPORT"] === "1") {
        const top = [...refusals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
        console.log(`e2e: ${accepted}/${attempts} accepted in ${seconds}s; kinds: ${[...kindsSeen].sort().join(", ")}\n${top.map(([k, n]) => `${n}\t${k}`).join("\n")}`);
      }
      expect(accepted / attempts, `${accepted} of ${attempts} generated descriptors were accepted`).toBeGreaterThanOrEqual(MIN_ACCEPTED);
    },
    Math.max(300_000, RUNS * 20_000),
  );
});

describe("the descriptor arbitrary", () => {
  it("round-trips through YAML unchanged, so the pipeline reads exactly what was generated", async () => {
    await fc.assert(
      fc.asyncProperty(descriptorArb, async (plain) => {
        expect(parseYaml(stringify(plain))).toEqual(plain);
      }),
      { numRuns: 50, seed: SEED },
    );
  });

  it("covers every target, firewall backend, overlay mode and service platform", () => {
    const samples = fc.sample(descriptorArb, { numRuns: 300, seed: SEED });
    const seen = new Set<string>();
    for (const d of samples) {
      const targets = (d["targets"] ?? {}) as Record<string, Record<string, unknown>>;
      for (const name of Object.keys(targets)) seen.add(`target:${name}`);
      if (targets["firewall"]) seen.add(`backend:${String(targets["firewall"]["backend"])}`);
      if (targets["compose"]) seen.add(`overlays:${String(targets["compose"]["overlays"])}`);
      for (const service of Object.values((d["services"] ?? {}) as Record<string, Record<string, unknown>>)) {
        seen.add(`platform:${String(service["platform"] ?? "container")}`);
        const build = service["build"] as Record<string, unknown> | undefined;
        if (build) seen.add(`runtime:${String(build["runtime"])}`);
      }
    }
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        "backend:firewalld",
        "backend:nftables",
        "backend:ufw",
        "overlays:none",
        "overlays:nodes",
        "platform:container",
        "platform:systemd",
        "runtime:generic",
        "runtime:node",
        "runtime:python",
        "target:compose",
        "target:docker",
        "target:docs",
        "target:env",
        "target:firewall",
        "target:github",
        "target:swarm",
        "target:systemd",
      ]),
    );
  });
});
