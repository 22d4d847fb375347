// plan: the validated descriptor in, the list of files to produce out. Each enabled
// kind plans its own files; the docs kind comes last and sees what the others planned.
import { kinds as registeredKinds } from "./kinds/index.js";
import type { ArtifactKind, PlannedFile, RunbookSection } from "./kinds/types.js";
import type { Descriptor } from "./model/descriptor.js";

export function enabledKinds(d: Descriptor, kinds: readonly ArtifactKind[] = registeredKinds): ArtifactKind[] {
  return kinds.filter((kind) => kind.enabled(d));
}

const SAFE_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._/-]+$/;

export function planFiles(d: Descriptor, kinds: readonly ArtifactKind[] = registeredKinds): PlannedFile[] {
  const active = enabledKinds(d, kinds);
  const sections: RunbookSection[] = active.flatMap((kind) => kind.runbook?.(d) ?? []);
  sections.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1));
  const files: PlannedFile[] = [];
  for (const kind of active) {
    files.push(...kind.plan(d, { files: [...files], sections }));
  }
  const seen = new Map<string, string>();
  for (const file of files) {
    // Paths come from our own code, but they are built from user names: check them once here.
    if (!SAFE_PATH.test(file.path)) throw new Error(`kind planned an unsafe path: ${JSON.stringify(file.path)}`);
    if (seen.has(file.path)) throw new Error(`two files planned at ${file.path}`);
    seen.set(file.path, file.kind);
  }
  return files;
}
