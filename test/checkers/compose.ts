// Compose files: strict YAML, then the compose-spec schema; overlays are merged into the
// base file with compose's merge rules so that each combination is validated as well.
import { type CheckResult } from "./result.js";
import { findSchemaErrors, missingSchemaReason } from "./ajv.js";
import { parseYamlStrictly } from "./yaml.js";

const SCHEMA = "compose-spec.json";

/** A value carrying compose's `!reset` or `!override` tag. */
export class ComposeTagged {
  constructor(
    readonly tag: "!reset" | "!override",
    readonly value: unknown,
  ) {}
}

const composeTags = (["!reset", "!override"] as const).flatMap((tag) => [
  { tag, resolve: (text: string) => new ComposeTagged(tag, text === "" ? null : text) },
  { tag, collection: "map" as const, resolve: (map: { toJSON(): unknown }) => new ComposeTagged(tag, map.toJSON()) },
  { tag, collection: "seq" as const, resolve: (seq: { toJSON(): unknown }) => new ComposeTagged(tag, seq.toJSON()) },
]);

export function parseCompose(content: string): { data: unknown; findings: string[] } {
  // Compose itself honours `<<` merge keys, so the checker does too.
  return parseYamlStrictly(content, { customTags: composeTags, merge: true });
}

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof ComposeTagged);
}

/** The file as compose reads it alone: `!reset` keys dropped, `!override` values plain. */
export function resolveComposeTags(value: unknown): unknown {
  if (value instanceof ComposeTagged) return value.tag === "!override" ? resolveComposeTags(value.value) : undefined;
  if (Array.isArray(value)) return value.map(resolveComposeTags);
  if (isMapping(value)) {
    const result: Mapping = {};
    for (const [key, entry] of Object.entries(value)) {
      const resolved = resolveComposeTags(entry);
      if (resolved !== undefined) result[key] = resolved;
    }
    return result;
  }
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function appendUnique(base: unknown[], overlay: unknown[]): unknown[] {
  const result = [...base];
  for (const entry of overlay) if (!result.some((existing) => sameValue(existing, entry))) result.push(entry);
  return result;
}

/** Sequences whose entries are identified by a key: an overlay entry with the same key replaces the base one. */
function mergeByKey(base: unknown[], overlay: unknown[], keyOf: (entry: unknown) => string): unknown[] {
  const result = [...base];
  for (const entry of overlay) {
    const index = result.findIndex((existing) => keyOf(existing) === keyOf(entry));
    if (index === -1) result.push(entry);
    else result[index] = isMapping(result[index]) && isMapping(entry) ? mergeMappings(result[index] as Mapping, entry) : entry;
  }
  return result;
}

function portKey(entry: unknown): string {
  if (isMapping(entry)) {
    return [entry["host_ip"] ?? "", entry["target"] ?? "", entry["published"] ?? "", entry["protocol"] ?? "tcp"].map(String).join("|");
  }
  const text = String(entry);
  const slash = text.lastIndexOf("/");
  const protocol = slash === -1 ? "tcp" : text.slice(slash + 1);
  const parts = (slash === -1 ? text : text.slice(0, slash)).split(":");
  const target = parts.pop() ?? "";
  const published = parts.pop() ?? "";
  return [parts.join(":"), target, published, protocol].join("|");
}

function volumeKey(entry: unknown): string {
  if (isMapping(entry)) return String(entry["target"] ?? "");
  const parts = String(entry).split(":");
  return (parts.length === 1 ? parts[0] : parts[1]) ?? "";
}

function secretKey(entry: unknown): string {
  if (isMapping(entry)) return String(entry["target"] ?? entry["source"] ?? "");
  return String(entry);
}

/** `[A=1, B]` or `{A: 1, B: null}` as a mapping, so both forms merge by key. */
function keyedMapping(value: unknown, separator: string): Mapping {
  if (isMapping(value)) return value;
  const result: Mapping = {};
  for (const entry of Array.isArray(value) ? value : []) {
    const text = String(entry);
    const at = text.indexOf(separator);
    if (at === -1) result[text] = null;
    else result[text.slice(0, at)] = text.slice(at + 1);
  }
  return result;
}

/** `[a, b]` or `{a: {...}}` (depends_on, networks): lists merge as lists, otherwise as mappings. */
function mergeListOrMapping(base: unknown, overlay: unknown, entryFromName: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(overlay)) return appendUnique(base, overlay);
  const asMapping = (value: unknown): Mapping =>
    isMapping(value) ? value : Object.fromEntries((Array.isArray(value) ? value : []).map((name) => [String(name), entryFromName]));
  return mergeMappings(asMapping(base), asMapping(overlay));
}

