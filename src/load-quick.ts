// The quick reader: a descriptor's value without the positions of its nodes.
//
// The yaml library reads with positions, which every problem message needs, but it reads
// a large descriptor slowly (half a second for a thousand services). Most descriptors are
// valid and plain, and then no position is ever asked for. For those, this reader builds
// the value in one pass over the lines, and the yaml library runs only if a problem needs
// a line number (see load.ts).
//
// It must never accept a text the full reader would turn down, nor read a different value.
// So it knows only the plain shapes descriptors are written in: block mappings and
// sequences, one-line quoted scalars, plain scalars, and flow collections that close on
// their line. Anything else gives up and leaves the text to the full reader: tabs, CRs,
// control characters, anchors, aliases, tags, directives, block scalars, multi-line
// scalars, complex keys, document markers, merge keys, duplicate keys, keys that are not
// strings, leading-zero numbers, infinities, reserved keys. Plain scalars resolve with the
// yaml library's own core-schema tests and resolvers, in the library's order. Over-cautious
// on purpose: giving up only costs time. test/load-quick.test.ts compares the two readers
// on random text.
import { Document, Scalar, type ScalarTag } from "yaml";

/** Keys that name an object's machinery in JavaScript; a descriptor may not use them. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Anything but line feeds, printable ASCII and printable non-ASCII (line and paragraph
 * separators, NEL and the byte order mark excluded). Lone surrogates would pass, but a
 * descriptor's text never holds one: load.ts refuses bytes that are not valid UTF-8.
 */
const UNUSUAL_CHARACTER = /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ufefe\uff00-\ufffd]/;

/** YAML allows an implicit key of at most 1024 characters; longer lines go to the full reader. */
const MAX_LINE = 1000;

/** Flow collections nest at most this deep here (`[a, [b]]`, `{a: [b]}`). */
const MAX_FLOW_DEPTH = 2;

/**
 * Block collections nest at most this deep here; descriptors need a dozen levels. Far
 * deeper text (a 1000-character line allows 1000 levels) exhausts the full reader's stack,
 * which it reports as a problem: such text must reach it.
 */
const MAX_BLOCK_DEPTH = 64;

/**
 * The YAML the full reader reads (load.ts passes these to the yaml library): plain scalars
 * here resolve with the same schema's tags and options.
 */
export const YAML_OPTIONS = { version: "1.2", schema: "core", merge: false, intAsBigInt: false } as const;

/**
 * Characters that may not start a plain scalar or key here: YAML's indicators. A dash may,
 * when a character other than a space follows (`-5`, `--bind`).
 */
const NOT_PLAIN_START = new Set([..."?:,[]{}#&*!|>'\"%@`"]);

/** Characters that end a plain scalar inside a flow collection. */
const FLOW_INDICATORS = new Set([..."[]{},"]);

