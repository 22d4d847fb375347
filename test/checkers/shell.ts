// Shell scripts: bash's own parser, then shellcheck at its strictest severity.
import { type CheckResult, linesOf, skipped } from "./result.js";
import { runTool } from "./process.js";

export async function checkBashSyntax(content: string): Promise<CheckResult> {
  const tool = "bash -n";
  const run = await runTool("bash", ["-n", "-s"], { input: content });
  if (run.missing) return skipped(tool, run.reason);
  const findings = linesOf(run.stderr);
  if (run.code !== 0 && findings.length === 0) findings.push(`exited with status ${run.code}`);
  return { tool, findings };
}

export async function checkShellcheck(content: string): Promise<CheckResult> {
  const tool = "shellcheck";
  // The shebang decides the dialect when there is one; otherwise the scripts are bash.
  const dialect = content.startsWith("#!") ? [] : ["--shell=bash"];
  const run = await runTool("shellcheck", ["-S", "style", "-f", "gcc", ...dialect, "-"], { input: content });
  if (run.missing) return skipped(tool, `${run.reason}; install the shellcheck package`);
  const findings = linesOf(`${run.stdout}\n${run.stderr}`);
  if (run.code !== 0 && findings.length === 0) findings.push(`exited with status ${run.code}`);
  return { tool, findings };
}
