// Turns ajv's errors into problems a person can act on: one problem per
// location, named by the field, in words rather than keywords. The schema JSON
// is only consulted here, on the error path, to find allowed field names and
// the alternatives of anyOf / if-then-else.
import type { ErrorObject } from "ajv";
import { joinPointer, quote, splitPointer } from "../problems.js";
import { closestName } from "./suggest.js";

export interface SchemaProblem {
  pointer: string;
  /** Point at the key (unknown or badly named property), not the value. */
  isKey: boolean;
  message: string;
  hint?: string;
}

type SchemaNode = Record<string, unknown>;

export interface SchemaErrorContext {
  /** The validated data. */
  value: unknown;
  /** The characters a scalar was written with, when known. */
  sourceText(pointer: string): string | undefined;
  /** The schema document, loaded on first use; undefined when unavailable. */
  schema(): SchemaNode | undefined;
}

function isNode(value: unknown): value is SchemaNode {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function valueAt(value: unknown, pointer: string): unknown {
  let node = value;
  for (const segment of splitPointer(pointer)) {
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isNode(node) && Object.prototype.hasOwnProperty.call(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

function walkSchema(start: unknown, segments: readonly string[]): unknown {
  let node = start;
  for (const segment of segments) {
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isNode(node)) node = node[segment];
    else return undefined;
  }
  return node;
}

function deref(root: SchemaNode, node: unknown): SchemaNode | undefined {
  let current = node;
  for (let hops = 0; hops < 32 && isNode(current) && typeof current.$ref === "string"; hops++) {
    const ref = current.$ref;
    if (!ref.startsWith("#")) return undefined;
    const target = walkSchema(root, splitPointer(ref.slice(1)));
    // A $ref beside other keywords keeps them (2020-12); keep the referring node too.
    if (Object.keys(current).some((k) => k !== "$ref" && k !== "title" && k !== "description" && k !== "examples" && k !== "default")) {
      return current;
    }
    current = target;
  }
  return isNode(current) ? current : undefined;
}

/** A node with every subschema that applies alongside it: $ref targets, allOf/anyOf/oneOf members, then/else. */
function expand(root: SchemaNode, node: unknown, depth = 0): SchemaNode[] {
  const resolved = deref(root, node);
  if (!resolved || depth > 16) return [];
  const found = [resolved];
  if (typeof resolved.$ref === "string") found.push(...expand(root, { $ref: resolved.$ref }, depth + 1));
  for (const keyword of ["allOf", "anyOf", "oneOf"]) {
    const members = resolved[keyword];
    if (Array.isArray(members)) for (const member of members) found.push(...expand(root, member, depth + 1));
  }
  for (const keyword of ["then", "else"]) {
    if (resolved[keyword] !== undefined) found.push(...expand(root, resolved[keyword], depth + 1));
  }
  return found;
}

/** The subschemas that describe the data at `pointer` (by following properties, additionalProperties, items). */
function schemasAt(root: SchemaNode, value: unknown, pointer: string): SchemaNode[] {
  let current = expand(root, root);
  let data = value;
  for (const segment of splitPointer(pointer)) {
    const next: unknown[] = [];
    for (const schema of current) {
      const properties = schema.properties;
      if (isNode(properties) && segment in properties) next.push(properties[segment]);
      else if (Array.isArray(data) && schema.items !== undefined) next.push(schema.items);
      else if (!Array.isArray(data) && isNode(schema.additionalProperties)) next.push(schema.additionalProperties);
    }
    data = Array.isArray(data) ? data[Number(segment)] : isNode(data) ? data[segment] : undefined;
    current = next.flatMap((n) => expand(root, n));
  }
  return current;
}

/**
 * The schema nodes an ajv schemaPath may name. Standalone code reports paths
 * relative to whichever subschema it compiled as a function, so the path is
 * tried from every subschema that applies at the error's location, and from
 * the root; callers pick the resolution consistent with the errors.
 */
function resolveSchemaPath(ctx: SchemaErrorContext, schemaPath: string, instancePath: string): unknown[] {
  const root = ctx.schema();
  if (!root) return [];
  const segments = splitPointer(schemaPath.replace(/^#/, ""));
  const found: unknown[] = [];
  const segmentsOfInstance = splitPointer(instancePath);
  const starts: SchemaNode[] = [];
  for (let depth = segmentsOfInstance.length; depth >= 0; depth--) {
    starts.push(...schemasAt(root, ctx.value, joinPointer(segmentsOfInstance.slice(0, depth))));
  }
  for (const start of [...starts, root]) {
    const node = walkSchema(start, segments);
    if (node !== undefined && !found.includes(node)) found.push(node);
  }
  return found;
}

const TYPE_WORDS: Record<string, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true/false",
  object: "a map",
  array: "a list",
  null: "empty",
};

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "an empty value";
  if (typeof value === "string") return `the string ${quote(value.length > 40 ? value.slice(0, 37) + "..." : value)}`;
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  return "a map";
}

function listWords(words: readonly string[], conjunction: string): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} ${conjunction} ${words[words.length - 1]}`;
}

const YAML11_BOOLEAN = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const YAML11_HINT = "YAML 1.2 reads yes/no as strings: write true or false";

// Friendly words for the shared formats of the schema's $defs.
const FORMAT_MESSAGES: Record<string, { message: string; keyMessage?: string }> = {
  identifier: {
    message: "must be ASCII lowercase letters, digits and '-', starting with a letter (at most 63 characters)",
    keyMessage: "the name must be ASCII lowercase letters, digits and '-', starting with a letter (at most 63 characters)",
  },
  envKey: {
    message: "must be ASCII uppercase letters, digits and '_', not starting with a digit",
    keyMessage: "the variable name must be ASCII uppercase letters, digits and '_', not starting with a digit",
  },
  text: { message: "must be one line without control characters" },
  duration: { message: "must be a duration such as 30s, 1m30s, 500ms or 2h" },
  containerPath: { message: "must be an absolute path (starting with /) without a .. segment" },
  hostPath: { message: "must be an absolute path or start with ./, without a .. segment" },
  relativePath: { message: "must be a relative path inside the project, without a .. segment" },
  image: { message: "must be an image reference such as postgres:16.4 or ghcr.io/org/app:1.2" },
  ipAddress: { message: "must be an IPv4 or IPv6 address" },
  cidr: { message: "must be a network in CIDR form such as 192.168.50.0/24" },
  unixName: { message: "must be a Unix name: lowercase letters, digits, '_' and '-', starting with a letter or '_' (at most 32 characters)" },
};

function formatOf(ctx: SchemaErrorContext, error: ErrorObject): string | undefined {
  const fromPath = /^#\/\$defs\/([^/]+)\/pattern$/.exec(error.schemaPath)?.[1];
  if (fromPath !== undefined && fromPath in FORMAT_MESSAGES) return fromPath;
  const defs = ctx.schema()?.$defs;
  if (!isNode(defs)) return undefined;
  return Object.keys(FORMAT_MESSAGES).find((name) => {
    const def = defs[name];
    return isNode(def) && def.pattern === error.params.pattern;
  });
}

function nonAsciiHint(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /[^\x00-\x7f]/u.exec(value);
  if (!match) return undefined;
  const code = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
  return `${quote(value)} contains U+${code}, which is not ASCII (it may only look like an ASCII letter)`;
}

/** The first sentence of a schema description, when short enough for a hint. */
function firstSentence(text: string): string | undefined {
  const end = text.search(/\.(\s|$)/);
  const sentence = end > 0 ? text.slice(0, end) : text;
  return sentence.length <= 100 ? sentence : undefined;
}

function explainPattern(ctx: SchemaErrorContext, error: ErrorObject, pointer: string, isKey: boolean, value: unknown): SchemaProblem {
  const format = formatOf(ctx, error);
  const hint = nonAsciiHint(value);
  const withHint = (message: string, other?: string): SchemaProblem => {
    const h = hint ?? other;
    return { pointer, isKey, message, ...(h === undefined ? {} : { hint: h }) };
  };
  if (format !== undefined) {
    const words = FORMAT_MESSAGES[format];
    if (isKey) return withHint(words?.keyMessage ?? words?.message ?? "is not an allowed name");
    return withHint(`${words?.message ?? "has the wrong format"} (found ${describeValue(value)})`);
  }
  const root = ctx.schema();
  const owner = root
    ? schemasAt(root, ctx.value, isKey ? pointer.slice(0, pointer.lastIndexOf("/")) : pointer).find((s) => s.pattern === error.params.pattern)
    : undefined;
  const title = typeof owner?.title === "string" ? owner.title : undefined;
  const description = typeof owner?.description === "string" ? firstSentence(owner.description) : undefined;
  if (title !== undefined) return withHint(`${quote(String(value))} is not a valid ${title.charAt(0).toLowerCase()}${title.slice(1)}`, description);
  return withHint(`${quote(String(value))} does not match the pattern ${quote(String(error.params.pattern))}`);
}

function explainType(ctx: SchemaErrorContext, pointer: string, types: readonly string[], value: unknown): SchemaProblem {
  const words = [...new Set(types.map((t) => TYPE_WORDS[t] ?? t))];
  const expected = words.length === 1 && words[0] === TYPE_WORDS.boolean ? "true or false" : listWords(words, "or");
  const message = `must be ${expected} (found ${describeValue(value)})`;
  let hint: string | undefined;
  if (typeof value === "string" && YAML11_BOOLEAN.test(value) && types.includes("boolean")) hint = YAML11_HINT;
  else if (typeof value === "string" && /^[-+]?[0-9]+(\.[0-9]+)?$/.test(value) && (types.includes("integer") || types.includes("number"))) {
    hint = `write ${value} without quotes`;
  } else if ((typeof value === "number" || typeof value === "boolean") && types.includes("string")) {
    const written = ctx.sourceText(pointer) ?? String(value);
    hint =
      typeof value === "number" && written !== String(value)
        ? `write "${written}" in quotes: unquoted, YAML reads it as the number ${value}`
        : `write "${written}" in quotes to keep it a string`;
  } else if (value === null && types.includes("object")) {
    hint = "the value is empty: add its fields, or remove the key";
  }
  return { pointer, isKey: false, message, ...(hint === undefined ? {} : { hint }) };
}

function allowedProperties(ctx: SchemaErrorContext, pointer: string): string[] {
  const root = ctx.schema();
  if (!root) return [];
  const names = new Set<string>();
  for (const schema of schemasAt(root, ctx.value, pointer)) {
    if (isNode(schema.properties)) for (const name of Object.keys(schema.properties)) names.add(name);
  }
  return [...names].sort();
}

function explainNot(ctx: SchemaErrorContext, error: ErrorObject): SchemaProblem {
  const P = error.instancePath;
  const data = valueAt(ctx.value, P);
  const parentPath = error.schemaPath.replace(/\/not$/, "");
  const requiredOf = (owner: unknown): string[] => {
    const excluded = isNode(owner) && isNode(owner.not) ? owner.not : undefined;
    return Array.isArray(excluded?.required) ? excluded.required.filter((n): n is string => typeof n === "string") : [];
  };
  // The `not` that failed is the one whose excluded fields are all present.
  const owners = resolveSchemaPath(ctx, parentPath, P);
  const owner = owners.find((o) => {
    const names = requiredOf(o);
    return names.length > 0 && isNode(data) && names.every((n) => n in data);
  }) ?? owners[0];
  const names = requiredOf(owner);
  if (names.length >= 2) {
    return {
      pointer: joinPointer([...splitPointer(P), names[names.length - 1] ?? ""]),
      isKey: true,
      message: `use ${listWords(names, "or")}, not ${names.length === 2 ? "both" : "several"}`,
    };
  }
  const description = isNode(owner) && typeof owner.description === "string" ? firstSentence(owner.description) : undefined;
  return { pointer: P, isKey: false, message: description ?? "is a combination that is not allowed" };
}

function explainError(ctx: SchemaErrorContext, error: ErrorObject): SchemaProblem | undefined {
  const P = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    // An error about a key (propertyNames): name the key itself.
    const pointer = joinPointer([...splitPointer(P), propertyName]);
    if (error.keyword === "pattern") return explainPattern(ctx, error, pointer, true, propertyName);
    return { pointer, isKey: true, message: `the name ${quote(propertyName)} ${error.message ?? "is not allowed"}` };
  }
  const value = valueAt(ctx.value, P);
  switch (error.keyword) {
    case "propertyNames":
    case "if":
      // The specific errors that caused these are reported on their own.
      return undefined;
    case "required": {
      const missing = String(params.missingProperty);
      return { pointer: joinPointer([...splitPointer(P), missing]), isKey: false, message: "is required" };
    }
    case "additionalProperties":
    case "unevaluatedProperties": {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      const allowed = allowedProperties(ctx, P);
      const close = closestName(name, allowed);
      const hint =
        close !== undefined
          ? `did you mean ${quote(close)}?`
          : allowed.length > 0 && allowed.length <= 12
            ? `allowed fields: ${allowed.join(", ")}`
            : undefined;
      return {
        pointer: joinPointer([...splitPointer(P), name]),
        isKey: true,
        message: `unknown field ${quote(name)}`,
        ...(hint === undefined ? {} : { hint }),
      };
    }
    case "type": {
      const types = Array.isArray(params.type) ? params.type.map(String) : [String(params.type)];
      return explainType(ctx, P, types, value);
    }
    case "enum": {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      const hint = typeof value === "string" && YAML11_BOOLEAN.test(value) && allowed.some((a) => typeof a === "boolean") ? YAML11_HINT : undefined;
      return {
        pointer: P,
        isKey: false,
        message: `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")} (found ${describeValue(value)})`,
        ...(hint === undefined ? {} : { hint }),
      };
    }
    case "const": {
      const allowed = params.allowedValue;
      const hint = typeof value === "string" && YAML11_BOOLEAN.test(value) && typeof allowed === "boolean" ? YAML11_HINT : undefined;
      return {
        pointer: P,
        isKey: false,
        message: `must be ${JSON.stringify(allowed)} (found ${describeValue(value)})`,
        ...(hint === undefined ? {} : { hint }),
      };
    }
    case "pattern":
      return explainPattern(ctx, error, P, false, value);
    case "not":
      return explainNot(ctx, error);
    case "uniqueItems": {
      const later = Math.max(Number(params.i), Number(params.j));
      const earlier = Math.min(Number(params.i), Number(params.j));
      return { pointer: joinPointer([...splitPointer(P), later]), isKey: false, message: `repeats item [${earlier}]` };
    }
    case "dependentRequired":
    case "dependencies": {
      const property = String(params.property);
      return {
        pointer: joinPointer([...splitPointer(P), property]),
        isKey: true,
        message: `${property} needs ${String(params.missingProperty)} beside it`,
      };
    }
    case "minProperties":
      return { pointer: P, isKey: false, message: `needs at least ${String(params.limit)} ${Number(params.limit) === 1 ? "entry" : "entries"}` };
    case "minItems":
      return { pointer: P, isKey: false, message: `needs at least ${String(params.limit)} ${Number(params.limit) === 1 ? "item" : "items"}` };
    default:
      return { pointer: P, isKey: false, message: (error.message ?? `fails ${error.keyword}`).replace(/must NOT/g, "must not") };
  }
}

