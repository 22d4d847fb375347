// The one assertion tests make on a checker's result.
import { expect } from "vitest";
import { type CheckResult } from "./result.js";

const warnedTools = new Set<string>();

/**
 * Fails on findings. A skipped check fails in CI (CI=true), where every checker must be
 * installed; locally it passes with a notice, printed once per tool, saying what did not run.
 */
export function expectClean(result: CheckResult, what = ""): void {
  const label = what === "" ? result.tool : `${result.tool} on ${what}`;
  if (result.skipped !== undefined) {
    if (process.env["CI"] === "true") {
      expect.fail(`${label} was skipped in CI: ${result.skipped}`);
    }
    if (!warnedTools.has(result.tool)) {
      warnedTools.add(result.tool);
      console.warn(`NOTICE: ${result.tool} did not run (${result.skipped}); its checks are skipped locally and required in CI.`);
    }
    return;
  }
  expect(result.findings, `${label} findings:\n${result.findings.join("\n")}`).toEqual([]);
}
