// Facts derived from the descriptor that more than one artifact kind needs. Computing
// them once here keeps the files consistent with each other (the env file, the compose
// file and DEPLOY.md must agree on every variable, path and name).
import type { Descriptor, EnvValue, Exposure, Healthcheck, Scalar, Secret, Service } from "./descriptor.js";

export const DEFAULT_ENVIRONMENT = "default";

// A validated descriptor is not changed afterwards, and every artifact kind asks it the
// same questions: the answers below are worked out once per descriptor and shared, so
// they are read-only. With a thousand services, asking again cost tens of milliseconds.
const serviceLists = new WeakMap<Descriptor, ReadonlyArray<readonly [string, Service]>>();
const variableLists = new WeakMap<Descriptor, readonly EnvVariable[]>();

/** Services in a stable order (the descriptor's order), with their names. */
export function listServices(d: Descriptor): ReadonlyArray<readonly [string, Service]> {
  let list = serviceLists.get(d);
  if (list === undefined) {
    list = Object.freeze(Object.entries(d.services));
    serviceLists.set(d, list);
  }
  return list;
}

export function platformOf(service: Service): "container" | "systemd" {
  return service.platform ?? "container";
}

/** Environment names; a descriptor without `environments` has one, called "default". */
export function environmentNames(d: Descriptor): string[] {
  const names = Object.keys(d.environments ?? {});
  return names.length > 0 ? names : [DEFAULT_ENVIRONMENT];
}

/** The env files' folder as one canonical relative path: "." (the output folder itself), "env", "config/env". */
export function envDir(d: Descriptor): string {
  const parts = (d.targets?.env?.dir ?? "env").split("/").filter((part) => part !== "" && part !== ".");
  return parts.length === 0 ? "." : parts.join("/");
}

function inEnvDir(d: Descriptor, file: string): string {
  const dir = envDir(d);
  return dir === "." ? file : `${dir}/${file}`;
}

/** Where the clear values of one environment are written. */
export function envFilePath(d: Descriptor, environment: string): string {
  return inEnvDir(d, `${environment}.env`);
}

/** The committed template listing every secret as an empty placeholder. */
export function secretsExamplePath(d: Descriptor): string {
  return inEnvDir(d, "secrets.env.example");
}

/** Folder holding secret values on the deploying machine; git-ignored, never generated into. */
export const SECRETS_DIR = "secrets";

export function secretFilePath(name: string): string {
  return `${SECRETS_DIR}/${name}`;
}

/** The variable a program reads a secret from: declared `env`, else the name in upper snake case. */
export function secretEnvName(name: string, secret: Secret | undefined): string {
  return secret?.env ?? name.toUpperCase().replace(/-/g, "_");
}

/** tr(1) sets of each charset; base64 is the URL-safe alphabet, as the schema documents. */
export const SECRET_ALPHABETS = { alnum: "A-Za-z0-9", hex: "0-9a-f", base64: "A-Za-z0-9_-" } as const;

/** The schema's default length of a generated secret. */
export const DEFAULT_SECRET_LENGTH = 32;

export type SecretSource =
  | { how: "external" }
  | { how: "prompt" }
  | { how: "generate"; length: number; charset: keyof typeof SECRET_ALPHABETS };

/**
 * Where a secret's value comes from, with the schema's defaults filled in: made outside
 * create-deploy, typed in by a person, or generated. Every script that makes secrets and
 * DEPLOY.md's table read it from here, so they agree on length and alphabet.
 */
export function secretSourceOf(secret: Secret | undefined): SecretSource {
  if (secret?.external === true) return { how: "external" };
  if (secret?.generate === false) return { how: "prompt" };
  return { how: "generate", length: secret?.generate?.length ?? DEFAULT_SECRET_LENGTH, charset: secret?.generate?.charset ?? "alnum" };
}

/**
 * How a systemd unit hands a secret to its program. A secret that declares `env` is read
 * from that variable, so it goes into a root-only EnvironmentFile (systemd reads it as
 * root before dropping privileges). Any other secret stays a file: a credential
 * (LoadCredential=) whose path the program finds in NAME_FILE, as in containers.
 */
export function systemdSecretRoute(secret: Secret | undefined): "variable" | "credential" {
  return secret?.env !== undefined ? "variable" : "credential";
}

/** The variable through which a service finds a secret: the value itself, or NAME_FILE naming its file. */
export function secretVariableKey(name: string, secret: Secret | undefined, service: Service): string {
  const base = secretEnvName(name, secret);
  return platformOf(service) === "systemd" && systemdSecretRoute(secret) === "variable" ? base : `${base}_FILE`;
}

/** Names of the secrets a service references, in its order. */
export function serviceSecretNames(service: Service): string[] {
  return (service.secrets ?? []).map((s) => (typeof s === "string" ? s : s.source));
}

