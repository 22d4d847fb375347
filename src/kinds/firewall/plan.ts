// The firewall rule set, computed once: for each host (every node, or the one host when
// the descriptor has no nodes), what may come in, from where, and why. The three backends
// render this same plan and the kind's checks read it, so they cannot disagree.
import type { Descriptor, FirewallTarget, Port, Service } from "../../model/descriptor.js";
import { exposureOf, listServices, nodesOfService, platformOf } from "../../model/derive.js";
import { networkContains } from "./net.js";

export type Backend = FirewallTarget["backend"];
export type RuleProtocol = "tcp" | "udp" | "esp";

/** "any", or the networks and addresses allowed in (never empty). */
export type Sources = "any" | string[];

export type RuleOrigin = "ssh" | "service" | "swarm";

export interface FirewallRule {
  protocol: RuleProtocol;
  /** Absent for ESP, which has no ports. */
  port?: number;
  sources: Sources;
  /** One line saying what the rule is for. */
  reason: string;
  origin: RuleOrigin;
  /** For service rules: the service and the index of its port entry. */
  service?: string;
  portIndex?: number;
  /** Docker publishes the port with DNAT, so it must also be allowed on the forward path. */
  docker: boolean;
}

export interface HostPlan {
  /** Node name, or undefined for the single host of a descriptor without nodes. */
  node?: string;
  /** The node's cluster address. */
  address?: string;
  description?: string;
  /** Names of the services that run here, in the descriptor's order. */
  services: string[];
  /** Some service here runs in a container, so Docker's DNAT path needs rules too. */
  containers: boolean;
  /** SSH first, then the services' ports, then swarm traffic. */
  rules: FirewallRule[];
}

export interface FirewallPlan {
  project: string;
  backend: Backend;
  /** firewalld zone. */
  zone: string;
  sshPort: number;
  hosts: HostPlan[];
}

export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_ZONE = "public";
export const DEFAULT_DATA_PATH_PORT = 4789;
export const SWARM_MANAGEMENT_PORT = 2377;
export const SWARM_GOSSIP_PORT = 7946;

/** The host port a published port takes: the program's own port for systemd services. */
export function hostPortOf(service: Service, port: Port): number {
  return platformOf(service) === "systemd" ? port.port : (port.published ?? port.port);
}

/** Only public and cluster ports are opened; local and internal ones stay closed. */
export function isOpened(port: Port): boolean {
  const exposure = exposureOf(port);
  return exposure === "public" || exposure === "cluster";
}

/** The services that run on a host: with nodes, the ones placed there; without, all. */
export function servicesOnHost(d: Descriptor, node: string | undefined): ReadonlyArray<readonly [string, Service]> {
  if (node === undefined) return listServices(d);
  return listServices(d).filter(([, service]) => nodesOfService(d, service).includes(node));
}

/** Cluster networks, then the other nodes' addresses that none of them already covers. */
function clusterSources(d: Descriptor, self: string | undefined): string[] {
  const cidrs = d.cluster?.cidr ?? [];
  const others = Object.entries(d.nodes ?? {})
    .filter(([name]) => name !== self)
    .map(([, node]) => node.address)
    .filter((address) => !cidrs.some((cidr) => networkContains(cidr, address)));
  return [...cidrs, ...others];
}

function otherNodeAddresses(d: Descriptor, self: string): string[] {
  return Object.entries(d.nodes ?? {})
    .filter(([name]) => name !== self)
    .map(([, node]) => node.address);
}

function describePortEntry(name: string, port: Port): string {
  return port.description === undefined ? name : `${name}: ${port.description}`;
}

function serviceRules(
  d: Descriptor,
  node: string | undefined,
  services: ReadonlyArray<readonly [string, Service]>,
): FirewallRule[] {
  const rules: FirewallRule[] = [];
  for (const [name, service] of services) {
    (service.ports ?? []).forEach((port, index) => {
      if (!isOpened(port)) return;
      const sources: Sources = exposureOf(port) === "public" ? "any" : clusterSources(d, node);
      if (sources !== "any" && sources.length === 0) return; // validation refuses this; open nothing
      rules.push({
        protocol: port.protocol ?? "tcp",
        port: hostPortOf(service, port),
        sources,
        reason: describePortEntry(name, port),
        origin: "service",
        service: name,
        portIndex: index,
        docker: platformOf(service) === "container",
      });
    });
  }
  return rules;
}

