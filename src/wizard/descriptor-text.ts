// Descriptor → deploy.yaml text, laid out the way a person would write it: sections apart,
// short lists of words on one line, and the editor's schema line first.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Document, isMap, isScalar, isSeq, type Node, visit, type YAMLSeq } from "yaml";
import type { Descriptor } from "../model/descriptor.js";
import { findPackageRoot } from "./package-root.js";

/** Where an installed copy of the schema sits, relative to a repository using create-deploy. */
export const LOCAL_SCHEMA = "./node_modules/create-deploy/schemas/deploy.schema.json";

/** The schema's published address: its `$id`. */
export function publishedSchemaUrl(): string {
  const schema = JSON.parse(readFileSync(join(findPackageRoot(), "schemas", "deploy.schema.json"), "utf8")) as { $id?: unknown };
  if (typeof schema.$id !== "string") throw new Error("schemas/deploy.schema.json has no $id");
  return schema.$id;
}

/**
 * The schema an editor should read for a deploy.yaml in `dir`: the installed package's own
 * copy when the repository has create-deploy as a dependency (offline, and the exact version
 * that reads the file), else the schema's published address. Never an absolute path: that
 * would name one machine (an npx cache) in a file everyone commits.
 */
export function schemaReference(dir: string): string {
  return existsSync(join(dir, LOCAL_SCHEMA)) ? LOCAL_SCHEMA : publishedSchemaUrl();
}

export function schemaLine(reference: string): string {
  return `yaml-language-server: $schema=${reference}`;
}

/**
 * Lists of short words go on one line (`roles: [app, data]`) when the line stays within
 * prettier's 80 columns, so a repository that runs prettier leaves the file as written.
 */
const LINE_WIDTH = 80;

/** A word that reads the same unquoted inside `[…]`: no flow indicators, quotes or comment marks. */
function isPlainFlowWord(word: string): boolean {
  if (word === "" || word.trim() !== word) return false;
  if (/^[!&*>|%@`'"#?:]/.test(word) || /^- /.test(word)) return false;
  return !/[,[\]{}'"]|: | #|:$/.test(word);
}

function flowText(node: YAMLSeq): string | undefined {
  const words: string[] = [];
  for (const item of node.items) {
    if (!isScalar(item) || !["string", "number"].includes(typeof item.value)) return undefined;
    const word = String(item.value);
    if (typeof item.value === "string" && !isPlainFlowWord(word)) return undefined;
    words.push(word);
  }
  return `[${words.join(", ")}]`;
}

/**
 * Puts short word lists on one line. `baseDepth` is how deep `node` sits in its document
 * (0 for the document's own map), so the width is measured where the list will be printed.
 */
export function layOutLists(node: Node, baseDepth = 0): void {
  visit(node, {
    Pair(_key, pair, path) {
      if (!isSeq(pair.value) || !isScalar(pair.key)) return;
      const text = flowText(pair.value);
      // Each enclosing collection below the top one indents by two.
      const depth = baseDepth + path.filter((ancestor) => isMap(ancestor) || isSeq(ancestor)).length - 1;
      const line = depth * 2 + String(pair.key.value).length + 2 + (text?.length ?? 0);
      if (text !== undefined && line <= LINE_WIDTH) pair.value.flow = true;
    },
  });
}

export const TO_STRING_OPTIONS = { lineWidth: 0, flowCollectionPadding: false } as const;

export function descriptorText(descriptor: Descriptor, schemaReferenceText: string): string {
  // Services that share a list (two stores on one network) would otherwise get an anchor
  // and an alias: valid YAML, but not what a person would write or expect to edit.
  const doc = new Document(descriptor, { aliasDuplicateObjects: false });
  if (!isMap(doc.contents)) throw new Error("a descriptor is a map");
  layOutLists(doc.contents);
  // A blank line before each top-level section after the first two (name, description).
  doc.contents.items.forEach((pair, index) => {
    if (index >= 2 && isScalar(pair.key)) pair.key.spaceBefore = true;
  });
  // And between services, which run to many lines each.
  const services = doc.contents.get("services", true);
  if (isMap(services)) {
    services.items.forEach((pair, index) => {
      if (index > 0 && isScalar(pair.key)) pair.key.spaceBefore = true;
    });
  }
  // On the first key rather than the document, so no blank line separates them.
  doc.contents.commentBefore = ` ${schemaLine(schemaReferenceText)}`;
  return doc.toString(TO_STRING_OPTIONS);
}
