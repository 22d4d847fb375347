// The quick reader: a descriptor's value without the positions of its nodes.
//
// The yaml library reads with positions, which every problem message needs, but it reads
// a large descriptor slowly (half a second for a thousand services). Most descriptors are
// valid and plain, and then no position is ever asked for. For those, js-yaml reads the
// value, and the yaml library runs only if a problem needs a line number (see load.ts).
//
// The quick reader must never accept a text the full reader would turn down, nor read a
// different value. So it takes only plain text (no tabs, CRs, control characters, anchors,
// aliases, tags, directives, block scalars, complex keys or document markers; these go to
// the full reader), resolves plain scalars with the yaml library's own core-schema tests
// and resolvers, in the library's order, and gives up on anything the full reader turns
// into a problem (duplicate keys, a key that is not a string, leading-zero numbers,
// infinities, reserved keys). test/load-quick.test.ts compares the two readers on random text.
import jsYaml from "js-yaml";
import { Document, Scalar, type ScalarTag } from "yaml";

/** Keys that name an object's machinery in JavaScript; a descriptor may not use them. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Anything but line feeds, printable ASCII and printable non-ASCII (line and paragraph
 * separators, NEL and the byte order mark excluded).
 */
const UNUSUAL_CHARACTER = /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ufefe\uff00-\ufffd]/;
/** Where a token may start: after these (or at a line start). */
const TOKEN_BEFORE = new Set([" ", "[", "{", ",", ":"]);
/** May follow a quoted scalar or a closed flow collection on its line. */
const AFTER_CLOSE = new Set([" ", ",", "]", "}", ":"]);

/**
 * Whether every line is of the plain shapes the quick reader is trusted with: block keys
 * and list items, one-line quoted scalars, flow collections that close on their line, and
 * comments after a blank. Left to the full reader: anchors, aliases, tags, directives,
 * block scalars, complex keys, document markers, merge keys, multi-line scalars or flow
 * collections, a flow collection used as a key, and anything the two readers could
 * tokenize differently. Over-cautious on purpose: a refusal only costs time.
 */
export function isPlainYaml(text: string): boolean {
  if (UNUSUAL_CHARACTER.test(text)) return false;
  let first = true;
  for (const line of text.split("\n")) {
    if (!isPlainLine(line)) return false;
    // The top level starts in the first column.
    if (first && line.trim() !== "" && !line.trimStart().startsWith("#")) {
      if (line.startsWith(" ")) return false;
      first = false;
    }
  }
  return true;
}

/** YAML allows an implicit key of at most 1024 characters; longer lines go to the full reader. */
const MAX_LINE = 1000;

function isPlainLine(line: string): boolean {
  if (line.length > MAX_LINE || /^(?:---|\.\.\.)/.test(line)) return false;
  const content = line.trimStart();
  if (content === "" || content.startsWith("#")) return true;
  let depth = 0;
  let sawColon = false;
  /** Where a comment starts, or the line's end. */
  let end = line.length;
  for (let i = line.length - content.length; i < line.length; i++) {
    const c = line[i]!;
    const before = i === 0 ? " " : line[i - 1]!;
    const atToken = TOKEN_BEFORE.has(before) || (before === "-" && (i === 1 || line[i - 2] === " "));
    if (c === "'" || c === '"') {
      if (!atToken) continue;
      const close = closingQuote(line, i);
      if (close < 0) return false;
      const next = line[close + 1];
      if (next !== undefined && !AFTER_CLOSE.has(next)) return false;
      i = close;
      continue;
    }
    if (c === "#") {
      if (before !== " ") return false;
      end = i;
      break;
    }
    if ("&*!%|>?@`:".includes(c) && atToken) return false;
    if (c === "<" && line[i + 1] === "<") return false;
    if (c === "[" || c === "{") {
      if (!atToken || ++depth > 2) return false;
    } else if (c === "]" || c === "}") {
      if (--depth < 0) return false;
      const next = line[i + 1];
      if (next !== undefined && next !== " " && next !== "," && next !== "]" && next !== "}") return false;
    } else if (c === ":" && (line[i + 1] === " " || i + 1 === line.length)) {
      sawColon = true;
    }
  }
  if (depth !== 0) return false;
  const code = line.slice(0, end).trimEnd();
  // Empty list items and lists opened inside list items ("- -") are left to the full reader.
  if (/^ *-(?: *$| +-(?: |$))/.test(code)) return false;
  // A line that is neither a key nor a list item continues a multi-line scalar.
  return sawColon || /^ *- +\S/.test(code);
}

