// Answers → descriptor, for each deployment shape. Pure: the same answers always give the
// same descriptor. What a shape cannot do with an answer (a GPU under systemd) is left out
// and said in a note, so every combination of answers is a valid deployment.
import type { Build, Descriptor, EnvValue, HostNode, Network, Secret, Service, Targets, Volume } from "../model/descriptor.js";
import type { InitAnswers } from "./answers.js";

export interface ProjectFacts {
  version?: string;
  requirements?: string;
  githubOwner?: string;
}

export interface Composed {
  descriptor: Descriptor;
  /** Answers the shape could not honour, and what to do instead. */
  notes: string[];
}

/** Example addresses of the nodes, from the documentation range (RFC 5737): edit them to yours. */
const CLUSTER_CIDR = "192.0.2.0/24";
const MAIN_ADDRESS = "192.0.2.10";
const WORKER_ADDRESS = "192.0.2.11";

const POSTGRES_IMAGE = "postgres:16.4-bookworm";
const REDIS_IMAGE = "redis:7.4-alpine";

/** A base for programs that are neither Python nor Node: small, with bash for the health probe. */
const PLAIN_BASE = "debian:bookworm-slim";

function databaseName(project: string): string {
  return project.replace(/-/g, "_");
}

function buildOf(answers: InitAnswers, facts: ProjectFacts): Build {
  if (answers.runtime === "image") return { runtime: "generic", base: PLAIN_BASE, context: ".", command: answers.command };
  return {
    runtime: answers.runtime,
    ...(facts.version === undefined ? {} : { version: facts.version }),
    context: ".",
    ...(answers.runtime === "python" ? { requirements: facts.requirements ?? "requirements.txt" } : {}),
    command: answers.command,
  };
}

