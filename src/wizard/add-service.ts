// `add service`: one more service in an existing deploy.yaml, edited in place through the
// yaml library's document model, so the person's comments, order and layout stay as they were.
// The new service goes at the end of `services`; the secrets and volumes it needs are declared
// beside the others (or in new sections placed where a person would put them).
import { Document, isMap, isScalar, type Node, type Pair, parseDocument, type YAMLMap } from "yaml";
import type { Descriptor, Port, Secret, Service, Volume } from "../model/descriptor.js";
import type { Problem } from "../problems.js";
import { IDENTIFIER } from "./answers.js";
import { checkDescriptorText } from "./check-text.js";
import { layOutLists, TO_STRING_OPTIONS } from "./descriptor-text.js";
import { DEFAULT_PORTS, type Project } from "./detect.js";
import { secretEnvName } from "../model/derive.js";

export const SERVICE_KINDS = ["database", "cache", "worker", "web"] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export const SERVICE_KIND_TITLES: Record<ServiceKind, string> = {
  database: "PostgreSQL, with its password secret and data volume",
  cache: "Redis, with its password secret and data volume",
  worker: "another process of your application (a queue worker), no port",
  web: "another process of your application serving a port",
};

export interface ServiceRequest {
  kind: ServiceKind;
  name: string;
  /** worker and web: the program and its arguments. */
  command?: string[];
  /** web: the port it listens on. */
  port?: number;
}

export type Insertion = { ok: true; text: string; notes: string[] } | { ok: false; problems: Problem[] } | { ok: false; message: string };

const POSTGRES_IMAGE = "postgres:16.4-bookworm";
const REDIS_IMAGE = "redis:7.4-alpine";

/** A free name for a new service of this kind: db, db-2, … */
export function suggestServiceName(d: Pick<Descriptor, "services">, kind: ServiceKind): string {
  const base = { database: "db", cache: "redis", worker: "worker", web: "web" }[kind];
  if (!(base in d.services)) return base;
  for (let n = 2; ; n++) if (!(`${base}-${n}` in d.services)) return `${base}-${n}`;
}

/** A port no service declares yet, from the runtime's usual one upwards. */
export function suggestPort(d: Pick<Descriptor, "services">, from: number): number {
  const taken = new Set(Object.values(d.services).flatMap((s) => (s.ports ?? []).flatMap((p) => [p.port, p.published ?? p.port])));
  let port = from;
  while (taken.has(port)) port++;
  return port;
}

/** The first container service that builds an image: workers and web services run its image. */
function imageSource(d: Descriptor): [string, Service] | undefined {
  return Object.entries(d.services).find(([, s]) => s.build !== undefined && s.platform !== "systemd");
}

/** Where the deployment runs containers; a descriptor of systemd units alone gets compose for them. */
function hasContainerTarget(d: Descriptor): boolean {
  return d.targets?.compose !== undefined || d.targets?.swarm !== undefined;
}

function multiNodeExposure(d: Descriptor): "cluster" | "internal" {
  return Object.keys(d.nodes ?? {}).length > 1 && (d.cluster?.cidr ?? []).length > 0 ? "cluster" : "internal";
}

/** A data store's port: internal on one host; across nodes published to the cluster on a free host port. */
function storePort(d: Descriptor, port: number, description: string): Port {
  const exposure = multiNodeExposure(d);
  if (exposure === "internal") return { port, exposure, description };
  const published = suggestPort(d, port);
  return { port, ...(published === port ? {} : { published }), exposure, description };
}

/** Pins a data store to one node (the swarm manager, else the first): it holds one copy of its data. */
function placementOf(d: Descriptor): Pick<Service, "placement"> {
  const nodes = Object.entries(d.nodes ?? {});
  if (nodes.length === 0) return {};
  const node = nodes.find(([, n]) => n.manager === true) ?? nodes[0];
  return node === undefined ? {} : { placement: { nodes: [node[0]] } };
}

/** Networks marked internal: where data stores belong when the descriptor names its networks. */
function internalNetworks(d: Descriptor): string[] {
  return Object.entries(d.networks ?? {})
    .filter(([, n]) => n.internal === true)
    .map(([name]) => name);
}

/** The value a service already gives `key`, as text. */
function sharedValue(d: Descriptor, key: string): string | undefined {
  for (const service of Object.values(d.services)) {
    const value = service.environment?.[key];
    if (typeof value === "string" || typeof value === "number") return String(value);
  }
  return undefined;
}

function storeName(name: string): string {
  return name.replace(/-/g, "_");
}

interface Built {
  service: Service;
  secrets: Record<string, Secret>;
  volumes: Record<string, Volume>;
  notes: string[];
}

