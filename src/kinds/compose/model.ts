// Compose service definitions as plain objects, shared by the compose kind (compose.yaml
// and its node overlays) and the swarm kind (the stack file, and the plain compose files
// of services that cannot run in swarm). Every string that comes from the descriptor goes
// through escapeComposeValue: compose interpolates `$` everywhere, so a literal `$` is `$$`.
// The only `${…}` written on purpose are the ones built here (env-file variables, host
// variables, the image tag).
import { Scalar, YAMLMap } from "yaml";
import type { Descriptor, Dependency, Mount, Port, SecretRef, Service } from "../../model/descriptor.js";
import {
  HOST_USER_KEYS,
  builtImageName,
  collectVariables,
  exposureOf,
  healthcheckArgv,
  imageRuntimeOf,
  inheritsForeignHealthcheck,
  isDataStore,
  isScalar,
  listServices,
  nodesOfService,
  platformOf,
  secretEnvName,
  secretFilePath,
} from "../../model/derive.js";
import { escapeComposeValue } from "../../render/escape.js";

/** Shell variable naming the image tag to deploy; not in the env files, which are generated. */
export const IMAGE_TAG_VARIABLE = "IMAGE_TAG";
export const DEFAULT_IMAGE_TAG = "latest";

/**
 * Networks create-deploy adds on its own. Their keys hold `_`, which descriptor identifiers
 * cannot, so they never collide with a declared network.
 */
export const DATA_NETWORK = "data_internal";
export const HOST_ACCESS_NETWORK = "host_access";

/**
 * The message compose prints when a variable of the env file is missing. Docker's own
 * interpolation stops the message at the first `-`, so it holds none.
 */
const MISSING_IN_ENV_FILE = "set it in the env file";
const MISSING_ON_HOST = "export it before deploying";

const MTU_OPTION = "com.docker.network.driver.mtu";

export type Runtime = "compose" | "swarm";

/** Where a container service runs when the descriptor also targets swarm. */
export function runtimeOfService(d: Descriptor, service: Service): Runtime | "systemd" {
  if (platformOf(service) === "systemd") return "systemd";
  return d.targets?.swarm !== undefined && service.swarm !== false ? "swarm" : "compose";
}

export function servicesRunningIn(d: Descriptor, runtime: Runtime): string[] {
  return listServices(d)
    .filter(([, s]) => runtimeOfService(d, s) === runtime)
    .map(([name]) => name);
}

function serviceOf(d: Descriptor, name: string): Service {
  const service = d.services[name];
  if (!service) throw new Error(`no service named ${name}`);
  return service;
}

/** A string no YAML reader may take for anything else: `no` is YAML 1.1's false, `10001:10001` its base-60 number. */
export function quoted(value: string): Scalar {
  const scalar = new Scalar(value);
  scalar.type = Scalar.QUOTE_DOUBLE;
  return scalar;
}

/** File modes read best in octal; YAML 1.2's `0o` form is read the same by compose and docker. */
export function octal(value: number): Scalar {
  const scalar = new Scalar(value);
  scalar.format = "OCT";
  return scalar;
}

/** A mapping carrying compose's `!override` (replace the base value) or `!reset` (drop it) tag. */
export function taggedMapping(tag: "!override" | "!reset", entries: Record<string, unknown>): YAMLMap {
  const map = new YAMLMap();
  map.tag = tag;
  for (const [key, value] of Object.entries(entries)) map.set(key, value);
  return map;
}

export function requiredVariable(key: string): string {
  return `\${${key}?${MISSING_IN_ENV_FILE}}`;
}

/** `${VAR:-default}` keeps its default literal: `$` and `}` are refused there by check(). */
export function hostVariable(key: string, fallback: string | undefined): string {
  return fallback === undefined ? `\${${key}?${MISSING_ON_HOST}}` : `\${${key}:-${fallback}}`;
}

/** Characters a `${VAR:-default}` default cannot hold in every compose implementation. */
export function isInterpolationSafeDefault(value: string): boolean {
  return !/[$}]/.test(value);
}

export function imageOf(d: Descriptor, name: string): string {
  const service = serviceOf(d, name);
  if (service.image !== undefined) return service.image;
  return `${builtImageName(d, name)}:\${${IMAGE_TAG_VARIABLE}:-${DEFAULT_IMAGE_TAG}}`;
}

export function usesBuiltImage(service: Service): boolean {
  return service.image === undefined;
}