/**
 * The index of the quote closing the one at `open`, or -1 if it does not close on this
 * line or holds a \U escape: js-yaml takes a code point above U+10FFFF that the yaml
 * library refuses.
 */
function closingQuote(line: string, open: number): number {
  const quote = line[open];
  for (let i = open + 1; i < line.length; i++) {
    const c = line[i];
    if (quote === '"' && c === "\\") {
      if (line[i + 1] === "U") return -1;
      i++;
    } else if (c === quote) {
      if (quote === "'" && line[i + 1] === "'") i++;
      else return i;
    }
  }
  return -1;
}

/** A scalar the full reader reads as null, a boolean or a number, kept apart until the walk. */
class Typed {
  constructor(readonly value: unknown) {}
}

/** Thrown inside js-yaml to give the text to the full reader. */
class Unsure extends Error {}

let schema: jsYaml.Schema | undefined;

/**
 * js-yaml's failsafe schema (strings, sequences, maps) plus, for plain scalars, the yaml
 * library's own core tags in its own order, so a scalar means the same to both readers.
 */
function quickSchema(): jsYaml.Schema {
  if (schema !== undefined) return schema;
  // Only scalar tags carry a test; the core schema's map and sequence tags have none.
  const tags = new Document().schema.tags.filter(
    (tag): tag is ScalarTag => tag.default === true && tag.test !== undefined && tag.tag !== "tag:yaml.org,2002:str",
  );
  const types = tags.map((tag) => {
    const test = tag.test as RegExp;
    return new jsYaml.Type(`tag:create-deploy,quick:${tag.tag}:${test.source}`, {
      kind: "scalar",
      resolve: (data: unknown) => typeof data === "string" && test.test(data),
      construct: (data: string) => {
        const resolved: unknown = tag.resolve(data, () => {
          throw new Unsure();
        }, {});
        const value = resolved instanceof Scalar ? resolved.value : resolved;
        // The full reader reports these: 0400 is not octal, .inf is not a number here.
        if (typeof value === "number" && (!Number.isFinite(value) || /^[-+]?0[0-9]/.test(data))) throw new Unsure();
        if (typeof value !== "number" && typeof value !== "boolean" && value !== null) throw new Unsure();
        return new Typed(value);
      },
    });
  });
  schema = jsYaml.FAILSAFE_SCHEMA.extend({ implicit: types });
  return schema;
}

/**
 * The value with every Typed replaced by what it holds, in place (js-yaml's objects are
 * this reader's own); Unsure for keys the full reader would report.
 */
function unwrap(node: unknown): unknown {
  if (node instanceof Typed) return node.value;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) node[i] = unwrap(node[i]);
  } else if (node !== null && typeof node === "object") {
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      // A Typed key became "[object Object]" inside js-yaml: the key was not a string.
      if (key === "[object Object]" || RESERVED_KEYS.has(key) || key === "<<") throw new Unsure();
      record[key] = unwrap(record[key]);
    }
  }
  return node;
}

/** The descriptor's value, or undefined when the full reader must read it. */
export function readQuickly(text: string): unknown {
  if (!isPlainYaml(text)) return undefined;
  try {
    const raw: unknown = jsYaml.load(text, {
      schema: quickSchema(),
      json: false,
      onWarning: () => {
        throw new Unsure();
      },
    });
    // Only a map is a descriptor; for anything else (nothing, a list, a scalar) the full
    // reader places the problem.
    if (raw === null || typeof raw !== "object" || Array.isArray(raw) || raw instanceof Typed) return undefined;
    return unwrap(raw);
  } catch {
    // A syntax error, a duplicate key, anything unsure: the full reader reports it.
    return undefined;
  }
}
