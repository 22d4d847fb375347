// Every file generated for every example passes its ecosystem's own checker. The files
// come from each example's committed output, listed (with their kinds) by its manifest.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join, posix, relative } from "node:path";
import { describe, expect, it } from "vitest";
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

interface GeneratedFile {
  path: string;
  kind: FileKind;
}

interface ExampleOutput {
  example: string;
  /** The folder the manifest's paths are relative to. */
  dir: string;
  files: GeneratedFile[];
}

const examplesDir = join(repoRoot, "examples");

/** Output committed in `expected/`, or beside deploy.yaml as `generate` leaves a repository. */
function findOutputs(): ExampleOutput[] {
  const outputs: ExampleOutput[] = [];
  for (const example of readdirSync(examplesDir).sort()) {
    for (const dir of [join(examplesDir, example, "expected"), join(examplesDir, example)]) {
      const manifestPath = join(dir, ".create-deploy", "manifest.json");
      if (!existsSync(manifestPath)) continue;
      const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { files: GeneratedFile[] };
      outputs.push({ example, dir, files: manifest.files });
      break;
    }
  }
  return outputs;
}

const outputs = findOutputs();

/**
 * `KEY='value'` lines, read without dotenv so the round-trip check compares two independent
 * readings. Anything else that is not blank or a comment is reported.
 */
function parseSingleQuotedEnv(content: string): { values: Record<string, string>; problems: string[] } {
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

function read(output: ExampleOutput, path: string): string {
  return readFileSync(join(output.dir, path), "utf8");
}

/** Files of the same kind under `folder`, keyed by their path relative to it. */
function filesUnder(output: ExampleOutput, folder: string, keep: (file: GeneratedFile) => boolean): Record<string, string> {
  const result: Record<string, string> = {};
  for (const file of output.files) {
    if (!keep(file)) continue;
    const inside = folder === "." ? file.path : file.path.startsWith(`${folder}/`) ? file.path.slice(folder.length + 1) : null;
    if (inside !== null) result[inside] = read(output, file.path);
  }
  return result;
}

async function checkSystemdUnit(output: ExampleOutput, file: GeneratedFile, content: string): Promise<void> {
  const folder = posix.dirname(file.path);
  // Units of one example are verified together: they may refer to each other, and drop-ins apply to their unit.
  const siblings = filesUnder(output, folder, (other) => other.kind === "systemd-unit" && other.path !== file.path);
  const dropIn = DROP_IN.exec(file.path);
  if (dropIn) {
    const unitName = dropIn[2] ?? "";
    const unitFolder = posix.dirname(posix.dirname(file.path));
    const prefix = unitFolder === "." ? "" : `${unitFolder}/`;
    if (output.files.some((other) => other.path === `${prefix}${unitName}`)) return; // verified with its unit
    // A drop-in for a unit installed by someone else: its keys are still parsed, against a unit of that name.
    const dropIns = filesUnder(output, unitFolder, (other) => other.path.startsWith(`${prefix}${unitName}.d/`));
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
const checksByKind: Record<FileKind, (output: ExampleOutput, file: GeneratedFile, content: string) => Promise<void>> = {
  "systemd-unit": checkSystemdUnit,
  shell: async (_output, file, content) => {
    expectClean(await checkBashSyntax(content), file.path);
    expectClean(await checkShellcheck(content), file.path);
  },
  nftables: async (_output, file, content) => expectClean(await checkNftables(content, basename(file.path)), file.path),
  workflow: async (_output, file, content) => expectClean(await checkWorkflow(content, file.path), file.path),
  "swarm-stack": async (output, file, content) => {
    const folder = posix.dirname(file.path);
    const siblings = filesUnder(output, folder, (other) => other.path !== file.path);
    expectClean(await checkSwarmStack(content, { name: basename(file.path), siblings }), file.path);
  },
  // A service image (one that listens: EXPOSE) must also say how to tell it is healthy.
  dockerfile: async (_output, file, content) =>
    expectClean(await checkDockerfile(content, { service: /^EXPOSE\s/m.test(content) }), file.path),
  compose: async (_output, file, content) => expectClean(await checkCompose(content), file.path),
  env: async (_output, file, content) => checkEnvFile(file, content),
  markdown: async () => undefined,
  dockerignore: async () => undefined,
  kubernetes: async () => undefined,
  other: async () => undefined,
};

/** Each overlay `compose.<role>.yaml` with the `compose.yaml` beside it. */
function findComposeMerges(output: ExampleOutput): { base: string; overlay: string }[] {
  const composeFiles = output.files.filter((file) => file.kind === "compose");
  return composeFiles.flatMap((base) =>
    /^compose\.ya?ml$/.test(posix.basename(base.path))
      ? composeFiles
          .filter((file) => posix.dirname(file.path) === posix.dirname(base.path) && COMPOSE_OVERLAY.test(posix.basename(file.path)))
          .map((overlay) => ({ base: base.path, overlay: overlay.path }))
      : [],
  );
}

describe("generated files pass their ecosystems' checkers", () => {
  it("at least one example has generated output to check", () => {
    expect(
      outputs.map((output) => output.example),
      "no examples/*/.create-deploy/manifest.json (or examples/*/expected/…): generate the golden output first",
    ).not.toEqual([]);
  });

  for (const output of outputs) {
    describe(output.example, () => {
      it("lists at least one generated file", () => {
        expect(output.files.length, relative(repoRoot, output.dir)).toBeGreaterThan(0);
      });

      for (const file of output.files) {
        it(`${file.path} (${file.kind})`, async () => {
          const content = read(output, file.path);
          // Byte-deterministic text: LF line ends and exactly one final newline.
          expect(content.includes("\r"), `${file.path} has CR characters`).toBe(false);
          expect(content.endsWith("\n") && !content.endsWith("\n\n"), `${file.path} ends with exactly one newline`).toBe(true);
          if (PRETTIER_FILE.test(file.path)) {
            expectClean(await checkPrettierClean(relative(repoRoot, join(output.dir, file.path)), content), file.path);
          }
          await checksByKind[file.kind](output, file, content);
        });
      }

      for (const merge of findComposeMerges(output)) {
        it(`${merge.base} + ${merge.overlay} merge to a valid compose model`, async () => {
          expectClean(await checkComposeMerge(read(output, merge.base), [read(output, merge.overlay)]), `${merge.base} + ${merge.overlay}`);
        });
      }
    });
  }
});

describe("outputs test helpers", () => {
  it("reads KEY='value' lines and reports any other line", () => {
    expect(parseSingleQuotedEnv("# profile\n\nA='x y'\nB=''\nC=plain\n")).toEqual({
      values: { A: "x y", B: "" },
      problems: ["line 5 is not KEY='value': C=plain"],
    });
  });

  it("pairs compose.yaml with the overlays beside it only", () => {
    const output: ExampleOutput = {
      example: "sample",
      dir: dirname(examplesDir),
      files: [
        { path: "compose.yaml", kind: "compose" },
        { path: "compose.worker.yaml", kind: "compose" },
        { path: "compose.main-node.yaml", kind: "compose" },
        { path: "mercure/compose.yaml", kind: "compose" },
        { path: "stack.yaml", kind: "swarm-stack" },
      ],
    };
    expect(findComposeMerges(output)).toEqual([
      { base: "compose.yaml", overlay: "compose.worker.yaml" },
      { base: "compose.yaml", overlay: "compose.main-node.yaml" },
    ]);
  });
});
