// `add service`: one more service in an existing deploy.yaml, edited in place through the
// yaml library's document model, so the person's comments, order and layout stay as they were.
// The new service goes at the end of `services`; the secrets and volumes it needs are declared
// beside the others (or in new sections placed where a person would put them).
import { isMap, isScalar, type Document, type Pair, parseDocument, type YAMLMap } from "yaml";
import type { Descriptor, Secret, Service, Volume } from "../model/descriptor.js";
import type { Problem } from "../problems.js";
import { IDENTIFIER } from "./answers.js";
import { checkDescriptorText } from "./check-text.js";
import { layOutLists, TO_STRING_OPTIONS } from "./descriptor-text.js";
import { DEFAULT_PORTS, type Project } from "./detect.js";

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
 * env POSTGRES_PASSWORD sets. One secret per descriptor may claim that variable.
 */
function postgresVariable(d: Descriptor): Pick<Secret, "env"> {
  const claimed = Object.values(d.secrets ?? {}).some((s) => s.env === "POSTGRES_PASSWORD");
  return claimed ? {} : { env: "POSTGRES_PASSWORD" };
}

function buildDatabase(d: Descriptor, name: string): Built {
  const secret = `${name}-password`;
  const volume = `${name}-data`;
  const db = storeName(d.name);
  const networks = internalNetworks(d);
  return {
    service: {
      description: "PostgreSQL database",
      type: "database",
      ...placementOf(d),
      image: POSTGRES_IMAGE,
      user: "postgres",
      ports: [{ port: 5432, exposure: multiNodeExposure(d), description: "PostgreSQL" }],
      environment: { POSTGRES_DB: db, POSTGRES_USER: db, PGDATA: "/var/lib/postgresql/data/pgdata" },
      secrets: [secret],
      mounts: [{ volume, target: "/var/lib/postgresql/data" }],
      healthcheck: { command: ["pg_isready", "-U", db, "-d", db], interval: "10s", timeout: "5s", retries: 5 },
      ...(networks.length > 0 ? { networks } : {}),
      ...(d.targets?.swarm === undefined ? { restart: "unless-stopped" as const } : {}),
    },
    secrets: { [secret]: { description: `Password of the PostgreSQL role of ${name}`, ...postgresVariable(d), generate: { length: 32, charset: "alnum" } } },
    volumes: { [volume]: { description: `PostgreSQL data of ${name}` } },
    notes: [
      `Point your application at it: under its environment, add a host (e.g. DATABASE_HOST: { hostOf: ${name} }), the database and user ${db}, and list the secret ${secret}.`,
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
      ports: [{ port: 6379, exposure: multiNodeExposure(d), description: "Redis" }],
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
      ...(sourceService?.networks === undefined ? {} : { networks: [...sourceService.networks] }),
      ...(sourceService?.restart === undefined ? {} : { restart: sourceService.restart }),
    },
    secrets: {},
    volumes: {},
    notes: web ? [`Its port ${port ?? ""} is internal: set exposure (local, cluster or public) under services.${request.name}.ports to publish it.`] : [],
  };
}

const SECTION_ORDER = ["name", "description", "registry", "cluster", "nodes", "services", "secrets", "volumes", "networks", "environments", "targets"];

/** The top-level map `key`, made (after the sections that precede it) when missing. */
function sectionOf(doc: Document, key: string): YAMLMap {
  const root = doc.contents as YAMLMap;
  const existing = root.get(key, true);
  if (isMap(existing)) return existing;
  const pair = doc.createPair(key, {}) as Pair<unknown, YAMLMap>;
  const rank = SECTION_ORDER.indexOf(key);
  let at = root.items.length;
  root.items.forEach((item, index) => {
    const name = isScalar(item.key) ? String(item.key.value) : "";
    const itemRank = SECTION_ORDER.indexOf(name);
    if (itemRank !== -1 && itemRank > rank && at === root.items.length) at = index;
  });
  // A new section is laid out like its neighbours: apart from them when they are apart.
  const spaced = root.items.some((item, index) => index > 0 && isScalar(item.key) && item.key.spaceBefore === true);
  if (spaced && isScalar(pair.key)) pair.key.spaceBefore = true;
  root.items.splice(at, 0, pair);
  const made = pair.value;
  if (!isMap(made)) throw new Error(`could not make the ${key} section`);
  return made;
}

/** Adds `name: value` at the end of `map`, spaced like the entries already there. */
function appendEntry(doc: Document, map: YAMLMap, name: string, value: unknown, depth: number): void {
  const pair = doc.createPair(name, value);
  const spaced = map.items.some((item, index) => index > 0 && isScalar(item.key) && item.key.spaceBefore === true);
  if (spaced && isScalar(pair.key)) pair.key.spaceBefore = true;
  if (isMap(pair.value)) layOutLists(pair.value, depth + 1);
  // A map written inline ({}) cannot take block entries; open it.
  map.flow = false;
  map.items.push(pair);
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

  const doc = parseDocument(text);
  appendEntry(doc, sectionOf(doc, "services"), request.name, built.service, 1);
  for (const [name, secret] of Object.entries(built.secrets)) appendEntry(doc, sectionOf(doc, "secrets"), name, secret, 1);
  for (const [name, volume] of Object.entries(built.volumes)) appendEntry(doc, sectionOf(doc, "volumes"), name, volume, 1);
  const notes = [...built.notes];
  if (!hasContainerTarget(d)) {
    appendEntry(doc, sectionOf(doc, "targets"), "compose", {}, 1);
    notes.push("targets.compose was added: the new service runs in a container beside the systemd units");
  }

  const after = doc.toString(TO_STRING_OPTIONS);
  const check = checkDescriptorText(after);
  if (!check.ok) return { ok: false, problems: check.problems };
  return { ok: true, text: after, notes };
}

/** The ports a web service may take by default: the runtime's usual one, moved past those in use. */
export function defaultWebPort(d: Pick<Descriptor, "services">, project: Project): number {
  return suggestPort(d, DEFAULT_PORTS[project.runtime]);
}
