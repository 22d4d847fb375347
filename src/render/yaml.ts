// YAML documents (compose and stack files, workflows) printed as prettier prints them.
//
// The yaml library is the reference: a Document made from the data, printed with the
// options below. Building that document costs a node per value, which for a large compose
// file was most of rendering, so plain data of the usual shapes is printed directly here,
// and the library prints anything else (multi-line or control-character strings, document
// markers, very long keys, values that are not plain data). test/render.test.ts holds the
// two to the same output on random data.
import { Document, isMap, isPair, isScalar, isSeq, Scalar } from "yaml";

const YAML_OPTIONS = { indent: 2, indentSeq: true, lineWidth: 0, minContentWidth: 0, singleQuote: null } as const;

/**
 * YAML as prettier prints it: two-space indent, indented sequences, no folding, and
 * prettier's quote choice — double quotes, except single quotes for a string that holds
 * a double quote (the yaml library would pick double when a string holds both kinds).
 */
export function serializeYaml(document: unknown): string {
  const direct = printDirectly(document);
  return direct ?? serializeWithLibrary(document);
}

/** The reference printer: the yaml library's own Document. */
export function serializeWithLibrary(document: unknown): string {
  const doc = new Document(document, { aliasDuplicateObjects: false });
  if (mayHoldBothQuotes(document)) preferSingleQuotes(doc.contents);
  return doc.toString(YAML_OPTIONS);
}

/** Every scalar, keys included, below a node of a document made from plain data. */
function preferSingleQuotes(node: unknown): void {
  if (isScalar(node)) {
    const value = node.value;
    if (typeof value === "string" && holdsBothQuotes(value) && !/[\\\u0000-\u001f]/.test(value)) {
      node.type = Scalar.QUOTE_SINGLE;
    }
  } else if (isMap(node) || isSeq(node)) {
    for (const item of node.items) {
      if (isPair(item)) {
        preferSingleQuotes(item.key);
        preferSingleQuotes(item.value);
      } else {
        preferSingleQuotes(item);
      }
    }
  }
}

function holdsBothQuotes(value: string): boolean {
  return value.includes('"') && value.includes("'");
}

/**
 * Whether a string of the data (a key or a value) holds both quote kinds, or the data is
 * more than plain objects, arrays and scalars and so cannot be told without the library.
 * Most documents have no such string; walking them is much cheaper than visiting every node.
 */
function mayHoldBothQuotes(value: unknown): boolean {
  if (typeof value === "string") return holdsBothQuotes(value);
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some(mayHoldBothQuotes);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return true;
  for (const [key, item] of Object.entries(value)) if (mayHoldBothQuotes(key) || mayHoldBothQuotes(item)) return true;
  return false;
}

/** Thrown inside the direct printer for anything it leaves to the library. */
class NotPlain extends Error {}

/**
 * The tests by which the library's core schema reads a plain scalar as something other
 * than a string (null, true, 12, 0x1f, 1e3, .inf…): such a string must be quoted. Taken
 * from the library itself, so both printers quote exactly the same strings.
 */
let typedScalarTests: RegExp[] | undefined;
function readsAsNonString(value: string): boolean {
  typedScalarTests ??= new Document()
    .schema.tags.filter((tag) => tag.default === true && tag.tag !== "tag:yaml.org,2002:str" && tag.test !== undefined)
    .map((tag) => tag.test as RegExp);
  return typedScalarTests.some((test) => test.test(value));
}

// A plain scalar may not start with an indicator, be a lone - or ?, hold ": " or " #",
// or end in a space or colon (the library's own rule, for one-line strings).
const NOT_PLAIN = /^[\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|:[ \t]|[\t ]#|[\t :]$/;
// Left to the library: line breaks and control characters (block scalars, escapes),
// lone surrogates, and what could read as a document marker or directive.
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]|^(?:---|\.\.\.|%)/u;

/**
 * Printed strings by value: a compose file repeats its keys and many values once per
 * service, and a lookup is cheaper than the dozen pattern tests of a string.
 */
const printedStrings = new Map<string, string>();
const MAX_REMEMBERED = 50_000;

function printString(value: string): string {
  if (value.length <= 1000) {
    const known = printedStrings.get(value);
    if (known !== undefined) return known;
    const printed = printNewString(value);
    if (printedStrings.size < MAX_REMEMBERED) printedStrings.set(value, printed);
    return printed;
  }
  return printNewString(value);
}

/**
 * A key as printed. The library makes a key of more than 1024 printed characters an
 * explicit one (`? key`), which is left to it.
 */