export function normalizeSecretRef(ref: string | SecretRef): SecretRef {
  return typeof ref === "string" ? { source: ref } : ref;
}

/** Where the secret file appears in the container: /run/secrets/<target or name>, or an absolute target. */
export function secretMountPath(ref: SecretRef): string {
  const target = ref.target ?? ref.source;
  return target.startsWith("/") ? target : `/run/secrets/${target}`;
}

/** How plain variables are written: read from the env file by compose, or literal values of one environment. */
export type ValueSource = { kind: "env-file" } | { kind: "literal"; environment: string };

export interface EnvironmentOptions {
  values: ValueSource;
  /** The host name this service reaches `target` at. */
  hostOf: (target: string) => string;
}

// Every variable's value per environment, gathered from every service once per descriptor:
// gathering it for each service made a stack of many services quadratic. A validated
// descriptor is never changed afterwards, so the map stays true.
const literalValueMaps = new WeakMap<Descriptor, Map<string, Record<string, string>>>();

function literalValuesOf(d: Descriptor): Map<string, Record<string, string>> {
  let values = literalValueMaps.get(d);
  if (values === undefined) {
    values = new Map(collectVariables(d).map((v) => [v.key, v.values]));
    literalValueMaps.set(d, values);
  }
  return values;
}

/** The service's environment: its own variables in the descriptor's order, then one `<ENV>_FILE` per secret. */
export function serviceEnvironment(d: Descriptor, name: string, options: EnvironmentOptions): Record<string, string> {
  const service = serviceOf(d, name);
  const literalValues = (key: string): Record<string, string> | undefined => literalValuesOf(d).get(key);
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.environment ?? {})) {
    if (isScalar(value)) {
      environment[key] =
        options.values.kind === "env-file"
          ? requiredVariable(key)
          : escapeComposeValue(literalValues(key)?.[options.values.environment] ?? String(value));
    } else if ("hostOf" in value) {
      environment[key] = escapeComposeValue(options.hostOf(value.hostOf));
    } else {
      environment[key] = hostVariable(value.fromHost, value.default);
    }
  }
  for (const ref of (service.secrets ?? []).map(normalizeSecretRef)) {
    const key = `${secretEnvName(ref.source, d.secrets?.[ref.source])}_FILE`;
    if (!(key in environment)) environment[key] = escapeComposeValue(secretMountPath(ref));
  }
  return environment;
}

/** The services another service names with `hostOf`, with the variable naming each. */
export function hostReferences(service: Service): Array<{ key: string; target: string }> {
  return Object.entries(service.environment ?? {}).flatMap(([key, value]) =>
    !isScalar(value) && "hostOf" in value ? [{ key, target: value.hostOf }] : [],
  );
}

export function dependencyOf(dep: string | Dependency): Required<Dependency> {
  return typeof dep === "string"
    ? { service: dep, condition: "started" }
    : { service: dep.service, condition: dep.condition ?? "started" };
}

const CONDITIONS = {
  started: "service_started",
  healthy: "service_healthy",
  completed: "service_completed_successfully",
} as const;

/** depends_on in long form, keeping only the dependencies `keep` accepts. */
export function dependsOnEntries(
  service: Service,
  keep: (target: string) => boolean,
): Record<string, { condition: string }> {
  const entries: Record<string, { condition: string }> = {};
  for (const dep of (service.dependsOn ?? []).map(dependencyOf)) {
    if (keep(dep.service)) entries[dep.service] = { condition: CONDITIONS[dep.condition] };
  }
  return entries;
}

/** The health check in compose form, or undefined when there is none (or none create-deploy can run: check() says so). */
export function healthcheckEntry(d: Descriptor, name: string): Record<string, unknown> | undefined {
  const check = serviceOf(d, name).healthcheck;
  // The image of another service probes that service's port, which this one does not listen on.
  if (!check) return inheritsForeignHealthcheck(d, name) ? { disable: true } : undefined;
  const argv = healthcheckArgv(imageRuntimeOf(d, name), check);
  if (!argv) return undefined;
  const entry: Record<string, unknown> = { test: ["CMD", ...argv.map(escapeComposeValue)] };
  if (check.interval !== undefined) entry["interval"] = check.interval;
  if (check.timeout !== undefined) entry["timeout"] = check.timeout;
  if (check.retries !== undefined) entry["retries"] = check.retries;
  if (check.startPeriod !== undefined) entry["start_period"] = check.startPeriod;
  return entry;
}