function isUnder(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(base + "/");
}

/** For each alternative of a resolved anyOf/oneOf array, the schema paths its errors carry (its own, and its $ref target's). */
function branchPrefixes(error: ErrorObject, owner: unknown): string[][] {
  if (!Array.isArray(owner)) return [];
  return owner.map((member: unknown, i) => {
    const ref = isNode(member) && typeof member.$ref === "string" ? [member.$ref] : [];
    return [`${error.schemaPath}/${i}`, ...ref];
  });
}

function matchesPrefix(schemaPath: string, prefix: string): boolean {
  return schemaPath === prefix || schemaPath.startsWith(prefix + "/");
}

/** Splits the tail of `out` into the alternatives' errors; undefined when they do not fit. */
function groupTail(out: readonly ErrorObject[], P: string, prefixes: string[][]): ErrorObject[][] | undefined {
  if (prefixes.length === 0) return undefined;
  const groups: ErrorObject[][] = prefixes.map(() => []);
  for (let i = out.length - 1; i >= 0; i--) {
    const e = out[i] as ErrorObject;
    if (!isUnder(e.instancePath, P)) break;
    const index = prefixes.findIndex((list) => list.some((prefix) => matchesPrefix(e.schemaPath, prefix)));
    if (index < 0) break;
    (groups[index] as ErrorObject[]).unshift(e);
  }
  return groups.every((g) => g.length > 0) ? groups : undefined;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typesOf(e: ErrorObject): string[] {
  return (Array.isArray(e.params.type) ? e.params.type : [e.params.type]).map(String);
}

/**
 * Folds the errors of alternatives (anyOf/oneOf, if-then-else) into what the
 * user needs: the alternative that came closest, or one line listing the types.
 * ajv reports an alternative's errors right before the error of the keyword
 * that combines them, which is how they are found here.
 */
function collapseAlternatives(ctx: SchemaErrorContext, errors: readonly ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  for (const error of errors) {
    const P = error.instancePath;
    if (error.keyword === "if") {
      // `if: {type: string}` then one form, else another: a type error of the
      // branch taken is reported with both types. The branch's errors are the
      // ones right before this one; only a type error at P itself is changed.
      const elseTaken = (error.params as { failingKeyword?: unknown }).failingKeyword === "else";
      const actual = jsonType(valueAt(ctx.value, P));
      const conditions = resolveSchemaPath(ctx, error.schemaPath, P).filter(
        (c): c is SchemaNode =>
          isNode(c) && Object.keys(c).length === 1 && typeof c.type === "string" && (c.type === actual) !== elseTaken,
      );
      const condition = conditions[0]?.type;
      for (let i = out.length - 1; i >= 0 && typeof condition === "string"; i--) {
        const e = out[i] as ErrorObject;
        if (!isUnder(e.instancePath, P)) break;
        if (e.keyword === "type" && e.instancePath === P && !typesOf(e).includes(condition)) {
          out[i] = { ...e, params: { ...e.params, type: [condition, ...typesOf(e)] } };
        }
      }
      continue;
    }
    if (error.keyword !== "anyOf" && error.keyword !== "oneOf") {
      out.push(error);
      continue;
    }
    if ((error.params as { passingSchemas?: unknown }).passingSchemas) {
      out.push({ ...error, keyword: "x-message", message: "matches more than one alternative; make it match exactly one" });
      continue;
    }
    // Of the places the relative schema path may name, take the one whose alternatives explain the most errors.
    let chosen: ErrorObject[][] | undefined;
    const count = (groups: ErrorObject[][] | undefined): number => groups?.reduce((n, g) => n + g.length, 0) ?? 0;
    for (const owner of resolveSchemaPath(ctx, error.schemaPath, P)) {
      const groups = groupTail(out, P, branchPrefixes(error, owner));
      if (groups && count(groups) > count(chosen)) chosen = groups;
    }
    if (!chosen) {
      // The alternatives' errors stay as they are; say that none matched.
      out.push({ ...error, keyword: "x-message", message: "matches none of the allowed forms" });
      continue;
    }
    const groups = chosen;
    out.splice(out.length - count(groups));

    if (groups.every((g) => g.every((e) => e.keyword === "required" && e.instancePath === P))) {
      const names = groups.flatMap((g) => g.map((e) => String(e.params.missingProperty)));
      out.push({ ...error, keyword: "x-message", message: `needs one of ${listWords(names, "or")}` });
      continue;
    }
    const wrongType = (g: ErrorObject[]): boolean => g.some((e) => e.keyword === "type" && e.instancePath === P);
    if (groups.every(wrongType)) {
      const types = groups.flatMap((g) => g.filter((e) => e.keyword === "type" && e.instancePath === P).flatMap(typesOf));
      out.push({ ...error, keyword: "type", params: { type: [...new Set(types)] } });
      continue;
    }
    const candidates = groups.filter((g) => !wrongType(g));
    out.push(...candidates.reduce((a, b) => (b.length < a.length ? b : a)));
  }
  // With the wrong type at a place, errors about its contents there are noise
  // (a `not` of required fields even passes vacuously on a non-map).
  const wrongTypeAt = new Set(out.filter((e) => e.keyword === "type").map((e) => e.instancePath));
  return out.filter((e) => e.keyword === "type" || !wrongTypeAt.has(e.instancePath));
}

export function explainSchemaErrors(errors: readonly ErrorObject[], ctx: SchemaErrorContext): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of collapseAlternatives(ctx, errors)) {
    const problem =
      error.keyword === "x-message"
        ? { pointer: error.instancePath, isKey: false, message: error.message ?? "matches none of the allowed forms" }
        : explainError(ctx, error);
    if (!problem) continue;
    const key = `${problem.pointer}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}