/** Characters a plain key may not hold here: indicators, quotes and spaces. */
const NOT_IN_PLAIN_KEY = /[\s:#,[\]{}&*!|>'"%@`]/;

/** Thrown anywhere inside the reader to leave the text to the full reader. */
class Unsure {}
const UNSURE = new Unsure();

function giveUp(): never {
  throw UNSURE;
}

interface Line {
  /** Leading spaces. */
  indent: number;
  /** The rest of the line: never empty, never a comment line. */
  text: string;
}

/** The descriptor's value, or undefined when the full reader must read it. */
export function readQuickly(text: string): unknown {
  if (UNUSUAL_CHARACTER.test(text)) return undefined;
  const lines: Line[] = [];
  for (const raw of text.split("\n")) {
    if (raw.length > MAX_LINE || raw.startsWith("---") || raw.startsWith("...")) return undefined;
    let indent = 0;
    while (raw.charCodeAt(indent) === 32) indent++;
    if (indent === raw.length || raw[indent] === "#") continue;
    lines.push({ indent, text: indent === 0 ? raw : raw.slice(indent) });
  }
  // Only a map is a descriptor; for anything else (nothing, a list, a scalar) the full
  // reader places the problem. The top level starts in the first column.
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  try {
    const reader = new BlockReader(lines);
    const value = reader.readMapping(0);
    return reader.done() ? value : undefined;
  } catch (error) {
    // Out of stack (called deep inside something else) is one more reason to leave the
    // text to the full reader, which reports it if it too runs out.
    if (error === UNSURE || error instanceof RangeError) return undefined;
    throw error;
  }
}

/** Reads block collections line by line; each line is taken once. */
class BlockReader {
  private next = 0;
  private depth = 0;

  constructor(private readonly lines: Line[]) {}

  done(): boolean {
    return this.next === this.lines.length;
  }

  /** The entries of a block mapping whose keys stand at `indent`. */
  readMapping(indent: number): Record<string, unknown> {
    if (++this.depth > MAX_BLOCK_DEPTH) giveUp();
    const map: Record<string, unknown> = {};
    while (this.next < this.lines.length) {
      const line = this.lines[this.next]!;
      if (line.indent < indent) break;
      // Deeper than the keys, or a list item among them: not a shape this reader knows.
      if (line.indent > indent || isListItem(line.text)) giveUp();
      const { key, rest } = readKeyLine(line.text) ?? giveUp();
      if (Object.hasOwn(map, key)) giveUp();
      this.next++;
      map[key] = this.readValue(rest, indent, true);
    }
    this.depth--;
    return map;
  }

  /** The items of a block sequence whose dashes stand at `indent`. */
  readSequence(indent: number): unknown[] {
    if (++this.depth > MAX_BLOCK_DEPTH) giveUp();
    const list: unknown[] = [];
    while (this.next < this.lines.length) {
      const line = this.lines[this.next]!;
      if (line.indent < indent) break;
      if (line.indent > indent) giveUp();
      // The next key of a mapping whose list stood at the keys' own indentation.
      if (!isListItem(line.text)) break;
      let start = 1;
      while (line.text.charCodeAt(start) === 32) start++;
      const rest = line.text.slice(start);
      // Empty items and lists opened inside list items are left to the full reader.
      if (rest === "" || rest[0] === "#" || isListItem(rest)) giveUp();
      if (readKeyLine(rest) !== undefined) {
        // A mapping inside the item: its first key shares the dash's line, and the
        // others align with that key.
        const column = indent + start;
        this.lines[this.next] = { indent: column, text: rest };
        list.push(this.readMapping(column));
      } else {
        this.next++;
        list.push(this.readValue(` ${rest}`, indent, false));
      }
    }
    this.depth--;
    return list;
  }

  /**
   * The value after a key's colon or a list item's dash (`rest` starts with a space or is
   * empty): on the same line, or as a block on the lines below.
   */
  private readValue(rest: string, indent: number, ofKey: boolean): unknown {
    const start = skipSpaces(rest, 0);
    if (start === rest.length || rest[start] === "#") return this.readNestedBlock(indent, ofKey);
    const value = readInlineValue(rest, start);
    // A deeper line below would continue a multi-line scalar, or be an error.
    if (this.next < this.lines.length && this.lines[this.next]!.indent > indent) giveUp();
    return value;
  }

  /** The block below a key or item with nothing after it; null when there is none. */
  private readNestedBlock(indent: number, ofKey: boolean): unknown {
    if (!ofKey) giveUp();
    const below = this.lines[this.next];
    if (below === undefined || below.indent < indent) return null;
    if (below.indent === indent) {
      // A key's list may stand at the key's own indentation.
      return isListItem(below.text) ? this.readSequence(indent) : null;
    }
    return isListItem(below.text) ? this.readSequence(below.indent) : this.readMapping(below.indent);
  }
}

function isListItem(text: string): boolean {
  return text[0] === "-" && (text.length === 1 || text[1] === " ");
}

function skipSpaces(text: string, from: number): number {
  let i = from;
  while (text.charCodeAt(i) === 32) i++;
  return i;
}

/** After a value: nothing, or spaces and perhaps a comment. */
function expectEndOfLine(text: string, from: number): void {
  if (from === text.length) return;
  if (text[from] !== " ") giveUp();
  const i = skipSpaces(text, from);
  if (i !== text.length && text[i] !== "#") giveUp();
}

/**
 * The key of a `key: value` line and what follows its colon; undefined when the line is
 * not a key (a scalar in a list). Unsure for keys this reader does not take.
 */
function readKeyLine(text: string): { key: string; rest: string } | undefined {
  const first = text[0];
  if (first === '"' || first === "'") {
    const { value, end } = readQuoted(text, 0);
    if (text[end] !== ":") {
      // A space before the colon is YAML, but this reader leaves it alone.
      if (text[skipSpaces(text, end)] === ":") giveUp();
      return undefined;
    }
    if (end + 1 < text.length && text[end + 1] !== " ") giveUp();
    return { key: checkedKey(value), rest: text.slice(end + 1) };
  }
  if (first === "[" || first === "{") return undefined;
  let colon = text.indexOf(":");
  while (colon !== -1 && colon + 1 < text.length && text[colon + 1] !== " ") colon = text.indexOf(":", colon + 1);
  if (colon === -1) return undefined;
  const key = text.slice(0, colon);
  // A comment before the colon makes the line a scalar; odd keys go to the full reader.
  if (key.includes("#")) return undefined;
  if (key === "" || key[0] === "-" || NOT_PLAIN_START.has(key[0]!) || NOT_IN_PLAIN_KEY.test(key)) giveUp();
  if (typeof resolvePlain(key) !== "string") giveUp();
  return { key: checkedKey(key), rest: text.slice(colon + 1) };
}

function checkedKey(key: string): string {
  if (RESERVED_KEYS.has(key) || key === "<<") giveUp();
  return key;
}

/** A scalar or flow collection that fills the rest of the line (a comment may follow). */
function readInlineValue(text: string, start: number): unknown {
  const first = text[start]!;
  if (first === '"' || first === "'") {
    const { value, end } = readQuoted(text, start);
    expectEndOfLine(text, end);
    return value;
  }
  if (first === "[" || first === "{") {
    const { value, end } = readFlow(text, start, 1);
    expectEndOfLine(text, end);
    return value;
  }
  if (!mayStartPlain(text, start, false)) giveUp();
  let end = text.indexOf(" #", start);
  if (end === -1) end = text.length;
  while (text.charCodeAt(end - 1) === 32) end--;
  const plain = text.slice(start, end);
  // A second `key: value` on the line, or a key without a value, is not a scalar.
  if (plain.includes(": ") || plain.endsWith(":")) giveUp();
  return resolvePlain(plain);
}

/** Double-quoted escapes that stand for one character; `\x`, `\u` are read apart, `\U` is left alone. */
const ESCAPES: Readonly<Record<string, string>> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  e: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  N: "\u0085",
  _: "\u00a0",
  L: "\u2028",
  P: "\u2029",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
};

