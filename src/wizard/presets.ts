// Presets: each bundled example (its deploy.yaml under the project's name, comments and all)
// and each generic deployment shape (the wizard's defaults with that shape).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMap, parseDocument } from "yaml";
import { SHAPES, type Shape } from "./answers.js";
import { schemaLine } from "./descriptor-text.js";
import { findPackageRoot } from "./package-root.js";

export const EXAMPLE_PRESETS = ["bids-flux", "dicom-pipeline", "genui", "mlops-api"] as const;
export type ExamplePreset = (typeof EXAMPLE_PRESETS)[number];

export const PRESET_NAMES: readonly string[] = [...SHAPES, ...EXAMPLE_PRESETS];

export type Preset = { kind: "shape"; shape: Shape } | { kind: "example"; example: ExamplePreset };

export function findPreset(name: string): Preset | undefined {
  if ((SHAPES as readonly string[]).includes(name)) return { kind: "shape", shape: name as Shape };
  if ((EXAMPLE_PRESETS as readonly string[]).includes(name)) return { kind: "example", example: name as ExamplePreset };
  return undefined;
}

export const PRESET_TITLES: Record<string, string> = {
  compose: "docker compose on one host",
  systemd: "a systemd service on one host",
  "compose-nodes": "docker compose across a main and a worker node",
  swarm: "docker swarm across a manager and a worker node",
  "image-ci": "an image built and pushed by GitHub Actions",
  "bids-flux": "example: a two-node docker swarm with a Mercure hub beside the stack",
  "dicom-pipeline": "example: a Python DICOM receiver run by systemd",
  genui: "example: Django, Celery (one GPU worker), PostgreSQL, Redis and nginx across two nodes",
  "mlops-api": "example: a Python API image pushed to quay.io by GitHub Actions",
};

export function readExample(example: ExamplePreset): string {
  return readFileSync(join(findPackageRoot(), "examples", example, "deploy.yaml"), "utf8");
}

/**
 * The example's descriptor under another name, its comments and layout kept, with the
 * editor's schema line on top.
 */
export function examplePresetText(example: ExamplePreset, name: string, schemaReference: string): string {
  const doc = parseDocument(readExample(example));
  doc.set("name", name);
  const own = doc.commentBefore ?? (isMap(doc.contents) ? doc.contents.commentBefore : null) ?? "";
  const header = [` ${schemaLine(schemaReference)}`, ...(own === "" ? [] : [own])].join("\n");
  if (isMap(doc.contents) && doc.commentBefore == null) doc.contents.commentBefore = header;
  else doc.commentBefore = header;
  return doc.toString({ lineWidth: 0 });
}
