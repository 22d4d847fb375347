// Validates data against one of the shared third-party draft-07 schemas.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { readSharedSchema, sharedSchemaPath } from "./paths.js";

const compiled = new Map<string, Promise<ValidateFunction | null>>();

function compileShared(name: string): Promise<ValidateFunction | null> {
  let validator = compiled.get(name);
  if (!validator) {
    validator = readSharedSchema(name).then((schema) => {
      if (!schema) return null;
      // Third-party schemas use union types and keywords ajv's strict mode rejects;
      // they declare no formats we rely on.
      const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
      return ajv.compile(schema);
    });
    compiled.set(name, validator);
  }
  return validator;
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(root)" : error.instancePath;
  const params = error.params as Record<string, unknown>;
  const detail =
    typeof params["additionalProperty"] === "string"
      ? ` (${String(params["additionalProperty"])})`
      : Array.isArray(params["allowedValues"])
        ? ` (${(params["allowedValues"] as unknown[]).map(String).join(", ")})`
        : "";
  return `${where}: ${error.message ?? error.keyword}${detail}`;
}

/** Findings for `data`, or null when the schema file is missing. */
export async function findSchemaErrors(schemaName: string, data: unknown): Promise<string[] | null> {
  const validate = await compileShared(schemaName);
  if (!validate) return null;
  if (validate(data)) return [];
  // oneOf/anyOf produce many similar lines for one mistake; keep each distinct line once.
  return [...new Set((validate.errors ?? []).map(describeError))];
}

export function missingSchemaReason(schemaName: string): string {
  return `schema ${sharedSchemaPath(schemaName)} not found`;
}