/** A health check create-deploy cannot write: an HTTP or TCP probe in an image it does not build. */
export function unprobeableHealthcheck(d: Descriptor, name: string): "http" | "tcp" | undefined {
  const check = serviceOf(d, name).healthcheck;
  if (!check || healthcheckArgv(imageRuntimeOf(d, name), check) !== undefined) return undefined;
  return check.http ? "http" : check.tcp ? "tcp" : undefined;
}

export function mountEntry(mount: Mount): Record<string, unknown> {
  const entry: Record<string, unknown> =
    mount.volume !== undefined
      ? { type: "volume", source: mount.volume, target: escapeComposeValue(mount.target) }
      : { type: "bind", source: escapeComposeValue(mount.hostPath ?? ""), target: escapeComposeValue(mount.target) };
  if (mount.readOnly === true) entry["read_only"] = true;
  return entry;
}

export function capabilityName(capability: string): string {
  return capability.replace(/^CAP_/, "");
}

export interface ResourceEntries {
  limits?: Record<string, unknown>;
  reservations?: Record<string, unknown>;
}

/** Resource limits and reservations as compose and swarm spell them (cpus as a string, as docker prints it). */
export function resourceEntries(service: Service): ResourceEntries {
  const entries: ResourceEntries = {};
  const limits: Record<string, unknown> = {};
  if (service.resources?.cpus !== undefined) limits["cpus"] = String(service.resources.cpus);
  if (service.resources?.memory !== undefined) limits["memory"] = service.resources.memory;
  if (Object.keys(limits).length > 0) entries.limits = limits;
  const reservations: Record<string, unknown> = {};
  const wanted = service.resources?.reservations;
  if (wanted?.cpus !== undefined) reservations["cpus"] = String(wanted.cpus);
  if (wanted?.memory !== undefined) reservations["memory"] = wanted.memory;
  if (Object.keys(reservations).length > 0) entries.reservations = reservations;
  return entries;
}

function gpuDevice(service: Service): Record<string, unknown> | undefined {
  const gpu = service.gpu;
  if (!gpu) return undefined;
  const device: Record<string, unknown> = { driver: gpu.driver ?? "nvidia" };
  if (gpu.count !== undefined) device["count"] = gpu.count;
  if (gpu.deviceIds !== undefined) device["device_ids"] = [...gpu.deviceIds];
  device["capabilities"] = [...(gpu.capabilities ?? ["gpu"])];
  return device;
}

/** compose's `deploy:` (replicas, limits, GPU reservations), or undefined when there is nothing to say. */
function composeDeployEntry(service: Service): Record<string, unknown> | undefined {
  const deploy: Record<string, unknown> = {};
  if (service.replicas !== undefined) deploy["replicas"] = service.replicas;
  const wanted = resourceEntries(service);
  const resources: Record<string, unknown> = {};
  if (wanted.limits) resources["limits"] = wanted.limits;
  const reservations: Record<string, unknown> = { ...wanted.reservations };
  const device = gpuDevice(service);
  if (device) reservations["devices"] = [device];
  if (Object.keys(reservations).length > 0) resources["reservations"] = reservations;
  if (Object.keys(resources).length > 0) deploy["resources"] = resources;
  return Object.keys(deploy).length > 0 ? deploy : undefined;
}

/** The restart policy: the descriptor's, else `unless-stopped` for long-running services and none for jobs. */
export function restartPolicyOf(service: Service): "no" | "always" | "on-failure" | "unless-stopped" {
  return service.restart ?? (service.type === "job" ? "no" : "unless-stopped");
}

/** Smallest MTU among the declared networks: networks create-deploy adds must fit through them too. */
export function smallestMtu(d: Descriptor): number | undefined {
  const mtus = Object.values(d.networks ?? {}).flatMap((n) => (n.mtu === undefined ? [] : [n.mtu]));
  return mtus.length > 0 ? Math.min(...mtus) : undefined;
}

export function mtuOptions(mtu: number | undefined): Record<string, string> | undefined {
  return mtu === undefined ? undefined : { [MTU_OPTION]: String(mtu) };
}

/** The real name of a declared network (external networks may be named otherwise). */
export function networkName(d: Descriptor, key: string): string {
  return d.networks?.[key]?.name ?? key;
}

