// Stage 2 of the pipeline: is this descriptor one we can generate from?
// In order, each step only when the previous ones found nothing, because each
// relies on what the previous one proved:
//   1. load problems (the data may not even be what the file says);
//   2. unsafe characters anywhere, and the JSON Schema (types, formats, names);
//   3. rules across fields (references resolve, ports do not clash, …);
//   4. the checks of each enabled artifact kind.
// Every problem of a step is reported at once, sorted by position.
import type { ErrorObject } from "ajv";
import { readFileSync } from "node:fs";
import validateSchema from "../../generated/validate-descriptor.js";
import type { ArtifactKind, RuleProblem } from "../kinds/types.js";
import type { ParsedDescriptor } from "../load.js";
import type { Descriptor } from "../model/descriptor.js";
import { sortProblems, type Problem } from "../problems.js";
import { checkCrossFieldRules } from "./rules.js";
import { findUnsafeStrings } from "./safety.js";
import { explainSchemaErrors, type SchemaProblem } from "./schema-errors.js";

export interface ValidationResult {
  /** Present only when there are no problems. */
  descriptor?: Descriptor;
  problems: Problem[];
}

/** The standalone validator's shape: ajv-compiled, errors in ajv's format. */
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

export interface ValidateOptions {
  /** Defaults to the validator compiled from schemas/deploy.schema.json at build time. */
  validator?: SchemaValidator;
  /** Defaults to reading schemas/deploy.schema.json beside the package, on first need. */
  schema?: Record<string, unknown>;
}

let schemaCache: Record<string, unknown> | null | undefined;

/**
 * The schema JSON, read only when an error message needs it (field names for
 * "did you mean", alternatives of anyOf). It sits two folders up from the
 * source module and one up from the bundled CLI.
 */
function readSchemaFile(): Record<string, unknown> | undefined {
  if (schemaCache !== undefined) return schemaCache ?? undefined;
  schemaCache = null;
  for (const relative of ["../../schemas/deploy.schema.json", "../schemas/deploy.schema.json"]) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8"));
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
        schemaCache = parsed as Record<string, unknown>;
        break;
      }
    } catch {
      // Not at this location; messages fall back to ajv's own words.
    }
  }
  return schemaCache ?? undefined;
}

function isUnder(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(base + "/");
}

export function validateDescriptor(
  parsed: ParsedDescriptor,
  file: string,
  kinds: readonly ArtifactKind[],
  options: ValidateOptions = {},
): ValidationResult {
  if (parsed.problems.length > 0) return { problems: sortProblems(parsed.problems) };

  const toProblem = (p: { pointer: string; message: string; hint?: string | undefined }, isKey = false): Problem => ({
    file,
    pointer: p.pointer,
    ...parsed.locate(p.pointer, isKey ? "key" : "value"),
    message: p.message,
    ...(p.hint === undefined ? {} : { hint: p.hint }),
  });

  const unsafe = findUnsafeStrings(parsed.value);
  const validator = options.validator ?? validateSchema;
  const schemaProblems: SchemaProblem[] = [];
  if (!validator(parsed.value)) {
    schemaProblems.push(
      ...explainSchemaErrors(validator.errors ?? [], {
        value: parsed.value,
        sourceText: parsed.sourceText,
        schema: () => options.schema ?? readSchemaFile(),
      }),
    );
  }
  // The unsafe-character message names the exact field; drop the schema's
  // vaguer pattern errors at the same place (and under a bad key).
  const covered = (p: SchemaProblem): boolean =>
    unsafe.some((u) => (u.isKey ? isUnder(p.pointer, u.pointer) : p.pointer === u.pointer));
  const firstProblems = [
    ...unsafe.map((u) => toProblem(u, u.isKey)),
    ...schemaProblems.filter((p) => !covered(p)).map((p) => toProblem(p, p.isKey)),
  ];
  if (firstProblems.length > 0) return { problems: sortProblems(firstProblems) };

  const descriptor = parsed.value as Descriptor;
  const ruleProblems = checkCrossFieldRules(descriptor).map((p) => toProblem(p));
  if (ruleProblems.length > 0) return { problems: sortProblems(ruleProblems) };

  // Kinds look things up by the names the rules have just proved exist.
  const kindProblems: RuleProblem[] = kinds.filter((kind) => kind.enabled(descriptor)).flatMap((kind) => kind.check?.(descriptor) ?? []);
  if (kindProblems.length > 0) return { problems: sortProblems(kindProblems.map((p) => toProblem(p))) };

  return { descriptor, problems: [] };
}
