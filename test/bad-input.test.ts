// Every adversarial descriptor is refused with a problem naming the exact field
// and line, through the same path the command line takes: read the file from
// disk (size, encoding), parse, validate.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readDescriptor } from "../src/load.js";
import { formatProblem } from "../src/problems.js";
import { validateDescriptor } from "../src/validate/index.js";
import { badInputCases } from "./bad-input.cases.js";

const dir = mkdtempSync(join(tmpdir(), "bad-input-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function problemLines(name: string, yaml: string): Promise<{ lines: string[]; accepted: boolean }> {
  const path = join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.yaml`);
  writeFileSync(path, yaml, "utf8");
  const parsed = await readDescriptor(path, "deploy.yaml");
  const result = validateDescriptor(parsed, "deploy.yaml", []);
  return { lines: result.problems.map(formatProblem), accepted: result.descriptor !== undefined };
}

describe("bad input", () => {
  it("has at least 30 cases with distinct names", () => {
    expect(badInputCases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(badInputCases.map((c) => c.name)).size).toBe(badInputCases.length);
  });

  for (const c of badInputCases) {
    it(`refuses ${c.name}`, async () => {
      const { lines, accepted } = await problemLines(c.name, c.yaml);
      expect(accepted).toBe(false);
      const prefix = c.line === undefined ? "deploy.yaml:" : `deploy.yaml:${c.line}:`;
      const match = lines.find(
        (line) =>
          line.startsWith(prefix) &&
          new RegExp(`^deploy\\.yaml:\\d+:\\d+ `).test(line) &&
          line.includes(` ${c.field}: `) &&
          (c.messageIncludes === undefined || line.includes(c.messageIncludes)),
      );
      expect(match, `no problem at ${prefix} ${c.field}${c.messageIncludes ? ` with "${c.messageIncludes}"` : ""}; got:\n${lines.join("\n")}`).toBeDefined();
    });
  }

  it("prints every problem on one line, with no control or text-direction characters from the input", async () => {
    for (const c of badInputCases) {
      const { lines } = await problemLines(c.name, c.yaml);
      expect(lines.length, c.name).toBeGreaterThan(0);
      for (const line of lines) expect(line, c.name).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u);
    }
  });
});
