// The per-Dockerfile ignore file: what never belongs in a build context (version control,
// env and secret files, tests, build outputs, the deployment's own files). A pattern that
// would hide a file the build reads is left out, and the file says which and why.
import type { Build, Descriptor } from "../../model/descriptor.js";
import { DOCKERFILE_DIR, SECRETS_DIR, buildContextOf, envDir, envFilePath, environmentNames, secretsExamplePath } from "../../model/derive.js";
import { copiesOf, installInputsOf } from "./image.js";

export interface IgnoreGroup {
  title: string;
  patterns: string[];
}

const FIXED_GROUPS: readonly IgnoreGroup[] = [
  { title: "Version control", patterns: [".git", ".hg", ".svn"] },
  {
    title: "Environment and secret files: values never belong in an image",
    patterns: [
      "**/.env",
      "**/.env.*",
      "**/*.pem",
      "**/*.key",
      "**/*.p12",
      "**/*.pfx",
      "**/id_rsa*",
      "**/id_ecdsa*",
      "**/id_ed25519*",
      ".npmrc",
      ".pypirc",
      ".netrc",
      ".aws",
      ".ssh",
      ".docker",
    ],
  },
  { title: "Tests and their reports", patterns: ["tests", "test", "**/__tests__", ".pytest_cache", ".tox", ".nox", ".coverage", "htmlcov", "coverage"] },
  {
    title: "Build outputs, caches and local environments",
    patterns: ["**/__pycache__", "**/*.py[cod]", "*.egg-info", "build", "dist", ".venv", "venv", "**/node_modules", ".mypy_cache", ".ruff_cache", ".cache"],
  },
  { title: "Editors and operating systems", patterns: [".vscode", ".idea", "**/.DS_Store"] },
];

/**
 * Go's filepath.Match plus `**` as Docker reads ignore patterns: `*` and `?` stay within one
 * path segment, `[...]` is a character class, `**` spans segments.
 */
export function ignorePatternToRegExp(pattern: string): RegExp {
  let regexp = compiledPatterns.get(pattern);
  if (regexp === undefined) {
    regexp = compileIgnorePattern(pattern);
    compiledPatterns.set(pattern, regexp);
  }
  return regexp;
}

/** Every service checks the same few dozen patterns: each is compiled once. */
const compiledPatterns = new Map<string, RegExp>();

function compileIgnorePattern(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === "*" && pattern.charAt(i + 1) === "*") {
      const slash = pattern.charAt(i + 2) === "/";
      source += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (ch === "*") source += "[^/]*";
    else if (ch === "?") source += "[^/]";
    else if (ch === "[") {
      const end = pattern.indexOf("]", i + 1);
      source += `[${pattern.slice(i + 1, end).replace(/\\/g, "\\\\")}]`;
      i = end;
    } else source += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Whether the pattern hides the path: it matches the path itself or a folder above it. */
export function ignoreHides(pattern: string, path: string): boolean {
  const regexp = ignorePatternToRegExp(pattern);
  const parts = path.split("/");
  for (let n = 1; n <= parts.length; n++) if (regexp.test(parts.slice(0, n).join("/"))) return true;
  return false;
}

/** The deployment's own files that sit inside the context (only when the context is their folder or above it). */
function deploymentPatterns(d: Descriptor, context: string): string[] {
  // Env files written into the output folder itself are named one by one: "." would hide the whole context.
  const envFiles = envDir(d) === "." ? [...environmentNames(d).map((env) => envFilePath(d, env)), secretsExamplePath(d)] : [envDir(d)];
  const rootFiles = [DOCKERFILE_DIR, ...envFiles, SECRETS_DIR, ".create-deploy", "deploy.yaml", "deploy.yml", d.targets?.docs?.file ?? "DEPLOY.md", ".github"];
  const prefix = context === "." ? "" : `${context}/`;
  const inside = rootFiles.filter((path) => path.startsWith(prefix)).map((path) => path.slice(prefix.length).replace(/^\.\//, "").replace(/\/$/, ""));
  return [...new Set(inside.filter((path) => path !== ""))];
}

export interface IgnoreFileModel {
  readonly groups: readonly IgnoreGroup[];
  readonly kept: ReadonlyArray<{ pattern: string; path: string }>;
  readonly hasKept: boolean;
}

/**
 * Services built alike from one context share one ignore model; a descriptor of many
 * services works it out once for each context and set of files the builds read.
 */
const sharedModels = new WeakMap<Descriptor, Map<string, IgnoreFileModel>>();

export function buildIgnoreModel(d: Descriptor, build: Build): IgnoreFileModel {
  const context = buildContextOf(build);
  const needed = [...installInputsOf(build), ...copiesOf(build).map((c) => c.source)].filter((path) => path !== ".");
  let models = sharedModels.get(d);
  if (models === undefined) {
    models = new Map();
    sharedModels.set(d, models);
  }
  const key = [context, ...needed].join("\0");
  let model = models.get(key);
  if (model === undefined) {
    model = Object.freeze(workOutIgnoreModel(d, context, needed));
    models.set(key, model);
  }
  return model;
}

function workOutIgnoreModel(d: Descriptor, context: string, needed: readonly string[]): IgnoreFileModel {
  const kept: Array<{ pattern: string; path: string }> = [];
  const groups: IgnoreGroup[] = [];
  const deployment = deploymentPatterns(d, context);
  const all = deployment.length > 0 ? [...FIXED_GROUPS, { title: "Deployment files, generated from deploy.yaml", patterns: deployment }] : [...FIXED_GROUPS];
  for (const group of all) {
    const patterns = group.patterns.filter((pattern) => {
      const hidden = needed.find((path) => ignoreHides(pattern, path));
      if (hidden !== undefined) kept.push({ pattern, path: hidden });
      return hidden === undefined;
    });
    if (patterns.length > 0) groups.push({ title: group.title, patterns });
  }
  return { groups, kept, hasKept: kept.length > 0 };
}