export function isScalar(value: EnvValue): value is Scalar {
  return typeof value !== "object";
}

/** Scalars as env files and compose files spell them: YAML `true` is the text "true". */
export function scalarText(value: Scalar): string {
  return String(value);
}

/** The variable that carries the host user's ids for services with `user: host`. */
export const HOST_USER_KEYS = { uid: "HOST_UID", gid: "HOST_GID" } as const;

export function usesHostUser(d: Descriptor): boolean {
  return listServices(d).some(([, s]) => s.user === "host");
}

export interface EnvVariable {
  readonly key: string;
  /** Services that read the variable. */
  readonly services: readonly string[];
  /** Value per environment name; undefined when the variable is not a plain value. */
  readonly values: Readonly<Record<string, string>>;
  /** How the value is obtained when it is not a plain value. */
  readonly source: "value" | "hostOf" | "fromHost" | "secret" | "host-user";
  readonly note?: string;
}

/**
 * Every variable the deployment's services read, with its value in each environment:
 * a service's own value, overridden by `environments.<env>.values`. Validation has
 * already refused a key whose services disagree on its value.
 */
export function collectVariables(d: Descriptor): readonly EnvVariable[] {
  let variables = variableLists.get(d);
  if (variables === undefined) {
    variables = Object.freeze(gatherVariables(d));
    variableLists.set(d, variables);
  }
  return variables;
}

/** A variable while it is being gathered. */
interface GatheredVariable extends EnvVariable {
  services: string[];
  values: Record<string, string>;
  source: EnvVariable["source"];
  note?: string;
}