/** In a swarm every declared network is an overlay; one encrypted overlay means IPsec between the nodes. */
function overlayEncrypted(d: Descriptor): boolean {
  return Object.values(d.networks ?? {}).some((network) => network.encrypted === true);
}

/** Swarm's own traffic, only from the other nodes: management (to managers), gossip, VXLAN, IPsec. */
function swarmRules(d: Descriptor, node: string): FirewallRule[] {
  const swarm = d.targets?.swarm;
  if (!swarm) return [];
  const sources = otherNodeAddresses(d, node);
  if (sources.length === 0) return [];
  const rule = (protocol: RuleProtocol, port: number | undefined, reason: string): FirewallRule => ({
    protocol,
    ...(port === undefined ? {} : { port }),
    sources,
    reason,
    origin: "swarm",
    docker: false,
  });
  const rules: FirewallRule[] = [];
  if (d.nodes?.[node]?.manager === true) rules.push(rule("tcp", SWARM_MANAGEMENT_PORT, "swarm cluster management (this node is a manager)"));
  rules.push(rule("tcp", SWARM_GOSSIP_PORT, "swarm node communication"));
  rules.push(rule("udp", SWARM_GOSSIP_PORT, "swarm node communication"));
  rules.push(rule("udp", swarm.dataPathPort ?? DEFAULT_DATA_PATH_PORT, "swarm overlay network data path (VXLAN)"));
  if (overlayEncrypted(d)) rules.push(rule("esp", undefined, "swarm encrypted overlay network (IPsec ESP)"));
  return rules;
}

function sshRule(d: Descriptor, target: FirewallTarget): FirewallRule {
  const admin = target.adminCidr ?? [];
  return {
    protocol: "tcp",
    port: target.sshPort ?? DEFAULT_SSH_PORT,
    sources: admin.length > 0 ? [...admin] : "any",
    reason: admin.length > 0 ? "SSH, from the admin networks" : "SSH",
    origin: "ssh",
    docker: false,
  };
}

function planHost(d: Descriptor, target: FirewallTarget, node: string | undefined): HostPlan {
  const services = servicesOnHost(d, node);
  const nodeInfo = node === undefined ? undefined : d.nodes?.[node];
  return {
    ...(node === undefined ? {} : { node }),
    ...(nodeInfo === undefined ? {} : { address: nodeInfo.address }),
    ...(nodeInfo?.description === undefined ? {} : { description: nodeInfo.description }),
    services: services.map(([name]) => name),
    containers: services.some(([, s]) => platformOf(s) === "container"),
    rules: [sshRule(d, target), ...serviceRules(d, node, services), ...(node === undefined ? [] : swarmRules(d, node))],
  };
}

/** The whole rule set; undefined when the descriptor asks for no firewall. */
export function planFirewall(d: Descriptor): FirewallPlan | undefined {
  const target = d.targets?.firewall;
  if (!target) return undefined;
  const nodes = Object.keys(d.nodes ?? {});
  return {
    project: d.name,
    backend: target.backend,
    zone: target.zone ?? DEFAULT_ZONE,
    sshPort: target.sshPort ?? DEFAULT_SSH_PORT,
    hosts: nodes.length === 0 ? [planHost(d, target, undefined)] : nodes.map((node) => planHost(d, target, node)),
  };
}

/** `104/tcp`, or `esp`. */
export function describeTarget(rule: Pick<FirewallRule, "protocol" | "port">): string {
  return rule.port === undefined ? rule.protocol : `${rule.port}/${rule.protocol}`;
}

export function describeSources(sources: Sources): string {
  return sources === "any" ? "anywhere" : sources.join(", ");
}

/** File name stem of a host's script or ruleset. */
export function hostFileStem(host: HostPlan): string {
  return host.node ?? "host";
}
