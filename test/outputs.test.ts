// Every file generated for every example passes its ecosystem's own checker. The files
// come from each example's committed output, listed (with their kinds) by its manifest.
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./checkers/paths.js";
import {
  checkGeneratedFile,
  checkMerge,
  findComposeMerges,
  type GeneratedTree,
  parseSingleQuotedEnv,
  readGeneratedTree,
} from "./support/generated-checks.js";

interface ExampleOutput extends GeneratedTree {
  example: string;
}

const examplesDir = join(repoRoot, "examples");

/** Output committed in `expected/`, or beside deploy.yaml as `generate` leaves a repository. */
function findOutputs(): ExampleOutput[] {
  const outputs: ExampleOutput[] = [];
  for (const example of readdirSync(examplesDir).sort()) {
    const dir = [join(examplesDir, example, "expected"), join(examplesDir, example)].find((candidate) =>
      existsSync(join(candidate, ".create-deploy", "manifest.json")),
    );
    if (dir !== undefined) outputs.push({ example, ...readGeneratedTree(dir) });
  }
  return outputs;
}

const outputs = findOutputs();

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
          await checkGeneratedFile(output, file);
        });
      }

      for (const merge of findComposeMerges(output.files)) {
        it(`${merge.base} + ${merge.overlay} merge to a valid compose model`, async () => {
          await checkMerge(output, merge);
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
    expect(
      findComposeMerges([
        { path: "compose.yaml", kind: "compose" },
        { path: "compose.worker.yaml", kind: "compose" },
        { path: "compose.main-node.yaml", kind: "compose" },
        { path: "mercure/compose.yaml", kind: "compose" },
        { path: "stack.yaml", kind: "swarm-stack" },
      ]),
    ).toEqual([
      { base: "compose.yaml", overlay: "compose.worker.yaml" },
      { base: "compose.yaml", overlay: "compose.main-node.yaml" },
    ]);
  });
});
