// init's steps between the answers and the files: the descriptor's text (checked in memory,
// so nothing is written unless it is valid), writing it, generating, and what to do next.
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import type { InitAnswers } from "./answers.js";
import { checkDescriptorText } from "./check-text.js";
import { descriptorText } from "./descriptor-text.js";
import type { Project } from "./detect.js";
import { examplePresetText, type Preset } from "./presets.js";
import { composeDescriptor } from "./shapes.js";
import type { Problem } from "../problems.js";

export interface DescriptorDraft {
  text: string;
  /** Answers a shape could not honour, and guesses worth a look. */
  notes: string[];
}

export type DraftResult = ({ ok: true } & DescriptorDraft) | { ok: false; problems: Problem[] };

/** The deploy.yaml the answers make, validated as `generate` would validate it. */
export function draftFromAnswers(answers: InitAnswers, project: Project, schemaReference: string): DraftResult {
  const composed = composeDescriptor(answers, {
    ...(project.version === undefined ? {} : { version: project.version }),
    ...(project.requirements === undefined ? {} : { requirements: project.requirements }),
    ...(project.githubOwner === undefined ? {} : { githubOwner: project.githubOwner }),
  });
  return checked(descriptorText(composed.descriptor, schemaReference), composed.notes);
}

export function draftFromExample(preset: Preset & { kind: "example" }, name: string, schemaReference: string): DraftResult {
  return checked(examplePresetText(preset.example, name, schemaReference), []);
}

function checked(text: string, notes: string[]): DraftResult {
  const result = checkDescriptorText(text);
  return result.ok ? { ok: true, text, notes } : { ok: false, problems: result.problems };
}

/** Writes deploy.yaml, never over an existing file (`wx`): another process may have made one meanwhile. */
export async function writeDescriptorFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, "wx", 0o644);
  try {
    await handle.writeFile(text, "utf8");
  } finally {
    await handle.close();
  }
}

export function nextSteps(generated: readonly string[]): string[] {
  const steps = ["Read DEPLOY.md: it walks through deploying, step by step."];
  if (generated.includes("create-secrets.sh")) steps.push("Create the secrets on the host that runs the services: ./create-secrets.sh");
  steps.push(
    "Edit deploy.yaml to change the deployment (your editor completes and checks it), then run `create-deploy generate`.",
    "Commit deploy.yaml with the generated files; `create-deploy check` in CI tells when they drift apart.",
  );
  return steps;
}
