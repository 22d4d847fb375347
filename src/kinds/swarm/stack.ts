// The swarm stack file: services with replicas, placement constraints, update and rollback
// settings and resource limits, on an attachable overlay network, reading external secrets.
// It follows the swarm (v3) schema `docker stack config` checks: no GPU devices, no
// depends_on (swarm ignores start order), no security_opt or restart (swarm ignores them).
// `docker stack deploy` has no --env-file, so plain values are written literally, one stack
// file per environment; the env files still serve compose.
import type { Descriptor, Service } from "../../model/descriptor.js";
import { exposureOf, isDataStore, nodesOfService } from "../../model/derive.js";
import { escapeComposeValue } from "../../render/escape.js";
import {
  DATA_NETWORK,
  capabilityName,
  healthcheckEntry,
  imageOf,
  mtuOptions,
  networkName,
  normalizeSecretRef,
  octal,
  quoted,
  planServiceNetworks,
  resourceEntries,
  restartPolicyOf,
  runtimeOfService,
  serviceEnvironment,
  servicesRunningIn,
  smallestMtu,
  usedSecrets,
  usedVolumes,
  volumeDefinition,
} from "../compose/model.js";

export const STACK_VERSION = "3.8";

export function stackNameOf(d: Descriptor): string {
  return d.targets?.swarm?.stackName ?? d.name;
}

export function swarmNetworkOf(d: Descriptor): string {
  const network = d.targets?.swarm?.network;
  if (network === undefined) throw new Error("targets.swarm is missing");
  return network;
}

function serviceOf(d: Descriptor, name: string): Service {
  const service = d.services[name];
  if (!service) throw new Error(`no service named ${name}`);
  return service;
}

/** A relative host path is on the machine running `docker stack deploy`; read-only ones travel as swarm configs. */
export function isConfigMount(mount: { hostPath?: string; readOnly?: boolean }): boolean {
  return mount.hostPath !== undefined && !mount.hostPath.startsWith("/") && mount.readOnly === true;
}

/** Config keys by host path: the path's characters that names allow, deduplicated with a number. */
export function configKeys(d: Descriptor, names: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of names) {
    for (const mount of serviceOf(d, name).mounts ?? []) {
      if (!isConfigMount(mount) || mount.hostPath === undefined || keys.has(mount.hostPath)) continue;
      const base =
        mount.hostPath
          .replace(/^\.\//, "")
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, "-")
          .replace(/^-+|-+$/g, "")
          .slice(0, 50) || "config";
      let key = base;
      for (let n = 2; taken.has(key); n += 1) key = `${base}-${n}`;
      taken.add(key);
      keys.set(mount.hostPath, key);
    }
  }
  return keys;
}

/** `uid[:gid]` when the service's user is numeric, so secrets can be made readable by it alone. */
function numericUser(service: Service): { uid: string; gid: string } | undefined {
  const match = /^([0-9]+)(?::([0-9]+))?$/.exec(service.user ?? "");
  if (!match || match[1] === undefined) return undefined;
  return { uid: match[1], gid: match[2] ?? match[1] };
}

export type Placement =
  { constraints: string[] } | { unplaceable: "hostname"; node: string } | { unplaceable: "nodes" };

/**
 * Where swarm may schedule the service. One node: by its hostname. One role: by the node
 * label `role.<role>`. Several nodes picked otherwise: by excluding the other nodes' hostnames.
 */
export function placementOf(d: Descriptor, name: string): Placement {
  const service = serviceOf(d, name);
  const all = Object.keys(d.nodes ?? {});
  const nodes = nodesOfService(d, service);
  if (nodes.length === 0 || nodes.length === all.length) return { constraints: [] };
  if (nodes.length === 1) {
    const node = nodes[0] ?? "";
    const hostname = d.nodes?.[node]?.hostname;
    return hostname === undefined
      ? { unplaceable: "hostname", node }
      : { constraints: [`node.hostname == ${hostname}`] };
  }
  const roles = service.roles ?? [];
  if ((service.placement?.nodes ?? []).length === 0 && roles.length === 1)
    return { constraints: [`node.labels.role.${roles[0] ?? ""} == true`] };
  const excluded = all.filter((node) => !nodes.includes(node));
  const hostnames = excluded.map((node) => d.nodes?.[node]?.hostname);
  const missing = excluded.find((_, index) => hostnames[index] === undefined);
  if (missing !== undefined) return { unplaceable: "hostname", node: missing };
  return { constraints: hostnames.map((hostname) => `node.hostname != ${hostname ?? ""}`) };
}

