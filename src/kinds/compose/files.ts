// Assembles compose files from the service model: one self-contained file, or a base file
// holding everything common plus one overlay per node holding what is node-specific
// (published ports bound to the node's address, addresses of services on other nodes,
// dependencies on services that run elsewhere dropped).
import type { Descriptor } from "../../model/descriptor.js";
import { nodesOfService } from "../../model/derive.js";
import {
  DATA_NETWORK,
  HOST_ACCESS_NETWORK,
  composeNetworkDefinition,
  composePorts,
  composeService,
  dependencyOf,
  dependsOnEntries,
  fileSecretDefinitions,
  hostReferences,
  mtuOptions,
  networkName,
  onlyInternalNetworks,
  planServiceNetworks,
  runtimeOfService,
  smallestMtu,
  soleNodeOf,
  taggedMapping,
  usedSecrets,
  usedVolumes,
  volumeDefinition,
  type ValueSource,
} from "./model.js";

/** Connect to host_access first so Docker programs the published ports through it, not an internal network. */
const HOST_ACCESS_PRIORITY = 100;

export interface ComposeFileOptions {
  /** Compose project name (top-level `name:`). */
  project: string;
  values: ValueSource;
  /** The swarm's attachable overlay network every service joins (key of `networks`), external to compose. */
  sharedNetwork?: string;
}

function serviceOf(d: Descriptor, name: string): NonNullable<Descriptor["services"][string]> {
  const service = d.services[name];
  if (!service) throw new Error(`no service named ${name}`);
  return service;
}

function runsOn(d: Descriptor, name: string, node: string): boolean {
  return nodesOfService(d, serviceOf(d, name)).includes(node);
}

function nodeAddress(d: Descriptor, node: string | undefined): string | undefined {
  return node === undefined ? undefined : d.nodes?.[node]?.address;
}

/**
 * The host name a service in this file reaches `target` at: the service name when compose
 * (or the swarm overlay) resolves it, else the address of the node running it. `node` is
 * the node whose overlay is being written, undefined for a base or self-contained file.
 */
export function resolveHostOf(
  d: Descriptor,
  inFile: ReadonlySet<string>,
  node: string | undefined,
): (target: string) => string {
  return (target) => {
    const service = serviceOf(d, target);
    if (d.targets?.swarm !== undefined && runtimeOfService(d, service) === "swarm") return target;
    if (inFile.has(target) && (node === undefined || runsOn(d, target, node))) return target;
    const first = nodesOfService(d, service)[0];
    return nodeAddress(d, first) ?? target;
  };
}

/** Whether `hostOf: target` from this file leaves the compose project (another node, or outside compose). */
export function reachesOutside(
  d: Descriptor,
  inFile: ReadonlySet<string>,
  node: string | undefined,
  target: string,
): boolean {
  return resolveHostOf(d, inFile, node)(target) !== target;
}

function withHostAccess(networks: string[]): Record<string, unknown> {
  const entries: Record<string, unknown> = { [HOST_ACCESS_NETWORK]: { priority: HOST_ACCESS_PRIORITY } };
  for (const network of networks) entries[network] = {};
  return entries;
}

function hostAccessDefinition(d: Descriptor): Record<string, unknown> {
  const options = mtuOptions(smallestMtu(d));
  return options ? { driver_opts: options } : {};
}

function topLevelNetworks(
  d: Descriptor,
  used: readonly string[],
  options: ComposeFileOptions,
  hostAccess: boolean,
): Record<string, unknown> {
  const networks: Record<string, unknown> = {};
  for (const key of used) {
    if (key === "default" || key in networks) continue;
    if (key === options.sharedNetwork) networks[key] = { external: true, name: networkName(d, key) };
    else if (key === DATA_NETWORK) {
      const mtu = mtuOptions(smallestMtu(d));
      networks[key] = mtu ? { internal: true, driver_opts: mtu } : { internal: true };
    } else networks[key] = composeNetworkDefinition(d, key);
  }
  if (hostAccess) networks[HOST_ACCESS_NETWORK] = hostAccessDefinition(d);
  return networks;
}

function finishFile(
  d: Descriptor,
  header: Record<string, unknown>,
  services: Record<string, unknown>,
  names: readonly string[],
  networks: Record<string, unknown>,
): Record<string, unknown> {
  const file: Record<string, unknown> = { ...header, services };
  if (Object.keys(networks).length > 0) file["networks"] = networks;
  const volumes = usedVolumes(d, names);
  if (volumes.length > 0) file["volumes"] = Object.fromEntries(volumes.map((key) => [key, volumeDefinition(d, key)]));
  const secrets = usedSecrets(d, names);
  if (secrets.length > 0) file["secrets"] = fileSecretDefinitions(secrets);
  return file;
}