/** A TCP probe: the runtime's own interpreter for python and node, bash's /dev/tcp otherwise. */
function healthcheckOf(answers: InitAnswers, port: number): Service["healthcheck"] {
  if (answers.runtime === "image") return { command: ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`] };
  return { tcp: { port } };
}

function registryNamespace(answers: InitAnswers, facts: ProjectFacts): string {
  return facts.githubOwner ?? answers.name;
}

export function composeDescriptor(answers: InitAnswers, facts: ProjectFacts): Composed {
  const notes: string[] = [];
  const { shape } = answers;
  const containers = shape !== "systemd";
  const multiNode = shape === "compose-nodes" || shape === "swarm";
  const deploys = shape !== "image-ci";

  let database = answers.database;
  let cache = answers.cache;
  if (!deploys && (database !== "none" || cache !== "none")) {
    notes.push("image-ci deploys nothing, so the database and cache were left out");
    database = "none";
    cache = "none";
  }
  let gpu = answers.gpu;
  if (gpu && shape === "systemd") {
    notes.push("a systemd service gets no GPU reservation (its devices are private); run it in compose for a GPU");
    gpu = false;
  } else if (gpu && shape === "swarm") {
    notes.push("swarm cannot reserve GPUs; the GPU was left out (use compose-nodes for a GPU worker)");
    gpu = false;
  } else if (gpu && shape === "image-ci") {
    notes.push("image-ci runs nothing, so the GPU was left out");
    gpu = false;
  }
  let registry = answers.registry;
  if (registry === "none" && (shape === "swarm" || shape === "image-ci")) {
    notes.push(`${shape} needs a registry for its images: ghcr.io was chosen`);
    registry = "ghcr.io";
  }
  if (shape === "systemd" && registry !== "none") {
    notes.push("a systemd service runs its code from the install folder, so no image is pushed: the registry was left out");
    registry = "none";
  }
  let firewall = answers.firewall;
  if (shape === "image-ci" && firewall !== "none") {
    notes.push("image-ci deploys nothing, so there is no firewall to write");
    firewall = "none";
  }

  const app = answers.port === undefined ? "worker" : "web";
  const services: Record<string, Service> = {};
  const secrets: Record<string, Secret> = {};
  const volumes: Record<string, Volume> = {};
  const networks: Record<string, Network> = {};
  const withStores = database !== "none" || cache !== "none";
  // Data stores sit on an internal network in containers; under systemd they listen on the host's loopback.
  const storeExposure = multiNode ? "cluster" : shape === "systemd" ? "local" : "internal";
  const useNetworks = containers && withStores && shape !== "swarm";

  const appEnv: Record<string, EnvValue> = {};
  const appSecrets: string[] = [];
  const stores: string[] = [];
  const storeHost = (service: string): EnvValue => (shape === "systemd" ? "127.0.0.1" : { hostOf: service });

  if (database === "postgres") {
    const db = databaseName(answers.name);
    appEnv.DATABASE_HOST = storeHost("db");
    appEnv.DATABASE_NAME = db;
    appEnv.DATABASE_USER = db;
    secrets["postgres-password"] = { description: "Password of the PostgreSQL role", env: "POSTGRES_PASSWORD", generate: { length: 32, charset: "alnum" } };
    appSecrets.push("postgres-password");
    volumes.pgdata = { description: "PostgreSQL data" };
    stores.push("db");
  }
  if (cache === "redis") {
    appEnv.REDIS_HOST = storeHost("redis");
    secrets["redis-password"] = { description: "Redis requirepass", env: "REDIS_PASSWORD", generate: { length: 32, charset: "hex" } };
    appSecrets.push("redis-password");
    volumes.redisdata = { description: "Redis append-only file" };
    stores.push("redis");
  }

  const appService: Service = {
    description: answers.port === undefined ? "The application's worker" : "The application",
    type: answers.port === undefined ? "worker" : "web",
    ...(multiNode ? { roles: ["app"] } : {}),
    ...(shape === "systemd" ? { platform: "systemd" as const } : {}),
    build: buildOf(answers, facts),
    ...(gpu ? { gpu: { count: 1, driver: "nvidia", capabilities: ["gpu"] } } : {}),
    ...(shape === "swarm" ? { replicas: 2 } : {}),
    ...(answers.port === undefined
      ? {}
      : { ports: [{ port: answers.port, exposure: deploys ? ("public" as const) : ("internal" as const), description: "The application's port" }] }),
    ...(Object.keys(appEnv).length > 0 ? { environment: appEnv } : {}),
    ...(appSecrets.length > 0 ? { secrets: appSecrets } : {}),
    ...(answers.port === undefined ? {} : { healthcheck: healthcheckOf(answers, answers.port) }),
    ...(stores.length > 0 && containers && shape !== "swarm" && !multiNode
      ? { dependsOn: stores.map((service) => ({ service, condition: "healthy" as const })) }
      : {}),
    ...(useNetworks ? { networks: ["frontend", "backend"] } : {}),
    ...(containers && shape !== "swarm" && deploys ? { restart: "unless-stopped" as const } : {}),
  };
  services[app] = appService;

  const storeRoles: Partial<Service> = multiNode ? { roles: ["data"] } : {};
  const storeTail: Partial<Service> = {
    ...(useNetworks ? { networks: ["backend"] } : {}),
    ...(shape === "swarm" ? {} : { restart: "unless-stopped" as const }),
  };
  if (database === "postgres") {
    const db = databaseName(answers.name);
    services.db = {
      description: "PostgreSQL database",
      type: "database",
      ...storeRoles,
      image: POSTGRES_IMAGE,
      user: "postgres",
      ports: [{ port: 5432, exposure: storeExposure, description: "PostgreSQL" }],
      environment: { POSTGRES_DB: db, POSTGRES_USER: db, PGDATA: "/var/lib/postgresql/data/pgdata" },
      secrets: ["postgres-password"],
      mounts: [{ volume: "pgdata", target: "/var/lib/postgresql/data" }],
      healthcheck: { command: ["pg_isready", "-U", db, "-d", db], interval: "10s", timeout: "5s", retries: 5 },
      ...storeTail,
    };
  }
  if (cache === "redis") {
    services.redis = {
      description: "Redis cache",
      type: "cache",
      ...storeRoles,
      image: REDIS_IMAGE,
      user: "redis",
      command: ["sh", "-c", 'exec redis-server --appendonly yes --requirepass "$(cat /run/secrets/redis-password)"'],
      ports: [{ port: 6379, exposure: storeExposure, description: "Redis" }],
      secrets: ["redis-password"],
      mounts: [{ volume: "redisdata", target: "/data" }],
      healthcheck: {
        command: ["sh", "-c", 'redis-cli --no-auth-warning -a "$(cat /run/secrets/redis-password)" ping | grep -q PONG'],
        interval: "10s",
        timeout: "5s",
        retries: 5,
      },
      ...storeTail,
    };
  }
  if (useNetworks) {
    networks.frontend = { description: "What reaches the application from outside" };
    networks.backend = { description: "The application and its data stores; no outside access", internal: true };
  }
  if (shape === "swarm") {
    networks[`${answers.name.slice(0, 58)}-net`] = { description: "The overlay network every service joins", attachable: true, encrypted: true };
  }

  const nodes: Record<string, HostNode> | undefined = multiNode
    ? {
        main: {
          description: withStores ? "Runs the application and its data stores" : "Runs the application",
          address: MAIN_ADDRESS,
          ...(shape === "swarm" ? { hostname: "main", manager: true } : {}),
          roles: withStores ? ["app", "data"] : ["app"],
        },
        worker: {
          description: "Runs more instances of the application",
          address: WORKER_ADDRESS,
          ...(shape === "swarm" ? { hostname: "worker" } : {}),
          roles: ["app"],
        },
      }
    : undefined;

  const targets: Targets = { env: {}, docs: {} };
  if (containers) targets.docker = {};
  if (shape === "compose" || shape === "compose-nodes") targets.compose = shape === "compose-nodes" ? { overlays: "nodes" } : {};
  if (shape === "systemd" && withStores) targets.compose = {};
  if (shape === "swarm") targets.swarm = { network: `${answers.name.slice(0, 58)}-net` };
  if (shape === "systemd") {
    targets.systemd = {
      user: answers.name.slice(0, 32).replace(/-+$/, ""),
      installDir: `/opt/${answers.name}`,
      ...(answers.runtime === "python" ? { venv: `/opt/${answers.name}/venv` } : {}),
    };
  }
  if (firewall !== "none") targets.firewall = { backend: firewall };
  if (registry !== "none") targets.github = { branches: ["main"] };

  const descriptor: Descriptor = {
    name: answers.name,
    description: SHAPE_SUMMARY[shape],
    ...(registry === "none" ? {} : { registry: { host: registry, namespace: registryNamespace(answers, facts), ...credentialsOf(registry) } }),
    ...(multiNode ? { cluster: { cidr: [CLUSTER_CIDR] } } : {}),
    ...(nodes === undefined ? {} : { nodes }),
    services,
    ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
    ...(Object.keys(volumes).length > 0 ? { volumes } : {}),
    ...(Object.keys(networks).length > 0 ? { networks } : {}),
    environments: { prod: { description: "Production" } },
    targets,
  };
  return { descriptor, notes };
}

const SHAPE_SUMMARY: Record<InitAnswers["shape"], string> = {
  compose: "Runs with docker compose on one host.",
  systemd: "Runs as a systemd service on one host.",
  "compose-nodes": "Runs with docker compose on a main node and a worker node.",
  swarm: "Runs on a docker swarm of a manager node and a worker node.",
  "image-ci": "A container image built and pushed by GitHub Actions.",
};

/** GitHub secrets holding the login; ghcr.io uses the workflow's own token. */
function credentialsOf(registry: string): { credentials?: { username: string; password: string } } {
  if (registry === "quay.io") return { credentials: { username: "QUAY_USERNAME", password: "QUAY_PASSWORD" } };
  if (registry === "docker.io") return { credentials: { username: "DOCKERHUB_USERNAME", password: "DOCKERHUB_TOKEN" } };
  return {};
}
