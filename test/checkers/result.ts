// What every checker returns: the tool that judged the file, and either its findings
// (empty means the file passed) or why the tool could not run at all.
export interface CheckResult {
  tool: string;
  /** Set when the tool is missing; the reason says what to install. */
  skipped?: string;
  findings: string[];
}

export function passed(tool: string): CheckResult {
  return { tool, findings: [] };
}

export function skipped(tool: string, reason: string): CheckResult {
  return { tool, skipped: reason, findings: [] };
}

/** Non-empty output lines, each a finding. */
export function linesOf(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "");
}