function mergeGeneric(base: unknown, overlay: unknown): unknown {
  if (isMapping(base) && isMapping(overlay)) return mergeMappings(base, overlay);
  if (Array.isArray(base) && Array.isArray(overlay)) return appendUnique(base, overlay);
  return resolveComposeTags(overlay);
}

function mergeMappings(base: Mapping, overlay: Mapping, mergeEntry: (key: string, base: unknown, overlay: unknown) => unknown = (_key, b, o) => mergeGeneric(b, o)): Mapping {
  const result: Mapping = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value instanceof ComposeTagged) {
      if (value.tag === "!reset") delete result[key];
      else result[key] = resolveComposeTags(value.value);
    } else if (!(key in result)) {
      result[key] = resolveComposeTags(value);
    } else {
      result[key] = mergeEntry(key, result[key], value);
    }
  }
  return result;
}

function mergeServiceAttribute(key: string, base: unknown, overlay: unknown): unknown {
  switch (key) {
    case "command":
    case "entrypoint":
      return resolveComposeTags(overlay);
    case "healthcheck":
      return isMapping(base) && isMapping(overlay)
        ? mergeMappings(base, overlay, (inner, b, o) => (inner === "test" ? resolveComposeTags(o) : mergeGeneric(b, o)))
        : resolveComposeTags(overlay);
    case "environment":
    case "labels":
    case "annotations":
    case "sysctls":
      return mergeMappings(keyedMapping(base, "="), keyedMapping(overlay, "="));
    case "build":
      return isMapping(base) && isMapping(overlay)
        ? mergeMappings(base, overlay, (inner, b, o) =>
            inner === "args" || inner === "labels" ? mergeMappings(keyedMapping(b, "="), keyedMapping(o, "=")) : mergeGeneric(b, o),
          )
        : resolveComposeTags(overlay);
    case "ports":
      return Array.isArray(base) && Array.isArray(overlay) ? mergeByKey(base, overlay, portKey) : resolveComposeTags(overlay);
    case "volumes":
      return Array.isArray(base) && Array.isArray(overlay) ? mergeByKey(base, overlay, volumeKey) : resolveComposeTags(overlay);
    case "secrets":
    case "configs":
      return Array.isArray(base) && Array.isArray(overlay) ? mergeByKey(base, overlay, secretKey) : resolveComposeTags(overlay);
    case "depends_on":
      return mergeListOrMapping(base, overlay, { condition: "service_started" });
    case "networks":
      return mergeListOrMapping(base, overlay, null);
    default:
      return mergeGeneric(base, overlay);
  }
}

/**
 * The compose model of `base` with each overlay applied in order (compose's merge rules:
 * mappings merged deeply, sequences appended without duplicates, command/entrypoint/healthcheck
 * test replaced, environment/labels merged by key, ports/volumes/secrets/configs unique by their
 * key, `!reset` and `!override` honoured).
 */
export function mergeComposeFiles(base: unknown, overlays: unknown[]): unknown {
  let merged = resolveComposeTags(base);
  for (const overlay of overlays) {
    if (!isMapping(merged) || !isMapping(overlay)) {
      merged = resolveComposeTags(overlay);
      continue;
    }
    merged = mergeMappings(merged, overlay, (key, b, o) => {
      if (key !== "services" || !isMapping(b) || !isMapping(o)) return mergeGeneric(b, o);
      return mergeMappings(b, o, (_name, baseService, overlayService) =>
        isMapping(baseService) && isMapping(overlayService)
          ? mergeMappings(baseService, overlayService, mergeServiceAttribute)
          : resolveComposeTags(overlayService),
      );
    });
  }
  return merged;
}

/** The compose-spec schema's verdict on an already parsed (or merged) compose model. */
export async function checkComposeModel(model: unknown): Promise<CheckResult> {
  const tool = "compose-spec schema";
  const errors = await findSchemaErrors(SCHEMA, resolveComposeTags(model));
  if (errors === null) return { tool, skipped: missingSchemaReason(SCHEMA), findings: [] };
  return { tool, findings: errors };
}

export async function checkCompose(content: string): Promise<CheckResult> {
  const parsed = parseCompose(content);
  if (parsed.findings.length > 0) return { tool: "yaml (compose)", findings: parsed.findings };
  return checkComposeModel(parsed.data);
}

/** Validates the model compose builds from `base` plus `overlays` (file contents, in order). */
export async function checkComposeMerge(base: string, overlays: string[]): Promise<CheckResult> {
  const files = [base, ...overlays].map(parseCompose);
  const findings = files.flatMap((file, index) => file.findings.map((finding) => `file ${index + 1}: ${finding}`));
  if (findings.length > 0) return { tool: "yaml (compose)", findings };
  const [first, ...rest] = files.map((file) => file.data);
  return checkComposeModel(mergeComposeFiles(first, rest));
}
