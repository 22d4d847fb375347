// Stage 1 of the pipeline: bytes → plain data, with positions kept so every
// later problem can point at a line and column. YAML is read as 1.2 (core
// schema: `yes` is a string, `0400` is the decimal 400), and anything that makes
// the data ambiguous or expensive (duplicate keys, aliases beyond a handful,
// tags, several documents) is refused rather than guessed at.
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import {
  LineCounter,
  Pair,
  Scalar,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type YAMLError,
} from "yaml";
import { readQuickly, RESERVED_KEYS, YAML_OPTIONS } from "./load-quick.js";
import { joinPointer, quote, splitPointer, type Problem } from "./problems.js";

/** Descriptors are a few kilobytes; anything this big is a mistake or an attack. */
export const MAX_DESCRIPTOR_BYTES = 1024 * 1024;
/** Anchors for a shared block or two are fine; more is how alias bombs start. */
export const MAX_ALIASES = 16;
/** Second line of defence inside the yaml library's own expansion counter. */
const MAX_ALIAS_EXPANSION = 100;

/** Tags whose meaning is the one the core schema would have chosen anyway. */
const CORE_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`),
);

export interface Position {
  line: number;
  col: number;
}

/**
 * Where a JSON pointer points in the file. `key` asks for the key of the last
 * segment (for unknown or badly named properties); `value` (the default) for
 * the value, except that a block collection is reported at its key, which is
 * the line a person looks at. A pointer into something missing falls back to
 * the nearest existing parent.
 */
export type Locate = (pointer: string, at?: "key" | "value") => Position;

export interface ParsedDescriptor {
  file: string;
  /** Plain data (objects, arrays, scalars); undefined when there are problems. */
  value: unknown;
  locate: Locate;
  /** The characters a scalar was written with (e.g. "3.10" for the number 3.1). */
  sourceText(pointer: string): string | undefined;
  problems: Problem[];
}

interface Located {
  /** The node the pointer names, or the deepest one that exists. */
  node: unknown;
  found: boolean;
  /** The key scalar when the last step was a map entry. */
  key?: Scalar;
  /** Offset of the last map key or sequence item reached. */
  anchorOffset?: number;
}

function nodeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}

/** Map keys as the data model sees them: toJS turns scalar keys into strings. */
function keyString(key: unknown): string | undefined {
  if (key === null || key === undefined) return "";
  if (isScalar(key)) return key.value === null ? "" : String(key.value);
  return undefined;
}

function positionOf(lineCounter: LineCounter, offset: number): Position {
  const { line, col } = lineCounter.linePos(offset);
  return { line, col };
}

/** Problems found before or instead of parsing: they concern the file as a whole. */
function fileProblem(file: string, position: Position, message: string, hint?: string): Problem {
  return { file, pointer: "", ...position, message, ...(hint === undefined ? {} : { hint }) };
}

function positionInText(text: string, index: number): Position {
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  return { line, col: index - before.lastIndexOf("\n") };
}

function unreadable(file: string, problems: Problem[]): ParsedDescriptor {
  return {
    file,
    value: undefined,
    locate: () => ({ line: 1, col: 1 }),
    sourceText: () => undefined,
    problems,
  };
}

/** Checks that need the raw characters; any of them makes parsing pointless. */
function findTextProblems(text: string, file: string): Problem[] {
  if (text.startsWith("\uFEFF")) {
    return [
      fileProblem(
        file,
        { line: 1, col: 1 },
        "starts with a byte order mark (U+FEFF)",
        "save the file as UTF-8 without BOM",
      ),
    ];
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    return [
      fileProblem(
        file,
        positionInText(text, nul),
        "contains a NUL byte; a descriptor is a UTF-8 text file",
      ),
    ];
  }
  return [];
}

/** First line of a yaml library message, without its own "at line …" suffix. */
function shortYamlMessage(error: YAMLError): string {
  const first = error.message.split("\n")[0] ?? error.message;
  return first.replace(/ at line \d+, column \d+:?$/, "").trim();
}

const YAML_ERROR_MESSAGES: Partial<Record<string, string>> = {
  TAB_AS_INDENT: "tabs are not allowed as indentation; indent with spaces",
  MULTIPLE_DOCS: "contains more than one YAML document (---); a descriptor is a single document",
};

/**
 * The descriptor in `text`, with every problem of its YAML. A plain, valid text is read by
 * the quick reader (load-quick.ts), and the full one runs only if a position is asked for:
 * positions are needed only for problems, which a valid file may still have later on.
 */
export function parseDescriptor(text: string, file: string): ParsedDescriptor {
  // A byte order mark or NUL is never read quickly, so the full reader reports it.
  const value = readQuickly(text);
  if (value === undefined) return parseFully(text, file);
  let full: ParsedDescriptor | undefined;
  const read = (): ParsedDescriptor => (full ??= parseFully(text, file));
  return {
    file,
    value,
    locate: (pointer, at) => read().locate(pointer, at),
    sourceText: (pointer) => read().sourceText(pointer),
    problems: [],
  };
}

/** The full reader: the yaml library with positions, and every check of the YAML itself. */
export function parseFully(text: string, file: string): ParsedDescriptor {
  const textProblems = findTextProblems(text, file);
  if (textProblems.length > 0) return unreadable(file, textProblems);

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    ...YAML_OPTIONS,
    // Duplicate keys are found below, by the names the data will have (1 and "1" clash);
    // the library's own check would only be filtered out, and costs the square of a map's size.
    uniqueKeys: false,
    prettyErrors: true,
    lineCounter,
    logLevel: "error",
  });

  const resolve = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc as Document) : node);

  function descend(pointer: string): Located {
    let node: unknown = resolve(doc.contents);
    let located: Located = { node, found: true };
    for (const segment of splitPointer(pointer)) {
      if (isMap(node)) {
        // The last occurrence wins, as in the data; duplicates are a problem anyway.
        let match: Pair | undefined;
        for (const item of node.items) if (keyString(item.key) === segment) match = item;
        if (!match) return { ...located, found: false };
        node = resolve(match.value);
        located = {
          node,
          found: true,
          ...(isScalar(match.key) ? { key: match.key } : {}),
          anchorOffset: nodeStart(match.key) ?? nodeStart(match.value),
        };
      } else if (isSeq(node) && /^(0|[1-9][0-9]*)$/.test(segment)) {
        const item: unknown = node.items[Number(segment)];
        if (item === undefined) return { ...located, found: false };
        node = resolve(item);
        located = { node, found: true, anchorOffset: nodeStart(item) };
      } else {
        return { ...located, found: false };
      }
    }
    return located;
  }

  const rootOffset = nodeStart(doc.contents) ?? 0;

  const locate: Locate = (pointer, at = "value") => {
    const located = descend(pointer);
    const anchor = located.anchorOffset ?? rootOffset;
    if (!located.found || at === "key") return positionOf(lineCounter, anchor);
    const node = located.node;
    const isBlockCollection = (isMap(node) || isSeq(node)) && !node.flow;
    if (isBlockCollection || node === null || node === undefined) {
      return positionOf(lineCounter, anchor);
    }
    return positionOf(lineCounter, nodeStart(node) ?? anchor);
  };

  const sourceText = (pointer: string): string | undefined => {
    const located = descend(pointer);
    if (!located.found || !isScalar(located.node)) return undefined;
    const source = (located.node as Scalar & { source?: unknown }).source;
    return typeof source === "string" ? source : undefined;
  };

  /**
   * The field an error offset belongs to: the deepest entry starting at or
   * before it. A syntax error usually sits just after the field it breaks.
   */
  function pointerAt(offset: number): string {
    const segments: (string | number)[] = [];
    let node: unknown = doc.contents;
    for (;;) {
      let next: { segment: string | number; node: unknown } | undefined;
      if (isMap(node)) {
        for (const item of node.items) {
          const start = nodeStart(item.key) ?? nodeStart(item.value);
          const name = keyString(item.key);
          if (start !== undefined && name !== undefined && start <= offset) next = { segment: name, node: item.value };
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, index) => {
          const start = nodeStart(item);
          if (start !== undefined && start <= offset) next = { segment: index, node: item };
        });
      }
      if (!next) return joinPointer(segments);
      segments.push(next.segment);
      node = next.node;
    }
  }

  const problems: Problem[] = [];
  const at = (pointer: string, offset: number | undefined, message: string, hint?: string): void => {
    problems.push({
      file,
      pointer,
      ...positionOf(lineCounter, offset ?? rootOffset),
      message,
      ...(hint === undefined ? {} : { hint }),
    });
  };

  if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== "1.2") {
    at("", 0, `declares %YAML ${doc.directives.yaml.version}; descriptors are read as YAML 1.2`, "remove the %YAML directive");
  }

  // After the first syntax error the parser is guessing; later errors are echoes
  // of it. The causes we can name plainly (a tab, a second document) go first.
  const rank = (e: YAMLError): number => (YAML_ERROR_MESSAGES[e.code] === undefined ? 1 : 0);
  const syntaxErrors = doc.errors
    .filter((e) => e.code !== "DUPLICATE_KEY")
    .sort((a, b) => rank(a) - rank(b) || a.pos[0] - b.pos[0]);
  const firstError = syntaxErrors[0];
  if (firstError) {
    const offset = firstError.pos[0];
    const pointer = firstError.code === "MULTIPLE_DOCS" ? "" : pointerAt(offset);
    at(pointer, offset, YAML_ERROR_MESSAGES[firstError.code] ?? shortYamlMessage(firstError));
    return { file, value: undefined, locate, sourceText, problems };
  }

  /** Where the tag written right before a node starts (the node's range begins after it). */
  const tagStart = (offset: number | undefined): number | undefined => {
    if (offset === undefined) return undefined;
    const written = /!\S*[ \t]+$/.exec(text.slice(Math.max(0, offset - 1024), offset));
    return written ? offset - written[0].length : offset;
  };

  let aliasCount = 0;
  let firstExcessAlias: { pointer: string; offset: number | undefined } | undefined;
  // Only nodes written in the file are walked: following aliases would let a
  // bomb expand inside the checker itself.
  function inspect(node: unknown, segments: (string | number)[]): void {
    // Built only for a problem: most nodes have none, and a large file has many nodes.
    const pointer = (): string => joinPointer(segments);
    if (isAlias(node)) {
      aliasCount += 1;
      if (aliasCount > MAX_ALIASES && !firstExcessAlias) firstExcessAlias = { pointer: pointer(), offset: nodeStart(node) };
      return;
    }
    const tag = (node as { tag?: string } | null)?.tag;
    if (tag !== undefined && !CORE_TAGS.has(tag)) {
      const written = tag.replace(/^tag:yaml\.org,2002:/, "!!");
      at(pointer(), tagStart(nodeStart(node)), `uses the tag ${quote(written)}; descriptors hold plain strings, numbers, booleans, lists and maps`, "remove the tag");
    }
    if (isScalar(node)) {
      if (typeof node.value === "number" && !Number.isFinite(node.value)) {
        at(pointer(), nodeStart(node), "must be a finite number (.inf and .nan are not allowed)");
      }
      // YAML 1.1 and most people read 0400 as octal; YAML 1.2 reads the decimal 400.
      const source = (node as Scalar & { source?: unknown }).source;
      if (typeof node.value === "number" && typeof source === "string" && /^[-+]?0[0-9]+$/.test(source)) {
        const digits = source.replace(/^[-+]?0+(?=[0-9])/, "");
        at(
          pointer(),
          nodeStart(node),
          `${source} is the decimal number ${node.value} in YAML 1.2, not an octal number`,
          /^[0-7]+$/.test(digits) ? `write 0o${digits} for octal, or ${node.value} for decimal` : `write ${node.value}`,
        );
      }
      return;
    }
    if (isSeq(node)) {
      node.items.forEach((item, index) => inspect(item, [...segments, index]));
      return;
    }
    if (isMap(node)) {
      const seen = new Map<string, Pair>();
      for (const pair of node.items) {
        const keyOffset = nodeStart(pair.key) ?? nodeStart(pair.value);
        const name = keyString(pair.key);
        if (name === undefined) {
          at(pointer(), keyOffset, "has a key that is not a plain string (a list, map or alias used as a key)");
          continue;
        }
        const keyPointer = (): string => joinPointer([...segments, name]);
        const keyTag = (pair.key as { tag?: string } | null)?.tag;
        if (keyTag !== undefined && !CORE_TAGS.has(keyTag)) {
          at(keyPointer(), tagStart(keyOffset), `uses the tag ${quote(keyTag.replace(/^tag:yaml\.org,2002:/, "!!"))} on a key`, "remove the tag");
        }
        const first = seen.get(name);
        if (first) {
          const firstLine = positionOf(lineCounter, nodeStart(first.key) ?? 0).line;
          at(keyPointer(), keyOffset, `duplicate key ${quote(name)} (first defined on line ${firstLine})`, "keep one of them");
        } else {
          seen.set(name, pair);
        }
        if (RESERVED_KEYS.has(name)) {
          at(keyPointer(), keyOffset, `the key ${quote(name)} is not allowed`);
        } else if (name === "<<") {
          at(keyPointer(), keyOffset, "merge keys (<<) are not part of YAML 1.2", "write the fields out in full");
        }
        inspect(pair.value, [...segments, name]);
      }
    }
  }
  inspect(doc.contents, []);

  if (firstExcessAlias) {
    at(
      firstExcessAlias.pointer,
      firstExcessAlias.offset,
      `uses ${aliasCount} aliases (*name); at most ${MAX_ALIASES} are allowed, because aliases can expand a small file into huge data`,
      "write the repeated values out",
    );
  }

  if (problems.length > 0) return { file, value: undefined, locate, sourceText, problems };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
  } catch (error) {
    // The yaml library throws only for excessive alias expansion here.
    at("", rootOffset, `aliases expand into too much data: ${(error as Error).message}`, "write the repeated values out");
    return { file, value: undefined, locate, sourceText, problems };
  }
  return { file, value: value ?? null, locate, sourceText, problems };
}

/** Offset of the first byte that does not start a valid UTF-8 sequence, or -1. */
function findInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    let length: number;
    let min: number;
    if (b < 0x80) {
      i += 1;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      min = 0x10000;
    } else {
      return i;
    }
    let code = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += length;
  }
  return -1;
}

/**
 * The IO edge: reads the descriptor at `path` and parses it. `file` is the
 * name problems are reported under (default: the file name).
 */
export async function readDescriptor(path: string, file: string = basename(path)): Promise<ParsedDescriptor> {
  let size: number;
  try {
    // Synchronous: nothing else runs meanwhile, and node:fs/promises costs a cold start more.
    const info = statSync(path);
    if (!info.isFile()) return unreadable(file, [fileProblem(file, { line: 1, col: 1 }, "is not a regular file")]);
    size = info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "file not found" : `cannot be read (${code ?? "unknown error"})`;
    return unreadable(file, [fileProblem(file, { line: 1, col: 1 }, message)]);
  }
  if (size > MAX_DESCRIPTOR_BYTES) {
    return unreadable(file, [
      fileProblem(file, { line: 1, col: 1 }, `is ${size} bytes; a descriptor may be at most ${MAX_DESCRIPTOR_BYTES} bytes (1 MiB)`),
    ]);
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return unreadable(file, [fileProblem(file, { line: 1, col: 1 }, `cannot be read (${code ?? "unknown error"})`)]);
  }
  // The file may have grown between stat and read.
  if (bytes.length > MAX_DESCRIPTOR_BYTES) {
    return unreadable(file, [
      fileProblem(file, { line: 1, col: 1 }, `is larger than ${MAX_DESCRIPTOR_BYTES} bytes (1 MiB)`),
    ]);
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return unreadable(file, [
      fileProblem(file, { line: 1, col: 1 }, "is encoded as UTF-16 (it starts with a UTF-16 byte order mark)", "save the file as UTF-8 without BOM"),
    ]);
  }
  const invalid = findInvalidUtf8(bytes);
  if (invalid >= 0) {
    // Positions count characters, so decode the valid prefix to place the bad byte.
    const prefix = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes.subarray(0, invalid));
    const byte = (bytes[invalid] ?? 0).toString(16).toUpperCase().padStart(2, "0");
    return unreadable(file, [
      fileProblem(file, positionInText(prefix, prefix.length), `is not valid UTF-8 (byte 0x${byte} at offset ${invalid})`, "save the file as UTF-8"),
    ]);
  }
  // ignoreBOM keeps a UTF-8 BOM in the text so parseDescriptor can refuse it.
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  return parseDescriptor(text, file);
}