export interface NetworkPlan {
  /** Networks each service joins, by key of the file's top-level networks. */
  byService: Map<string, string[]>;
  /** Whether some data store without declared networks was put on DATA_NETWORK. */
  usesDataNetwork: boolean;
}

/**
 * The networks of each service of one file. Declared networks are kept; a database or
 * cache that declares none goes on an internal network of its own (DATA_NETWORK), which
 * every other service without declared networks joins as well as the default network, so
 * the store is reachable from the services and from nothing outside. `shared` is a network
 * every service joins (the swarm overlay).
 */
export function planServiceNetworks(d: Descriptor, names: readonly string[], shared?: string): NetworkPlan {
  const storesWithout = names.filter(
    (n) => isDataStore(serviceOf(d, n)) && (serviceOf(d, n).networks ?? []).length === 0,
  );
  const usesDataNetwork = storesWithout.length > 0;
  const byService = new Map<string, string[]>();
  for (const name of names) {
    const service = serviceOf(d, name);
    const declared = [...(service.networks ?? [])];
    let networks: string[];
    if (declared.length > 0) {
      networks = declared;
      const reachesStore = [
        ...(service.dependsOn ?? []).map((dep) => dependencyOf(dep).service),
        ...hostReferences(service).map((r) => r.target),
      ].some((target) => storesWithout.includes(target));
      if (reachesStore) networks.push(DATA_NETWORK);
    } else if (storesWithout.includes(name)) {
      networks = [DATA_NETWORK];
    } else {
      networks = shared !== undefined ? [] : ["default"];
      if (usesDataNetwork) networks.push(DATA_NETWORK);
    }
    // Data stores stay off the shared overlay: only the services that use them reach them.
    if (shared !== undefined && !networks.includes(shared) && !isDataStore(service)) networks.unshift(shared);
    byService.set(name, networks.length > 0 ? networks : ["default"]);
  }
  return { byService, usesDataNetwork };
}

/** Whether a service reaches nothing outside the host: every network it joins is internal. */
export function onlyInternalNetworks(d: Descriptor, networks: readonly string[]): boolean {
  return networks.every((key) => key === DATA_NETWORK || d.networks?.[key]?.internal === true);
}

/** Where a published port binds: the port's own address, or what its exposure implies. */
export function bindAddress(port: Port, nodeAddress: string | undefined): string | undefined {
  if (port.address !== undefined) return port.address;
  switch (exposureOf(port)) {
    case "local":
      return "127.0.0.1";
    case "public":
      return "0.0.0.0";
    case "cluster":
      return nodeAddress;
    case "internal":
      return undefined;
  }
}

export function isPublished(port: Port): boolean {
  return exposureOf(port) !== "internal";
}

/** Long-form compose port entries bound to an address (`nodeAddress` serves cluster ports). */
export function composePorts(service: Service, nodeAddress: string | undefined): Array<Record<string, unknown>> {
  return (service.ports ?? []).filter(isPublished).flatMap((port) => {
    const hostIp = bindAddress(port, nodeAddress);
    if (hostIp === undefined) return [];
    return [
      { target: port.port, published: port.published ?? port.port, host_ip: hostIp, protocol: port.protocol ?? "tcp" },
    ];
  });
}

/** The one node a service runs on when it runs on exactly one, else undefined. */
export function soleNodeOf(d: Descriptor, name: string): string | undefined {
  const nodes = nodesOfService(d, serviceOf(d, name));
  return nodes.length === 1 ? nodes[0] : undefined;
}

export interface ComposeServiceOptions {
  values: ValueSource;
  hostOf: (target: string) => string;
  networks: string[];
  /** Ports to publish (already bound); none when the overlays publish them. */
  ports: Array<Record<string, unknown>>;
  /** Dependencies kept in depends_on (those defined in the same file). */
  keepDependency: (target: string) => boolean;
}

