// The contract between the pipeline and one artifact kind. A kind module is pure:
// it reads the validated descriptor and returns data (files to produce, problems,
// runbook sections). Rendering and writing happen elsewhere, once, for all kinds.
import type { Descriptor } from "../model/descriptor.js";

/** Manifest kinds, exactly as the command-line contract lists them. */
export type FileKind =
  | "dockerfile"
  | "dockerignore"
  | "compose"
  | "swarm-stack"
  | "systemd-unit"
  | "env"
  | "shell"
  | "nftables"
  | "workflow"
  | "markdown"
  | "kubernetes"
  | "other";

interface PlannedFileBase {
  /** Relative to the output folder, forward slashes, no `..`. */
  path: string;
  kind: FileKind;
  /** Written with mode 0755 (scripts). */
  executable?: boolean;
  /** Set false for formats without comments (JSON). Default: a marker line for every kind that allows comments. */
  marker?: boolean;
  /** One line for DEPLOY.md's list of generated files: what the file is for. */
  purpose: string;
}

/** A file filled from a Handlebars template under templates/ with a plain-data context. */
export interface TemplateFile extends PlannedFileBase {
  template: string;
  context: Record<string, unknown>;
}

/** A structured YAML file built as an object and serialised with the yaml library. */
export interface DocumentFile extends PlannedFileBase {
  document: unknown;
  /** Comment lines (without `#`) placed under the marker, before the document. */
  comments?: string[];
}

export type PlannedFile = TemplateFile | DocumentFile;

/** A problem found by a rule: a JSON pointer into the descriptor and a message. */
export interface RuleProblem {
  pointer: string;
  message: string;
  hint?: string;
}

/** A section a kind contributes to DEPLOY.md; sections are sorted by `order`. */
export interface RunbookSection {
  id: string;
  title: string;
  order: number;
  template: string;
  context: Record<string, unknown>;
}

/** What kinds planned before this one produced; only the docs kind, planned last, reads it. */
export interface PlanContext {
  files: readonly PlannedFile[];
  sections: readonly RunbookSection[];
}

export interface ArtifactKind {
  /** Short name used in messages and the registry, e.g. "compose". */
  name: string;
  /** Whether the descriptor asks for this kind's files. */
  enabled(d: Descriptor): boolean;
  /** Rules across fields that only this kind cares about (run only when enabled). */
  check?(d: Descriptor): RuleProblem[];
  /** The files to produce. Paths must be unique across kinds. */
  plan(d: Descriptor, context: PlanContext): PlannedFile[];
  /** Sections for DEPLOY.md. */
  runbook?(d: Descriptor): RunbookSection[];
}