/** Role labels the constraints use, with the nodes that must carry them. */
export function roleLabels(d: Descriptor, names: readonly string[]): Array<{ role: string; nodes: string[] }> {
  const labels: Array<{ role: string; nodes: string[] }> = [];
  for (const name of names) {
    const placement = placementOf(d, name);
    if (!("constraints" in placement)) continue;
    for (const constraint of placement.constraints) {
      const match = /^node\.labels\.role\.(.+) == true$/.exec(constraint);
      const role = match?.[1];
      if (role === undefined || labels.some((l) => l.role === role)) continue;
      labels.push({
        role,
        nodes: Object.entries(d.nodes ?? {})
          .filter(([, n]) => (n.roles ?? []).includes(role))
          .map(([node]) => node),
      });
    }
  }
  return labels;
}

/** Two copies of a stateful service must never share its data: those stop the old task first. */
export function updateOrderOf(service: Service): "start-first" | "stop-first" {
  const writes = (service.mounts ?? []).some((m) => m.readOnly !== true);
  return isDataStore(service) || writes ? "stop-first" : "start-first";
}

const RESTART_CONDITIONS = { no: "none", always: "any", "unless-stopped": "any", "on-failure": "on-failure" } as const;

function stackHostOf(d: Descriptor): (target: string) => string {
  return (target) => {
    const service = serviceOf(d, target);
    // Stack services and the containers attached to the overlay resolve each other by service name.
    if (runtimeOfService(d, service) !== "systemd") return target;
    const first = nodesOfService(d, service)[0];
    return (first === undefined ? undefined : d.nodes?.[first]?.address) ?? target;
  };
}

function stackService(
  d: Descriptor,
  name: string,
  environment: string,
  networks: string[],
  configs: Map<string, string>,
): Record<string, unknown> {
  const service = serviceOf(d, name);
  const entry: Record<string, unknown> = { image: imageOf(d, name) };
  if (service.command) entry["command"] = service.command.map(escapeComposeValue);
  if (service.entrypoint) entry["entrypoint"] = service.entrypoint.map(escapeComposeValue);
  if (service.workingDir !== undefined) entry["working_dir"] = escapeComposeValue(service.workingDir);
  if (service.user !== undefined) entry["user"] = quoted(service.user);
  const env = serviceEnvironment(d, name, { values: { kind: "literal", environment }, hostOf: stackHostOf(d) });
  if (Object.keys(env).length > 0) entry["environment"] = env;
  const owner = numericUser(service);
  const secrets = (service.secrets ?? []).map(normalizeSecretRef).map((ref) => {
    const secret: Record<string, unknown> = {
      source: ref.source,
      target: escapeComposeValue(ref.target ?? ref.source),
    };
    const uid = ref.uid ?? owner?.uid;
    const gid = ref.gid ?? owner?.gid;
    if (uid !== undefined) secret["uid"] = uid;
    if (gid !== undefined) secret["gid"] = gid;
    // Readable by the service's own user only, when that user is known.
    const mode = ref.mode ?? (uid !== undefined ? 0o400 : undefined);
    if (mode !== undefined) secret["mode"] = octal(mode);
    return secret;
  });
  if (secrets.length > 0) entry["secrets"] = secrets;
  const configMounts = (service.mounts ?? []).filter(isConfigMount);
  if (configMounts.length > 0) {
    entry["configs"] = configMounts.map((m) => ({
      source: configs.get(m.hostPath ?? "") ?? "",
      target: escapeComposeValue(m.target),
      mode: octal(0o444),
    }));
  }
  const ports = (service.ports ?? []).filter((p) => exposureOf(p) === "cluster" || exposureOf(p) === "public");
  if (ports.length > 0) {
    entry["ports"] = ports.map((p) => ({
      target: p.port,
      published: p.published ?? p.port,
      protocol: p.protocol ?? "tcp",
      mode: "ingress",
    }));
  }
  const volumes: Array<Record<string, unknown>> = [];
  for (const mount of service.mounts ?? []) {
    if (isConfigMount(mount)) continue;
    const volume: Record<string, unknown> =
      mount.volume !== undefined
        ? { type: "volume", source: mount.volume, target: escapeComposeValue(mount.target) }
        : { type: "bind", source: escapeComposeValue(mount.hostPath ?? ""), target: escapeComposeValue(mount.target) };
    if (mount.readOnly === true) volume["read_only"] = true;
    volumes.push(volume);
  }
  // Swarm ignores the service-level tmpfs key; a tmpfs mount does the same job.
  for (const path of service.tmpfs ?? []) volumes.push({ type: "tmpfs", target: escapeComposeValue(path) });
  if (volumes.length > 0) entry["volumes"] = volumes;
  entry["networks"] = [...networks];
  const healthcheck = healthcheckEntry(d, name);
  if (healthcheck) entry["healthcheck"] = healthcheck;
  if (service.readOnly === true) entry["read_only"] = true;
  entry["cap_drop"] = ["ALL"];
  if ((service.capAdd ?? []).length > 0) entry["cap_add"] = (service.capAdd ?? []).map(capabilityName);
  entry["deploy"] = stackDeployEntry(d, name);
  return entry;
}