/**
 * The postgres image reads its password from POSTGRES_PASSWORD_FILE, which a secret declaring
 * env POSTGRES_PASSWORD sets. Services share one value per variable, so when another database
 * has that variable already, the new one gets its own and hands it on as it starts.
 */
function postgresPassword(d: Descriptor, secret: string): { env?: string; command?: string[] } {
  const claimed =
    Object.values(d.secrets ?? {}).some((s) => s.env === "POSTGRES_PASSWORD") ||
    Object.values(d.services).some((s) => Object.keys(s.environment ?? {}).some((key) => key === "POSTGRES_PASSWORD" || key === "POSTGRES_PASSWORD_FILE"));
  if (!claimed) return { env: "POSTGRES_PASSWORD" };
  const variable = `${secretEnvName(secret, undefined)}_FILE`;
  return { command: ["sh", "-c", `POSTGRES_PASSWORD_FILE="$${variable}" exec docker-entrypoint.sh postgres`] };
}

function buildDatabase(d: Descriptor, name: string): Built {
  const secret = `${name}-password`;
  const volume = `${name}-data`;
  // Services share one value per variable: a second PostgreSQL takes the first one's names.
  const db = sharedValue(d, "POSTGRES_DB") ?? storeName(d.name);
  const user = sharedValue(d, "POSTGRES_USER") ?? db;
  const pgdata = sharedValue(d, "PGDATA") ?? "/var/lib/postgresql/data/pgdata";
  const networks = internalNetworks(d);
  const password = postgresPassword(d, secret);
  return {
    service: {
      description: "PostgreSQL database",
      type: "database",
      ...placementOf(d),
      image: POSTGRES_IMAGE,
      user: "postgres",
      ...(password.command === undefined ? {} : { command: password.command }),
      ports: [storePort(d, 5432, "PostgreSQL")],
      environment: { POSTGRES_DB: db, POSTGRES_USER: user, PGDATA: pgdata },
      secrets: [secret],
      mounts: [{ volume, target: "/var/lib/postgresql/data" }],
      healthcheck: { command: ["pg_isready", "-U", user, "-d", db], interval: "10s", timeout: "5s", retries: 5 },
      ...(networks.length > 0 ? { networks } : {}),
      ...(d.targets?.swarm === undefined ? { restart: "unless-stopped" as const } : {}),
    },
    secrets: { [secret]: { description: `Password of the PostgreSQL role of ${name}`, ...(password.env === undefined ? {} : { env: password.env }), generate: { length: 32, charset: "alnum" } } },
    volumes: { [volume]: { description: `PostgreSQL data of ${name}` } },
    notes: [
      `Point your application at it: under its environment, add a host (e.g. DATABASE_HOST: { hostOf: ${name} }), the database ${db} and user ${user}, and list the secret ${secret}.`,
    ],
  };
}

function buildCache(d: Descriptor, name: string): Built {
  const secret = `${name}-password`;
  const volume = `${name}-data`;
  const networks = internalNetworks(d);
  const password = `"$(cat /run/secrets/${secret})"`;
  return {
    service: {
      description: "Redis cache",
      type: "cache",
      ...placementOf(d),
      image: REDIS_IMAGE,
      user: "redis",
      command: ["sh", "-c", `exec redis-server --appendonly yes --requirepass ${password}`],
      ports: [storePort(d, 6379, "Redis")],
      secrets: [secret],
      mounts: [{ volume, target: "/data" }],
      healthcheck: {
        command: ["sh", "-c", `redis-cli --no-auth-warning -a ${password} ping | grep -q PONG`],
        interval: "10s",
        timeout: "5s",
        retries: 5,
      },
      ...(networks.length > 0 ? { networks } : {}),
      ...(d.targets?.swarm === undefined ? { restart: "unless-stopped" as const } : {}),
    },
    secrets: { [secret]: { description: `Redis password of ${name}`, generate: { length: 32, charset: "hex" } } },
    volumes: { [volume]: { description: `Redis append-only file of ${name}` } },
    notes: [`Point your application at it: under its environment, add a host (e.g. REDIS_HOST: { hostOf: ${name} }) and list the secret ${secret}.`],
  };
}

/** The networks of the service whose image it runs; a worker, serving nothing, only the internal ones among them. */
function networksOf(d: Descriptor, source: Service | undefined, web: boolean): Pick<Service, "networks"> {
  const networks = source?.networks;
  if (networks === undefined) return {};
  const internal = networks.filter((name) => d.networks?.[name]?.internal === true);
  return { networks: web || internal.length === 0 ? [...networks] : internal };
}