/** One service of a plain compose file, with the secure defaults. */
export function composeService(d: Descriptor, name: string, options: ComposeServiceOptions): Record<string, unknown> {
  const service = serviceOf(d, name);
  const entry: Record<string, unknown> = { image: imageOf(d, name) };
  if (service.command) entry["command"] = service.command.map(escapeComposeValue);
  if (service.entrypoint) entry["entrypoint"] = service.entrypoint.map(escapeComposeValue);
  if (service.workingDir !== undefined) entry["working_dir"] = escapeComposeValue(service.workingDir);
  if (service.user === "host")
    entry["user"] = `${requiredVariable(HOST_USER_KEYS.uid)}:${requiredVariable(HOST_USER_KEYS.gid)}`;
  else if (service.user !== undefined) entry["user"] = quoted(service.user);
  const restart = restartPolicyOf(service);
  entry["restart"] = restart === "no" ? quoted(restart) : restart;
  const dependsOn = dependsOnEntries(service, options.keepDependency);
  if (Object.keys(dependsOn).length > 0) entry["depends_on"] = dependsOn;
  const environment = serviceEnvironment(d, name, { values: options.values, hostOf: options.hostOf });
  if (Object.keys(environment).length > 0) entry["environment"] = environment;
  const secrets = (service.secrets ?? []).map(normalizeSecretRef);
  // File secrets are bind mounts: compose ignores uid, gid and mode for them (and warns), so they are left out.
  if (secrets.length > 0) {
    entry["secrets"] = secrets.map((ref) =>
      ref.target === undefined ? ref.source : { source: ref.source, target: escapeComposeValue(ref.target) },
    );
  }
  if (options.ports.length > 0) entry["ports"] = options.ports;
  if ((service.mounts ?? []).length > 0) entry["volumes"] = (service.mounts ?? []).map(mountEntry);
  // Alone on the default network, a service needs no networks key at all.
  if (options.networks.length !== 1 || options.networks[0] !== "default") entry["networks"] = [...options.networks];
  const healthcheck = healthcheckEntry(d, name);
  if (healthcheck) entry["healthcheck"] = healthcheck;
  if (service.readOnly === true) entry["read_only"] = true;
  if ((service.tmpfs ?? []).length > 0) entry["tmpfs"] = (service.tmpfs ?? []).map(escapeComposeValue);
  entry["security_opt"] = ["no-new-privileges:true"];
  if (service.privileged === true) {
    entry["privileged"] = true;
  } else {
    entry["cap_drop"] = ["ALL"];
    if ((service.capAdd ?? []).length > 0) entry["cap_add"] = (service.capAdd ?? []).map(capabilityName);
  }
  const deploy = composeDeployEntry(service);
  if (deploy) entry["deploy"] = deploy;
  return entry;
}

/** Top-level definition of a declared network in a compose file (bridge on one host). */
export function composeNetworkDefinition(d: Descriptor, key: string): Record<string, unknown> {
  const network = d.networks?.[key];
  if (network?.external === true) return { external: true, name: networkName(d, key) };
  const definition: Record<string, unknown> = {};
  if (network?.name !== undefined) definition["name"] = network.name;
  if (network?.internal === true) definition["internal"] = true;
  const options = mtuOptions(network?.mtu);
  if (options) definition["driver_opts"] = options;
  return definition;
}

/** Top-level definition of a named volume; NFS volumes use the local driver's NFS mount options. */
export function volumeDefinition(d: Descriptor, key: string): Record<string, unknown> {
  const volume = d.volumes?.[key];
  if (volume?.external === true) return { external: true };
  if (volume?.nfs) {
    const options = volume.nfs.options ?? "rw,nfsvers=4";
    return {
      driver: "local",
      driver_opts: {
        type: "nfs",
        o: escapeComposeValue(`addr=${volume.nfs.server},${options}`),
        device: escapeComposeValue(`:${volume.nfs.path}`),
      },
    };
  }
  if (volume?.driver !== undefined) return { driver: volume.driver };
  return {};
}

/** Named volumes the given services mount, in first-use order. */
export function usedVolumes(d: Descriptor, names: readonly string[]): string[] {
  const used: string[] = [];
  for (const name of names) {
    for (const mount of serviceOf(d, name).mounts ?? []) {
      if (mount.volume !== undefined && !used.includes(mount.volume)) used.push(mount.volume);
    }
  }
  return used;
}

/** Secrets the given services read, in first-use order. */
export function usedSecrets(d: Descriptor, names: readonly string[]): string[] {
  const used: string[] = [];
  for (const name of names) {
    for (const ref of (serviceOf(d, name).secrets ?? []).map(normalizeSecretRef)) {
      if (!used.includes(ref.source)) used.push(ref.source);
    }
  }
  return used;
}

/** compose's file secrets: each read from its file under secrets/, which git ignores. */
export function fileSecretDefinitions(names: readonly string[]): Record<string, { file: string }> {
  return Object.fromEntries(names.map((name) => [name, { file: `./${secretFilePath(name)}` }]));
}