function stackDeployEntry(d: Descriptor, name: string): Record<string, unknown> {
  const service = serviceOf(d, name);
  const order = updateOrderOf(service);
  const deploy: Record<string, unknown> = { mode: "replicated", replicas: service.replicas ?? 1 };
  const placement = placementOf(d, name);
  if ("constraints" in placement && placement.constraints.length > 0)
    deploy["placement"] = { constraints: placement.constraints };
  deploy["update_config"] = { parallelism: 1, delay: "10s", order, failure_action: "rollback", monitor: "30s" };
  deploy["rollback_config"] = { parallelism: 1, order };
  deploy["restart_policy"] = { condition: RESTART_CONDITIONS[restartPolicyOf(service)], delay: "5s" };
  const resources = resourceEntries(service);
  if (resources.limits !== undefined || resources.reservations !== undefined) deploy["resources"] = { ...resources };
  return deploy;
}

function overlayDefinition(d: Descriptor, key: string, shared: string): Record<string, unknown> {
  const network = d.networks?.[key];
  if (network?.external === true) return { external: true, name: networkName(d, key) };
  const definition: Record<string, unknown> = {};
  // The shared network keeps its own name so the containers beside the stack can join it.
  if (key === shared || network?.name !== undefined) definition["name"] = networkName(d, key);
  definition["driver"] = "overlay";
  if (network?.attachable === true) definition["attachable"] = true;
  if (network?.internal === true) definition["internal"] = true;
  const options: Record<string, string> = { ...mtuOptions(network?.mtu) };
  if (network?.encrypted === true) options["encrypted"] = "true";
  if (Object.keys(options).length > 0) definition["driver_opts"] = options;
  return definition;
}

export function stackServiceNames(d: Descriptor): string[] {
  return servicesRunningIn(d, "swarm");
}

/** The stack file of one environment. */
export function buildStack(d: Descriptor, environment: string): Record<string, unknown> {
  const names = stackServiceNames(d);
  const shared = swarmNetworkOf(d);
  const plan = planServiceNetworks(d, names, shared);
  const configs = configKeys(d, names);
  const services: Record<string, unknown> = {};
  const usedNetworks: string[] = [];
  for (const name of names) {
    const networks = plan.byService.get(name) ?? [shared];
    for (const n of networks) if (!usedNetworks.includes(n)) usedNetworks.push(n);
    services[name] = stackService(d, name, environment, networks, configs);
  }
  const stack: Record<string, unknown> = { version: STACK_VERSION, services };
  const networks: Record<string, unknown> = {};
  for (const key of usedNetworks) {
    if (key === DATA_NETWORK) {
      // As private as the shared overlay: encrypted too when it is.
      const options: Record<string, string> = { ...mtuOptions(smallestMtu(d)) };
      if (d.networks?.[shared]?.encrypted === true) options["encrypted"] = "true";
      networks[key] =
        Object.keys(options).length > 0
          ? { driver: "overlay", internal: true, driver_opts: options }
          : { driver: "overlay", internal: true };
    } else networks[key] = overlayDefinition(d, key, shared);
  }
  if (Object.keys(networks).length > 0) stack["networks"] = networks;
  const volumes = usedVolumes(d, names);
  if (volumes.length > 0) stack["volumes"] = Object.fromEntries(volumes.map((key) => [key, volumeDefinition(d, key)]));
  const secrets = usedSecrets(d, names);
  if (secrets.length > 0) stack["secrets"] = Object.fromEntries(secrets.map((name) => [name, { external: true }]));
  if (configs.size > 0)
    stack["configs"] = Object.fromEntries([...configs].map(([path, key]) => [key, { file: escapeComposeValue(path) }]));
  return stack;
}