/** A quoted scalar that closes on its line, and the index just after its closing quote. */
function readQuoted(text: string, open: number): { value: string; end: number } {
  const quote = text[open];
  let value = "";
  let from = open + 1;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c !== "'") continue;
      value += text.slice(from, i);
      if (text[i + 1] !== "'") return { value, end: i + 1 };
      value += "'";
      from = ++i + 1;
    } else if (c === '"') {
      return { value: value + text.slice(from, i), end: i + 1 };
    } else if (c === "\\") {
      value += text.slice(from, i);
      const e = text[i + 1] ?? giveUp();
      if (e === "x" || e === "u") {
        const digits = text.slice(i + 2, i + (e === "x" ? 4 : 6));
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== (e === "x" ? 2 : 4)) giveUp();
        const code = Number.parseInt(digits, 16);
        // Lone surrogates are left to the full reader.
        if (code >= 0xd800 && code <= 0xdfff) giveUp();
        value += String.fromCharCode(code);
        i += 1 + digits.length;
      } else {
        value += ESCAPES[e] ?? giveUp();
        i += 1;
      }
      from = i + 1;
    }
  }
  // Not closed on this line: a multi-line scalar, or an error.
  return giveUp();
}

/** A flow collection that closes on its line, and the index just after it. */
function readFlow(text: string, open: number, depth: number): { value: unknown; end: number } {
  const mapping = text[open] === "{";
  const close = mapping ? "}" : "]";
  const list: unknown[] = [];
  const map: Record<string, unknown> = {};
  let i = skipSpaces(text, open + 1);
  if (text[i] === close) return { value: mapping ? map : list, end: i + 1 };
  for (;;) {
    if (mapping) {
      let key: string;
      if (text[i] === '"' || text[i] === "'") {
        const quoted = readQuoted(text, i);
        key = quoted.value;
        i = quoted.end;
      } else {
        const plain = readFlowPlain(text, i);
        if (plain.text.includes(":") || typeof resolvePlain(plain.text) !== "string") giveUp();
        key = plain.text;
        i = plain.end;
      }
      // Only `key: value`, with one space after the colon and a value.
      if (text[i] !== ":" || text[i + 1] !== " ") giveUp();
      if (Object.hasOwn(map, checkedKey(key))) giveUp();
      const item = readFlowItem(text, skipSpaces(text, i + 1), depth);
      map[key] = item.value;
      i = item.end;
    } else {
      const item = readFlowItem(text, i, depth);
      list.push(item.value);
      i = item.end;
    }
    i = skipSpaces(text, i);
    if (text[i] === close) return { value: mapping ? map : list, end: i + 1 };
    if (text[i] !== ",") giveUp();
    i = skipSpaces(text, i + 1);
    // A trailing comma is YAML, but this reader leaves it alone.
    if (text[i] === close) giveUp();
  }
}

