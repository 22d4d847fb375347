// Escaping per output language. Validation already refuses control characters, so these
// functions only have to make printable text inert in each language; they still refuse
// what they cannot represent, because a wrong escape is a security bug, not a style issue.

const CONTROL = /[\u0000-\u001f\u007f]/;

function refuseControl(value: string, language: string): void {
  if (CONTROL.test(value)) {
    throw new Error(`cannot write a control character into ${language}: ${JSON.stringify(value)}`);
  }
}

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word: left bare when it has no special characters, else single-quoted. */
export function quoteShell(value: string): string {
  refuseControl(value, "a shell script");
  if (value !== "" && SHELL_SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A value in a systemd unit setting (Description=, WorkingDirectory=…): `%` starts a specifier. */
export function escapeSystemdValue(value: string): string {
  refuseControl(value, "a systemd unit");
  return value.replace(/%/g, "%%");
}

const SYSTEMD_ARG_SAFE = /^[A-Za-z0-9_@+=:,./-]+$/;

/**
 * One argument of ExecStart= and friends. systemd splits on whitespace, honours double
 * quotes with C-style escapes, expands `$VAR` and `%` specifiers; a lone `;` separates
 * commands. Anything beyond plain characters is double-quoted with those escaped.
 */
export function quoteSystemdArg(value: string): string {
  refuseControl(value, "a systemd unit");
  if (SYSTEMD_ARG_SAFE.test(value)) return value;
  const escaped = value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return `"${escaped}"`;
}

/**
 * A `.env` value as `'value'`: literal for docker compose, systemd EnvironmentFile and
 * dotenv alike. Values holding `'` or `\` have no portable spelling; validation routes
 * them to secret files, so meeting one here is a bug.
 */
export function quoteDotenv(value: string): string {
  refuseControl(value, "an env file");
  if (/['\\]/.test(value)) {
    throw new Error(`an env file value cannot hold ' or \\: ${JSON.stringify(value)}`);
  }
  return `'${value}'`;
}

/** Whether quoteDotenv can write the value (used by validation to name the field). */
export function isDotenvSafe(value: string): boolean {
  return !CONTROL.test(value) && !/['\\]/.test(value);
}

/** JSON text, used for Dockerfile exec form (`CMD ["a", "b"]`) and JSON files. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

/** A Dockerfile ENV/LABEL/ARG value, double-quoted: `\`, `"` and `$` are escaped. */
export function quoteDockerfileValue(value: string): string {
  refuseControl(value, "a Dockerfile");
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\$/g, "\\$")}"`;
}

/** docker compose interpolates `$` in every string value; `$$` is a literal dollar. */
export function escapeComposeValue(value: string): string {
  return value.replace(/\$/g, "$$$$");
}

/** What escapeMarkdownCell changes: backticks, backslashes, stars, pipes, and runs or ends of spaces. */
const CELL_NEEDS_WORK = /[`\\*|]| {2}|^ | $/;

/**
 * A Markdown table cell. Pipes would break the table; outside code spans (which callers may
 * pass), `*` would turn into emphasis that prettier rewrites, and leading, trailing or
 * repeated spaces cannot be shown (Markdown collapses them, prettier drops them).
 */
export function escapeMarkdownCell(value: string): string {
  // Most cells hold nothing to escape or collapse; they are returned as they are.
  if (!CELL_NEEDS_WORK.test(value)) return value;
  const text = value
    .split(/(`[^`]*`)/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/ {2,}/g, " ").replace(/\\/g, "\\\\").replace(/\*/g, "\\*")))
    .join("")
    .replace(/^ +| +$/g, "");
  return text.replace(/\|/g, "\\|");
}

/**
 * Free text as Markdown prose that reads back as the same text and that prettier leaves
 * alone: characters that start emphasis, code, links, HTML, entities, math (prettier and
 * GitHub read `$$` as a math block) or a block (heading, list, quote, break) are
 * backslash-escaped, and spaces Markdown would collapse are collapsed.
 */
export function escapeMarkdownText(value: string): string {
  const text = value
    .replace(/ {2,}/g, " ")
    .replace(/^ +| +$/g, "")
    .replace(/[\\`*_[\]<>#|~&!$]/g, (c) => `\\${c}`);
  // A leading -, +, = or "1." / "1)" would open a list or underline a heading.
  return text.replace(/^([-+=])/, "\\$1").replace(/^([0-9]+)([.)])/, "$1\\$2");
}

/** Inline code in Markdown, with a fence long enough for any backticks inside. */
export function markdownCode(value: string): string {
  const runs = value.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = value.startsWith("`") || value.endsWith("`") ? " " : "";
  return `${fence}${pad}${value}${pad}${fence}`;
}
