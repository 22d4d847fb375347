// What the wizard tests share: every file `generate` wrote into a folder, held to the checks
// of test/support/generated-checks.ts (the checkers of VALIDATORS.md, by manifest kind).
import { expect } from "vitest";
import { checkGeneratedFile, checkMerge, findComposeMerges, type GeneratedFile, readGeneratedTree } from "./support/generated-checks.js";

/** Runs every check over every file the manifest in `dir` lists, and each compose overlay merge. */
export async function checkGeneratedTree(dir: string): Promise<GeneratedFile[]> {
  const tree = readGeneratedTree(dir);
  expect(tree.files.length).toBeGreaterThan(0);
  for (const file of tree.files) await checkGeneratedFile(tree, file);
  for (const merge of findComposeMerges(tree.files)) await checkMerge(tree, merge);
  return tree.files;
}