/**
 * A compose file that holds every service in `names`. With `publish`, ports are
 * published per exposure (cluster ports on the address of the node running the service, or
 * the port's own address) and a service that publishes or reaches outside from internal
 * networks only also joins the host-access network; without, nothing node-specific is written.
 */
function buildComposeFile(
  d: Descriptor,
  names: readonly string[],
  options: ComposeFileOptions,
  publish: boolean,
): Record<string, unknown> {
  const inFile = new Set(names);
  const plan = planServiceNetworks(d, names, options.sharedNetwork);
  const services: Record<string, unknown> = {};
  const usedNetworks: string[] = [];
  let hostAccess = false;
  for (const name of names) {
    const service = serviceOf(d, name);
    const networks = plan.byService.get(name) ?? ["default"];
    usedNetworks.push(...networks);
    const ports = publish ? composePorts(service, nodeAddress(d, soleNodeOf(d, name))) : [];
    const outside = publish && hostReferences(service).some((ref) => reachesOutside(d, inFile, undefined, ref.target));
    const needsHostAccess = (ports.length > 0 || outside) && onlyInternalNetworks(d, networks);
    hostAccess ||= needsHostAccess;
    const entry = composeService(d, name, {
      values: options.values,
      hostOf: resolveHostOf(d, inFile, undefined),
      networks,
      ports,
      keepDependency: (target) => inFile.has(target),
    });
    if (needsHostAccess) entry["networks"] = withHostAccess(networks);
    services[name] = entry;
  }
  return finishFile(d, { name: options.project }, services, names, topLevelNetworks(d, usedNetworks, options, hostAccess));
}

/** One compose file that runs `names` on one host, ports published. */
export function buildSingleComposeFile(
  d: Descriptor,
  names: readonly string[],
  options: ComposeFileOptions,
): Record<string, unknown> {
  return buildComposeFile(d, names, options, true);
}

/** The base file of a node split: every service, no published ports, services reached by name. */
export function buildBaseComposeFile(
  d: Descriptor,
  names: readonly string[],
  options: ComposeFileOptions,
): Record<string, unknown> {
  return buildComposeFile(d, names, options, false);
}

export interface NodeOverlay {
  node: string;
  /** Services the node runs, in the descriptor's order. */
  services: string[];
  document: Record<string, unknown>;
}

/** The overlay of one node: its services' published ports, remote addresses and local-only dependencies. */
export function buildNodeOverlay(
  d: Descriptor,
  names: readonly string[],
  node: string,
  options: ComposeFileOptions,
): NodeOverlay {
  const inFile = new Set(names);
  const mine = names.filter((name) => runsOn(d, name, node));
  const plan = planServiceNetworks(d, names, options.sharedNetwork);
  const resolve = resolveHostOf(d, inFile, node);
  const services: Record<string, unknown> = {};
  let hostAccess = false;
  for (const name of mine) {
    const service = serviceOf(d, name);
    const entry: Record<string, unknown> = {};
    const ports = composePorts(service, nodeAddress(d, node));
    const remote = hostReferences(service).filter((ref) => resolve(ref.target) !== ref.target);
    if (remote.length > 0)
      entry["environment"] = Object.fromEntries(remote.map((ref) => [ref.key, resolve(ref.target)]));
    const deps = (service.dependsOn ?? [])
      .map((dep) => dependencyOf(dep).service)
      .filter((target) => inFile.has(target));
    if (deps.some((target) => !runsOn(d, target, node))) {
      // Starting a service also starts what it depends on; one that runs on another node must not start here.
      const local = dependsOnEntries(service, (target) => inFile.has(target) && runsOn(d, target, node));
      entry["depends_on"] =
        Object.keys(local).length > 0 ? taggedMapping("!override", local) : taggedMapping("!reset", {});
    }
    if (ports.length > 0) entry["ports"] = ports;
    const networks = plan.byService.get(name) ?? ["default"];
    if ((ports.length > 0 || remote.length > 0) && onlyInternalNetworks(d, networks)) {
      entry["networks"] = { [HOST_ACCESS_NETWORK]: { priority: HOST_ACCESS_PRIORITY } };
      hostAccess = true;
    }
    if (Object.keys(entry).length > 0) services[name] = entry;
  }
  const document: Record<string, unknown> = { services };
  if (hostAccess) document["networks"] = { [HOST_ACCESS_NETWORK]: hostAccessDefinition(d) };
  return { node, services: mine, document };
}

/** Nodes that run at least one of `names`, in the descriptor's order. */
export function nodesRunning(d: Descriptor, names: readonly string[]): string[] {
  return Object.keys(d.nodes ?? {}).filter((node) => names.some((name) => runsOn(d, name, node)));
}
