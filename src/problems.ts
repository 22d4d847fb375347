// Problems are data: every stage that rejects input returns them, and only the
// command line prints them. One line each, in the shape editors and CI log
// scanners already understand: `FILE:LINE:COL PATH: MESSAGE`.

export interface Problem {
  /** The descriptor as the user named it, e.g. "deploy.yaml". */
  file: string;
  /** JSON pointer (RFC 6901) into the descriptor; "" is the whole document. */
  pointer: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  message: string;
  hint?: string;
}

/** Splits a JSON pointer into its unescaped segments ("" → []). */
export function splitPointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Joins segments into a JSON pointer, escaping `~` and `/`. */
export function joinPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => "/" + String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

// Names in this language use `-` (worker-gpu), so they count as plain too.
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const INDEX = /^(0|[1-9][0-9]*)$/;

/**
 * A string as a double-quoted literal that is safe to print on one terminal
 * line: control characters and everything outside printable ASCII are escaped,
 * so a look-alike letter shows up as \u0435 instead of passing for an "e".
 */
export function quote(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/gu, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    if (code > 0xffff) return `\\u{${code.toString(16)}}`;
    return "\\u" + code.toString(16).padStart(4, "0");
  });
}

/**
 * The dotted path a person reads: `services.web.ports[0].port`,
 * `services.web.environment["a.b"]`. All-digit segments are read as array
 * indices; no key of the descriptor language is all digits, so this is exact
 * wherever the schema allows a key at all.
 */
export function pointerToPath(pointer: string): string {
  let path = "";
  for (const segment of splitPointer(pointer)) {
    if (INDEX.test(segment)) path += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) path += path === "" ? segment : `.${segment}`;
    else path += `[${quote(segment)}]`;
  }
  return path === "" ? "(root)" : path;
}

/** `deploy.yaml:12:5 services.web.ports[0].port: must be <= 65535 (did you mean …?)` */
export function formatProblem(p: Problem): string {
  const hint = p.hint === undefined ? "" : ` (${p.hint})`;
  return `${p.file}:${p.line}:${p.col} ${pointerToPath(p.pointer)}: ${p.message}${hint}`;
}

/** Document order, so the output reads top to bottom like the file. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.col - b.col ||
      (a.pointer < b.pointer ? -1 : a.pointer > b.pointer ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}