function printKey(key: string): string {
  const printed = printString(key);
  if (printed.length > 1024) throw new NotPlain();
  return printed;
}

function printNewString(value: string): string {
  if (value === "" || NOT_ONE_LINE.test(value)) {
    if (value === "") return '""';
    throw new NotPlain();
  }
  const hasDouble = value.includes('"');
  const hasSingle = value.includes("'");
  // Both kinds: single quotes even where plain would do, as preferSingleQuotes sets them,
  // unless a backslash is there.
  if (hasDouble && hasSingle && !value.includes("\\")) return singleQuoted(value);
  if (!NOT_PLAIN.test(value) && !readsAsNonString(value)) return value;
  // Single quotes for a double quote inside, as prettier; double quotes otherwise.
  return hasDouble && !hasSingle ? singleQuoted(value) : JSON.stringify(value);
}

function singleQuoted(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function printNumber(value: number): string {
  if (Number.isNaN(value)) return ".nan";
  if (!Number.isFinite(value)) return value < 0 ? "-.inf" : ".inf";
  return Object.is(value, -0) ? "-0" : JSON.stringify(value);
}

function printScalar(value: unknown): string | undefined {
  if (value === null) return "null";
  if (typeof value === "string") return printString(value);
  if (typeof value === "number") return printNumber(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (isScalar(value)) return printScalarNode(value);
  if (typeof value === "object") return undefined;
  throw new NotPlain();
}

/**
 * The two scalar nodes kinds build: a string forced into double quotes, and an integer
 * in octal. Any other node (a comment, a tag, an anchor) is left to the library.
 */
function printScalarNode(node: Scalar): string {
  if (node.comment || node.commentBefore || node.tag !== undefined || node.anchor !== undefined || node.spaceBefore) {
    throw new NotPlain();
  }
  const { value } = node;
  if (node.type === Scalar.QUOTE_DOUBLE && node.format === undefined && typeof value === "string") {
    if (value === "") return '""';
    if (NOT_ONE_LINE.test(value)) throw new NotPlain();
    // preferSingleQuotes turns every string holding both quote kinds to single quotes.
    if (holdsBothQuotes(value) && !value.includes("\\")) return singleQuoted(value);
    return JSON.stringify(value);
  }
  if (node.format === "OCT" && node.type === undefined && typeof value === "number" && Number.isInteger(value) && value >= 0) {
    return `0o${value.toString(8)}`;
  }
  throw new NotPlain();
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The lines of a collection whose entries sit at `indent`. The first line starts with
 * `first` instead: the indent itself, or the "- " of the sequence item that holds it.
 */
function printCollection(value: object, indent: string, first: string, out: string[]): void {
  const child = `${indent}  `;
  let lead = first;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      if (item === undefined) throw new NotPlain();
      const dash = `${lead}- `;
      const scalar = printScalar(item);
      if (scalar !== undefined) out.push(`${dash}${scalar}`);
      else if (isEmptyCollection(item as object)) out.push(`${dash}${Array.isArray(item) ? "[]" : "{}"}`);
      else printCollection(item as object, child, dash, out);
      lead = indent;
    }
    return;
  }
  if (!isPlainObject(value)) throw new NotPlain();
  for (const key of Object.keys(value)) {
    const item = value[key];
    // A Document leaves out pairs whose value is undefined.
    if (item === undefined) continue;
    const keyText = `${lead}${printKey(key)}:`;
    const scalar = printScalar(item);
    if (scalar !== undefined) out.push(`${keyText} ${scalar}`);
    else if (isEmptyCollection(item as object)) out.push(`${keyText} ${Array.isArray(item) ? "[]" : "{}"}`);
    else {
      out.push(keyText);
      printCollection(item as object, child, child, out);
    }
    lead = indent;
  }
}

function isEmptyCollection(value: object): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (!isPlainObject(value)) throw new NotPlain();
  for (const key of Object.keys(value)) if (value[key] !== undefined) return false;
  return true;
}

/** The document printed directly, or undefined where the library must print it. */
export function printDirectly(document: unknown): string | undefined {
  try {
    const scalar = printScalar(document);
    if (scalar !== undefined) return `${scalar}\n`;
    const root = document as object;
    if (isEmptyCollection(root)) return Array.isArray(root) ? "[]\n" : "{}\n";
    const out: string[] = [];
    printCollection(root, "", "", out);
    return `${out.join("\n")}\n`;
  } catch (error) {
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
}