function gatherVariables(d: Descriptor): EnvVariable[] {
  const envs = environmentNames(d);
  const byKey = new Map<string, GatheredVariable>();
  for (const [name, service] of listServices(d)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      let variable = byKey.get(key);
      if (!variable) {
        variable = { key, services: [], values: {}, source: "value" };
        byKey.set(key, variable);
        if (isScalar(value)) {
          for (const env of envs) {
            const override = d.environments?.[env]?.values?.[key];
            variable.values[env] = scalarText(override ?? value);
          }
        } else if ("hostOf" in value) {
          variable.source = "hostOf";
          variable.note = `address of ${value.hostOf}`;
        } else {
          variable.source = "fromHost";
          variable.note = `from the host's $${value.fromHost}${value.default !== undefined ? ` (default ${value.default})` : ""}`;
        }
      }
      variable.services.push(name);
    }
    for (const secretName of serviceSecretNames(service)) {
      const key = `${secretEnvName(secretName, d.secrets?.[secretName])}_FILE`;
      if (platformOf(service) === "systemd") continue;
      let variable = byKey.get(key);
      if (!variable) {
        variable = { key, services: [], values: {}, source: "secret", note: `path of secret ${secretName}` };
        byKey.set(key, variable);
      }
      variable.services.push(name);
    }
  }
  for (const [name, service] of listServices(d)) {
    if (platformOf(service) !== "systemd") continue;
    for (const secretName of serviceSecretNames(service)) {
      const secret = d.secrets?.[secretName];
      const key = secretVariableKey(secretName, secret, service);
      let variable = byKey.get(key);
      if (!variable) {
        const note = systemdSecretRoute(secret) === "variable" ? `secret ${secretName}` : `path of secret ${secretName}`;
        variable = { key, services: [], values: {}, source: "secret", note };
        byKey.set(key, variable);
      }
      variable.services.push(name);
    }
  }
  if (usesHostUser(d)) {
    const services = listServices(d).filter(([, s]) => s.user === "host").map(([n]) => n);
    for (const key of [HOST_USER_KEYS.uid, HOST_USER_KEYS.gid]) {
      const values: Record<string, string> = {};
      for (const env of envs) values[env] = "1000";
      byKey.set(key, { key, services, values, source: "host-user", note: "the deploying user's id (`id -u` / `id -g`)" });
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The variables written into each environment's env file: plain values only. */
export function envFileEntries(d: Descriptor, environment: string): Array<[string, string]> {
  return collectVariables(d)
    .filter((v) => v.source === "value" || v.source === "host-user")
    .map((v) => [v.key, v.values[environment] ?? ""] as [string, string]);
}

/** Exposure with its default: a port is not published at all unless the descriptor says so. */
export function exposureOf(port: { exposure?: Exposure }): Exposure {
  return port.exposure ?? "internal";
}

export function isDataStore(service: Service): boolean {
  return service.type === "database" || service.type === "cache";
}

/** The image name (no tag) a service with `build` produces, or that `imageOf` points at. */
export function builtImageName(d: Descriptor, serviceName: string): string {
  const service = d.services[serviceName];
  const source = service?.imageOf ?? serviceName;
  const repo = `${d.name}-${source}`;
  return d.registry ? `${d.registry.host}/${d.registry.namespace}/${repo}` : repo;
}

/** Folder of the generated Dockerfiles, relative to the output folder. */
export const DOCKERFILE_DIR = "docker";

/** Where the Dockerfile of a service with `build` is written. */
export function dockerfilePath(serviceName: string): string {
  return `${DOCKERFILE_DIR}/${serviceName}.Dockerfile`;
}

/**
 * BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile instead of the context's
 * root .dockerignore, so each image gets its own ignore file and a user's own is never touched.
 */
export function dockerignorePath(serviceName: string): string {
  return `${dockerfilePath(serviceName)}.dockerignore`;
}

/** A build context as one canonical relative path: "." for the descriptor's folder, no "./" or trailing "/". */
export function buildContextOf(build: { context?: string }): string {
  const parts = (build.context ?? ".").split("/").filter((part) => part !== "" && part !== ".");
  return parts.length === 0 ? "." : parts.join("/");
}

/** The runtime of the image a container service runs: its own build's, or that of the service named by `imageOf`. */
export function imageRuntimeOf(d: Descriptor, serviceName: string): "python" | "node" | "generic" | undefined {
  const service = d.services[serviceName];
  const source = service?.imageOf !== undefined ? d.services[service.imageOf] : service;
  return source?.build?.runtime;
}

/**
 * A health check as an exec-form argument list. HTTP and TCP probes use the runtime's own
 * interpreter, so images need no curl or wget; for other images only `command` can be run,
 * and undefined says so.
 */
export function healthcheckArgv(runtime: "python" | "node" | "generic" | undefined, check: Healthcheck): string[] | undefined {
  if (check.command) return [...check.command];
  if (check.http) {
    const url = JSON.stringify(`http://127.0.0.1:${check.http.port}${check.http.path}`);
    if (runtime === "python") return ["python", "-c", `import urllib.request; urllib.request.urlopen(${url})`];
    if (runtime === "node") return ["node", "-e", `fetch(${url}).then((r) => process.exit(r.status < 400 ? 0 : 1), () => process.exit(1))`];
    return undefined;
  }
  if (check.tcp) {
    const port = check.tcp.port;
    if (runtime === "python") return ["python", "-c", `import socket; socket.create_connection(("127.0.0.1", ${port}), timeout=5).close()`];
    if (runtime === "node") {
      return ["node", "-e", `require("node:net").connect(${port}, "127.0.0.1").on("connect", () => process.exit(0)).on("error", () => process.exit(1))`];
    }
    return undefined;
  }
  return undefined;
}

/**
 * The health check baked into the image a service builds: its own, or, for a service that
 * declares none but listens on TCP, a connect probe on its first TCP port. Undefined when
 * there is nothing to probe (a job, a worker without ports) or no interpreter to probe with.
 */
export function imageHealthcheckOf(service: Service): { check: Healthcheck; argv: string[]; derived: boolean } | undefined {
  const runtime = service.build?.runtime;
  if (service.healthcheck) {
    const argv = healthcheckArgv(runtime, service.healthcheck);
    return argv ? { check: service.healthcheck, argv, derived: false } : undefined;
  }
  if (service.type === "job") return undefined;
  const port = (service.ports ?? []).find((p) => (p.protocol ?? "tcp") === "tcp");
  if (!port) return undefined;
  const check: Healthcheck = { tcp: { port: port.port } };
  const argv = healthcheckArgv(runtime, check);
  return argv ? { check, argv, derived: true } : undefined;
}

/**
 * A service with `imageOf` and no health check of its own still inherits the HEALTHCHECK of
 * the image it runs, which probes the other service's port; compose and swarm files must
 * disable it (`healthcheck: { disable: true }`) or the container is reported unhealthy.
 */
export function inheritsForeignHealthcheck(d: Descriptor, serviceName: string): boolean {
  const service = d.services[serviceName];
  if (!service || service.imageOf === undefined || service.healthcheck !== undefined) return false;
  const source = d.services[service.imageOf];
  return source?.build !== undefined && imageHealthcheckOf(source) !== undefined;
}

/**
 * The nodes a service runs on, in the descriptor's order: its `placement.nodes` when given,
 * else the nodes carrying one of its roles, else every node (nothing pins it). Empty when
 * the deployment declares no nodes (one host).
 */
export function nodesOfService(d: Descriptor, service: Service): string[] {
  const nodes = Object.entries(d.nodes ?? {});
  const pinned = service.placement?.nodes ?? [];
  if (pinned.length > 0) return nodes.filter(([name]) => pinned.includes(name)).map(([name]) => name);
  const roles = service.roles ?? [];
  if (roles.length === 0) return nodes.map(([name]) => name);
  return nodes.filter(([, node]) => (node.roles ?? []).some((role) => roles.includes(role))).map(([name]) => name);
}
