// The security rules every generated workflow must keep, checked on its text: a top-level
// least-privilege `permissions:`, every action pinned to a release commit of the pins table
// (with the release in a comment), no expression inside a `run:` script (values from a pull
// request reach scripts only through `env:`), and checkouts that keep no credentials.
import { ACTION_PINS } from "../../src/kinds/github/pins.js";
import { parseYamlStrictly } from "../checkers/yaml.js";

/** The one expression a script may hold: the escape that writes `${{` as text. */
const LITERAL_ESCAPE = "${{ '${{' }}";

/** Contexts a pull request author controls (GitHub's list of untrusted input, and then some). */
const UNTRUSTED = [
  /github\.event\.(?:issue|pull_request|comment|review|review_comment|discussion|pages|commits|head_commit|workflow_run)\b/,
  /github\.head_ref\b/,
  /github\.event\.[a-z_.]*\b(?:title|body|message|label|name|email|ref|default_branch)\b/,
];

/** Job permissions that may be raised to write, and why: pushing images, keyless signing. */
const WRITABLE = new Set(["packages", "id-token"]);

const USES_LINE = /^\s*(?:-\s+)?uses:\s*(\S+)(?:\s+#\s*(\S+))?\s*$/;

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function auditPermissions(where: string, permissions: unknown, writable: ReadonlySet<string>): string[] {
  if (!isRecord(permissions)) return [`${where}: permissions must list scopes (got ${JSON.stringify(permissions)})`];
  return Object.entries(permissions)
    .filter(([scope, level]) => level !== "read" && level !== "none" && !(level === "write" && writable.has(scope)))
    .map(([scope, level]) => `${where}: permission ${scope}: ${String(level)} is more than needed`);
}

function auditUses(content: string): string[] {
  const findings: string[] = [];
  const pins = ACTION_PINS as Record<string, { version: string; commit: string }>;
  content.split("\n").forEach((line, index) => {
    const match = USES_LINE.exec(line);
    if (!match) return;
    const [, reference = "", comment] = match;
    const at = reference.lastIndexOf("@");
    const action = at < 0 ? reference : reference.slice(0, at);
    const ref = at < 0 ? "" : reference.slice(at + 1);
    const where = `line ${index + 1}`;
    if (!/^[0-9a-f]{40}$/.test(ref)) findings.push(`${where}: ${reference} is not pinned to a full commit SHA`);
    const pin = pins[action];
    if (pin === undefined) findings.push(`${where}: ${action} is not in the pins table`);
    else if (pin.commit !== ref) findings.push(`${where}: ${action}@${ref} is not the pinned commit ${pin.commit}`);
    if (comment === undefined) findings.push(`${where}: ${reference} has no version comment`);
    else if (pin !== undefined && comment !== pin.version) findings.push(`${where}: comment ${comment} is not the pinned release ${pin.version}`);
  });
  return findings;
}

function auditRun(where: string, script: string): string[] {
  const findings: string[] = [];
  const expressions = script.split(LITERAL_ESCAPE).join("").match(/\$\{\{[\s\S]*?\}\}/g) ?? [];
  for (const expression of expressions) {
    const untrusted = UNTRUSTED.some((pattern) => pattern.test(expression));
    findings.push(`${where}: ${untrusted ? "untrusted context" : "expression"} ${expression} inside run:; pass it through env:`);
  }
  return findings;
}

/** Every finding of the rules above; an empty list means the workflow keeps them all. */
export function auditWorkflow(content: string): string[] {
  const parsed = parseYamlStrictly(content);
  if (parsed.findings.length > 0) return parsed.findings;
  const workflow = parsed.data;
  if (!isRecord(workflow)) return ["the workflow is not a mapping"];
  const findings: string[] = [];
  if (!("permissions" in workflow)) findings.push("no top-level permissions:");
  else findings.push(...auditPermissions("top level", workflow["permissions"], new Set()));
  findings.push(...auditUses(content));
  const jobs = isRecord(workflow["jobs"]) ? workflow["jobs"] : {};
  for (const [id, job] of Object.entries(jobs)) {
    if (!isRecord(job)) continue;
    if ("permissions" in job) findings.push(...auditPermissions(`job ${id}`, job["permissions"], WRITABLE));
    const steps = Array.isArray(job["steps"]) ? job["steps"] : [];
    steps.forEach((step: unknown, index) => {
      if (!isRecord(step)) return;
      const where = `job ${id} step ${index + 1}`;
      if (typeof step["run"] === "string") findings.push(...auditRun(where, step["run"]));
      const uses = typeof step["uses"] === "string" ? step["uses"] : "";
      if (uses.startsWith("actions/checkout@")) {
        const inputs = isRecord(step["with"]) ? step["with"] : {};
        if (inputs["persist-credentials"] !== false) findings.push(`${where}: checkout leaves the token in .git/config (set persist-credentials: false)`);
      }
    });
  }
  return findings;
}

/** The `run:` scripts of a workflow with where they are, for shellcheck. */
export function runScripts(content: string): Array<{ where: string; script: string }> {
  const parsed = parseYamlStrictly(content);
  const workflow = parsed.data;
  if (!isRecord(workflow) || !isRecord(workflow["jobs"])) return [];
  const scripts: Array<{ where: string; script: string }> = [];
  for (const [id, job] of Object.entries(workflow["jobs"])) {
    if (!isRecord(job) || !Array.isArray(job["steps"])) continue;
    job["steps"].forEach((step: unknown, index) => {
      if (isRecord(step) && typeof step["run"] === "string") scripts.push({ where: `job ${id} step ${index + 1}`, script: step["run"] });
    });
  }
  return scripts;
}