/** A process of the application: the image another service builds, or a build of its own. */
function buildProcess(d: Descriptor, request: ServiceRequest, project: Project): Built | string {
  const command = request.command ?? [];
  if (command.length === 0) return `a ${request.kind} service needs the command that starts it`;
  const source = imageSource(d);
  const web = request.kind === "web";
  const port = request.port;
  if (web && port === undefined) return "a web service needs the port it listens on";
  const runtime = source?.[1].build?.runtime ?? (project.runtime === "image" ? "generic" : project.runtime);
  let image: Partial<Service>;
  if (source !== undefined) image = { imageOf: source[0], command };
  else if (runtime === "generic") image = { build: { runtime, base: "debian:bookworm-slim", context: ".", command } };
  else image = { build: { runtime, context: ".", command } };
  const healthcheck: Service["healthcheck"] | undefined =
    !web || port === undefined ? undefined : runtime === "generic" ? { command: ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`] } : { tcp: { port } };
  const sourceService = source?.[1];
  return {
    service: {
      description: web ? "A web process of the application" : "A background worker of the application",
      type: web ? "web" : "worker",
      ...(sourceService?.roles === undefined ? {} : { roles: [...sourceService.roles] }),
      ...image,
      ...(sourceService?.user === undefined ? {} : { user: sourceService.user }),
      ...(web && port !== undefined ? { ports: [{ port, exposure: "internal" as const, description: "HTTP" }] } : {}),
      ...(sourceService?.environment === undefined ? {} : { environment: { ...sourceService.environment } }),
      ...(sourceService?.secrets === undefined ? {} : { secrets: [...sourceService.secrets] }),
      ...(healthcheck === undefined ? {} : { healthcheck }),
      ...networksOf(d, sourceService, web),
      ...(sourceService?.restart === undefined ? {} : { restart: sourceService.restart }),
    },
    secrets: {},
    volumes: {},
    notes: web ? [`Its port ${port ?? ""} is internal: set exposure (local, cluster or public) under services.${request.name}.ports to publish it.`] : [],
  };
}

const SECTION_ORDER = ["name", "description", "registry", "cluster", "nodes", "services", "secrets", "volumes", "networks", "environments", "targets"];

/*
 * The edits are found with the yaml library's document model (which map, which entry, where
 * it ends) and made as insertions into the person's text, so every byte they wrote (comments,
 * blank lines, quoting, flow style) stays exactly as it was. Only the new entries are printed
 * by the library.
 */

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/** The offset just past the line holding `offset - 1` (past its newline, or the end of the text). */
function endOfLine(text: string, offset: number): number {
  const newline = text.indexOf("\n", Math.max(offset - 1, 0));
  return newline === -1 ? text.length : newline + 1;
}

/** `name: value` printed as a block at `indent` columns, each line ending in a newline. */
function entryText(name: string, value: unknown, indent: number): string {
  const doc = new Document({ [name]: value }, { aliasDuplicateObjects: false });
  if (isMap(doc.contents)) layOutLists(doc.contents, indent / 2);
  const pad = " ".repeat(indent);
  return doc
    .toString(TO_STRING_OPTIONS)
    .split("\n")
    .map((line) => (line === "" ? line : pad + line))
    .join("\n");
}

function rootOf(text: string): YAMLMap {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) throw new Error("deploy.yaml is not a map");
  return doc.contents;
}

function keyName(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : "";
}

/** Whether entries after the first are set apart by a blank line. */
function isSpaced(text: string, map: YAMLMap): boolean {
  return map.items.slice(1).some((pair) => {
    const key = pair.key as Node | null;
    if (key?.range == null) return false;
    const start = lineStart(text, key.range[0]);
    // The line before this entry (or before the comments that head it) is blank.
    let cursor = start;
    while (cursor > 0) {
      const previous = lineStart(text, cursor - 1);
      const line = text.slice(previous, cursor - 1);
      if (line.trim() === "") return true;
      if (!line.trim().startsWith("#")) return false;
      cursor = previous;
    }
    return false;
  });
}

/** Where a new entry of a block map goes: after its last entry and the comments indented under it. */
function endOfBlockMap(text: string, map: YAMLMap, indent: number): number {
  const last = map.items[map.items.length - 1];
  const value = last?.value as Node | null | undefined;
  const key = last?.key as Node | null | undefined;
  const end = value?.range?.[1] ?? key?.range?.[1] ?? map.range?.[1] ?? text.length;
  let offset = endOfLine(text, end);
  for (;;) {
    const next = text.indexOf("\n", offset);
    const line = text.slice(offset, next === -1 ? text.length : next);
    const indented = line.length - line.trimStart().length;
    if (line.trim() === "" || indented < indent || !line.trim().startsWith("#")) break;
    offset = next === -1 ? text.length : next + 1;
  }
  return offset;
}

/** Adds `name: value` at the end of the top-level map `section`, making the section when missing. */
function appendToSection(text: string, section: string, name: string, value: unknown): string {
  const root = rootOf(text);
  const pair = root.items.find((item) => keyName(item) === section);
  const sectionsSpaced = isSpaced(text, root);
  if (pair === undefined) {
    // A new section, before the first one that follows it in the usual order, above that one's comments.
    const rank = SECTION_ORDER.indexOf(section);
    const next = root.items.find((item) => SECTION_ORDER.indexOf(keyName(item)) > rank);
    const block = `${section}:\n${entryText(name, value, 2)}`;
    const nextKey = next?.key as Node | null | undefined;
    if (nextKey?.range == null) {
      const body = text.endsWith("\n") ? text : `${text}\n`;
      return `${body}${sectionsSpaced ? "\n" : ""}${block}`;
    }
    let at = lineStart(text, nextKey.range[0]);
    while (at > 0) {
      const previous = lineStart(text, at - 1);
      if (!text.slice(previous, at - 1).trim().startsWith("#")) break;
      at = previous;
    }
    return `${text.slice(0, at)}${block}${sectionsSpaced ? "\n" : ""}${text.slice(at)}`;
  }
  const map = pair.value;
  const sectionKey = pair.key as Node;
  const keyColumn = columnOf(text, sectionKey.range?.[0] ?? 0);
  if (!isMap(map) || map.flow === true || map.items.length === 0) {
    // `section: {}` (or empty): the section's value becomes a block holding the new entry.
    const from = (map as Node | null)?.range?.[0];
    const to = (map as Node | null)?.range?.[1];
    const entries = { ...(isMap(map) ? (map.toJSON() as Record<string, unknown>) : {}), [name]: value };
    const body = Object.entries(entries)
      .map(([k, v]) => entryText(k, v, keyColumn + 2))
      .join("");
    if (from === undefined || to === undefined) {
      const at = endOfLine(text, sectionKey.range?.[1] ?? 0);
      return `${text.slice(0, at)}${body}${text.slice(at)}`;
    }
    const lineEnd = endOfLine(text, to);
    const rest = text.slice(to, lineEnd).replace(/\n$/, "");
    return `${text.slice(0, from).replace(/[ \t]+$/, "")}${rest}\n${body}${text.slice(lineEnd)}`;
  }
  const firstKey = map.items[0]?.key as Node | null | undefined;
  const indent = firstKey?.range == null ? keyColumn + 2 : columnOf(text, firstKey.range[0]);
  const at = endOfBlockMap(text, map, indent);
  const prefix = at === text.length && !text.endsWith("\n") ? "\n" : "";
  return `${text.slice(0, at)}${prefix}${isSpaced(text, map) ? "\n" : ""}${entryText(name, value, indent)}${text.slice(at)}`;
}

export function insertService(text: string, request: ServiceRequest, project: Project): Insertion {
  const before = checkDescriptorText(text);
  if (!before.ok) return { ok: false, problems: before.problems };
  const d = before.descriptor;
  if (!IDENTIFIER.test(request.name)) {
    return { ok: false, message: `${JSON.stringify(request.name)} is not a service name: use lower-case letters, digits and hyphens, starting with a letter` };
  }
  if (request.name in d.services) return { ok: false, message: `services.${request.name} exists already; choose another name` };

  let built: Built;
  if (request.kind === "database") built = buildDatabase(d, request.name);
  else if (request.kind === "cache") built = buildCache(d, request.name);
  else {
    const made = buildProcess(d, request, project);
    if (typeof made === "string") return { ok: false, message: made };
    built = made;
  }
  for (const name of [...Object.keys(built.secrets), ...Object.keys(built.volumes)]) {
    if (name in (d.secrets ?? {}) || name in (d.volumes ?? {})) {
      return { ok: false, message: `${name} is declared already; choose another service name` };
    }
  }

  let after = appendToSection(text, "services", request.name, built.service);
  for (const [name, secret] of Object.entries(built.secrets)) after = appendToSection(after, "secrets", name, secret);
  for (const [name, volume] of Object.entries(built.volumes)) after = appendToSection(after, "volumes", name, volume);
  const notes = [...built.notes];
  if (!hasContainerTarget(d)) {
    after = appendToSection(after, "targets", "compose", {});
    notes.push("targets.compose was added: the new service runs in a container beside the systemd units");
  }

  const check = checkDescriptorText(after);
  if (!check.ok) return { ok: false, problems: check.problems };
  return { ok: true, text: after, notes };
}

/** The ports a web service may take by default: the runtime's usual one, moved past those in use. */
export function defaultWebPort(d: Pick<Descriptor, "services">, project: Project): number {
  return suggestPort(d, DEFAULT_PORTS[project.runtime]);
}
