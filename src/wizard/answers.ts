// The wizard's questions as data: what can be answered, each answer's allowed values, and
// how a flag's text becomes an answer. Plain data so that the prompts (plop), the flags and
// --yes all read the same definitions.

export const RUNTIMES = ["python", "node", "image"] as const;
export const SHAPES = ["compose", "systemd", "compose-nodes", "swarm", "image-ci"] as const;
export const DATABASES = ["none", "postgres"] as const;
export const CACHES = ["none", "redis"] as const;
export const REGISTRIES = ["ghcr.io", "quay.io", "docker.io", "none"] as const;
export const FIREWALLS = ["none", "ufw", "firewalld", "nftables"] as const;

export type Runtime = (typeof RUNTIMES)[number];
export type Shape = (typeof SHAPES)[number];
export type Database = (typeof DATABASES)[number];
export type Cache = (typeof CACHES)[number];
export type RegistryHost = (typeof REGISTRIES)[number];
export type FirewallChoice = (typeof FIREWALLS)[number];

/** Everything the wizard asks, answered. */
export interface InitAnswers {
  name: string;
  runtime: Runtime;
  shape: Shape;
  /** The program and its arguments. */
  command: string[];
  /** The port the program listens on; undefined for a program that serves nothing (a worker). */
  port: number | undefined;
  database: Database;
  cache: Cache;
  gpu: boolean;
  registry: RegistryHost;
  firewall: FirewallChoice;
}

export const SHAPE_TITLES: Record<Shape, string> = {
  compose: "docker compose on one host",
  systemd: "a systemd service on one host (no containers)",
  "compose-nodes": "docker compose across a main node and a worker node",
  swarm: "docker swarm across a manager node and a worker node",
  "image-ci": "a container image built and pushed by GitHub Actions, nothing deployed",
};

export const RUNTIME_TITLES: Record<Runtime, string> = {
  python: "Python",
  node: "Node.js",
  image: "another program, built on a plain base image",
};

export const DATABASE_TITLES: Record<Database, string> = { none: "no database", postgres: "PostgreSQL" };
export const CACHE_TITLES: Record<Cache, string> = { none: "no cache", redis: "Redis" };
export const REGISTRY_TITLES: Record<RegistryHost, string> = {
  "ghcr.io": "GitHub Container Registry (ghcr.io)",
  "quay.io": "Quay (quay.io)",
  "docker.io": "Docker Hub (docker.io)",
  none: "none: build images on the host that runs them",
};
export const FIREWALL_TITLES: Record<FirewallChoice, string> = {
  none: "none",
  ufw: "ufw (Debian, Ubuntu)",
  firewalld: "firewalld (Fedora, RHEL, Rocky, Alma)",
  nftables: "nftables (a ruleset file for any Linux)",
};

export const IDENTIFIER = /^[a-z][a-z0-9-]{0,62}$/;

/** A folder or package name made into an identifier; undefined when nothing usable is left. */
export function toIdentifier(raw: string): string | undefined {
  const base = raw.replace(/^@[^/]*\//, "").toLowerCase();
  const cleaned = base
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return IDENTIFIER.test(cleaned) ? cleaned : undefined;
}

/** Why a project name is refused, or undefined when it is fine. */
export function checkName(name: string): string | undefined {
  if (IDENTIFIER.test(name)) return undefined;
  return "use lower-case letters, digits and hyphens, starting with a letter (at most 63 characters)";
}

/** Why a port is refused, or undefined. "none" (or empty) means the program listens on nothing. */
export function parsePort(text: string): { ok: true; port: number | undefined } | { ok: false; message: string } {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === "" || trimmed === "none" || trimmed === "0") return { ok: true, port: undefined };
  if (!/^[0-9]+$/.test(trimmed)) return { ok: false, message: "a port is a number from 1 to 65535, or none" };
  const port = Number(trimmed);
  if (port < 1 || port > 65535) return { ok: false, message: "a port is a number from 1 to 65535, or none" };
  return { ok: true, port };
}

/**
 * A command line split into words the way a shell would for plain words and quotes
 * ('single', "double"); no expansion. Undefined when a quote is left open.
 */
export function splitCommand(text: string): string[] | undefined {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (const char of text) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote !== undefined) return undefined;
  if (inWord) words.push(current);
  return words;
}

/** A command as one line a person can edit: words with spaces or quotes are quoted. */
export function joinCommand(argv: readonly string[]): string {
  return argv.map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`)).join(" ");
}

export function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

const YES = new Set(["yes", "y", "true", "1"]);
const NO = new Set(["no", "n", "false", "0"]);

export function parseYesNo(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  if (YES.has(lower)) return true;
  if (NO.has(lower)) return false;
  return undefined;
}
