// Third-party schemas live beside the repository (../shared/schemas), never inside it.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function sharedSchemaPath(name: string): string {
  return resolve(repoRoot, "../shared/schemas", name);
}

/** The schema as an object ready for ajv 8, or null when the file is not there. */
export async function readSharedSchema(name: string): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(sharedSchemaPath(name), "utf8");
  } catch {
    return null;
  }
  const schema = JSON.parse(text) as Record<string, unknown>;
  // Draft-07 schemas: ajv 8 compiles them without the meta-schema reference.
  delete schema["$schema"];
  return schema;
}