function readFlowItem(text: string, start: number, depth: number): { value: unknown; end: number } {
  const first = text[start];
  if (first === '"' || first === "'") return readQuoted(text, start);
  if (first === "[" || first === "{") {
    if (depth >= MAX_FLOW_DEPTH) giveUp();
    return readFlow(text, start, depth + 1);
  }
  const plain = readFlowPlain(text, start);
  return { value: resolvePlain(plain.text), end: plain.end };
}

/**
 * A plain scalar inside a flow collection: up to a flow indicator or a colon that ends it
 * (one followed by a space or an indicator), without trailing spaces.
 */
function readFlowPlain(text: string, start: number): { text: string; end: number } {
  if (!mayStartPlain(text, start, true)) giveUp();
  let end = start;
  for (; end < text.length; end++) {
    const c = text[end]!;
    if (FLOW_INDICATORS.has(c)) break;
    // A comment, or a # this reader does not tell from one, is left to the full reader.
    if (c === "#") giveUp();
    if (c === ":" && !isPlainSafe(text[end + 1], true)) break;
  }
  // The collection must close on this line.
  if (end === text.length) giveUp();
  let last = end;
  while (text.charCodeAt(last - 1) === 32) last--;
  return { text: text.slice(start, last), end: last };
}

/** Whether a plain scalar may start at `start`: not at an indicator, a dash only before a safe character. */
function mayStartPlain(text: string, start: number, inFlow: boolean): boolean {
  const first = text[start];
  if (first === undefined || first === " " || NOT_PLAIN_START.has(first)) return false;
  return first !== "-" || isPlainSafe(text[start + 1], inFlow);
}

/** A character that may follow a dash or colon inside a plain scalar (YAML's ns-plain-safe). */
function isPlainSafe(c: string | undefined, inFlow: boolean): boolean {
  return c !== undefined && c !== " " && !(inFlow && FLOW_INDICATORS.has(c));
}

/** The yaml library's core-schema scalar tags other than str, in its order. */
let coreTags: ScalarTag[] | undefined;

/**
 * A plain scalar as the yaml library's core schema reads it: null, a boolean, a number or
 * a string. Only texts starting with one of these characters can be anything but a string.
 */
const TYPED_START = new Set([..."~nNtTfF0123456789+-."]);

function resolvePlain(text: string): unknown {
  if (!TYPED_START.has(text[0]!)) return text;
  // Only scalar tags carry a test; the core schema's map and sequence tags have none.
  coreTags ??= new Document(null, YAML_OPTIONS).schema.tags.filter(
    (tag): tag is ScalarTag => tag.default === true && tag.test !== undefined && tag.tag !== "tag:yaml.org,2002:str",
  );
  for (const tag of coreTags) {
    if (!(tag.test as RegExp).test(text)) continue;
    const resolved: unknown = tag.resolve(text, giveUp, YAML_OPTIONS);
    const value = resolved instanceof Scalar ? resolved.value : resolved;
    // The full reader reports these: 0400 is not octal, .inf is not a number here.
    if (typeof value === "number" && (!Number.isFinite(value) || /^[-+]?0[0-9]/.test(text))) giveUp();
    if (typeof value !== "number" && typeof value !== "boolean" && value !== null) giveUp();
    return value;
  }
  return text;
}
