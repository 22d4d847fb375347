// Rules across fields that a JSON Schema cannot say: names that must refer to
// something declared elsewhere, values that must agree between services, and
// combinations the targets cannot run. Each rule reads a descriptor that has
// already passed the schema and returns problems as data.
import type { RuleProblem } from "../kinds/types.js";
import type { Descriptor, EnvValue, Port, Service } from "../model/descriptor.js";
import {
  HOST_USER_KEYS,
  environmentNames,
  exposureOf,
  imageHealthcheckOf,
  isScalar,
  listServices,
  nodesOfService,
  platformOf,
  scalarText,
  secretVariableKey,
} from "../model/derive.js";
import { joinPointer, pointerToPath, quote } from "../problems.js";
import { suggestName } from "./suggest.js";

export type Rule = (d: Descriptor) => RuleProblem[];

type Segment = string | number;

function problem(segments: readonly Segment[], message: string, hint?: string): RuleProblem {
  return { pointer: joinPointer(segments), message, ...(hint === undefined ? {} : { hint }) };
}

/** Where a service runs: a systemd unit, a swarm stack service, or a compose service. */
export function runtimeOf(d: Descriptor, service: Service): "systemd" | "swarm" | "compose" {
  if (platformOf(service) === "systemd") return "systemd";
  if (d.targets?.swarm && service.swarm !== false) return "swarm";
  return "compose";
}

function dependencyName(dep: string | { service: string }): string {
  return typeof dep === "string" ? dep : dep.service;
}

function dependencySegments(name: string, index: number, dep: string | { service: string }): Segment[] {
  return typeof dep === "string" ? ["services", name, "dependsOn", index] : ["services", name, "dependsOn", index, "service"];
}

export const findUnknownDependencies: Rule = (d) => {
  const names = Object.keys(d.services);
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    const seen = new Set<string>();
    (service.dependsOn ?? []).forEach((dep, index) => {
      const target = dependencyName(dep);
      const at = dependencySegments(name, index, dep);
      if (target === name) found.push(problem(at, "a service cannot depend on itself"));
      else if (!(target in d.services)) {
        found.push(problem(at, `depends on ${quote(target)}, which is not a service`, suggestName(target, names, "service")));
      } else if (seen.has(target)) found.push(problem(at, `lists ${quote(target)} twice`));
      seen.add(target);
    });
  }
  return found;
};

export const findDependencyCycles: Rule = (d) => {
  const found: RuleProblem[] = [];
  const reported = new Set<string>();
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];

  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    const deps = d.services[name]?.dependsOn ?? [];
    deps.forEach((dep, index) => {
      const target = dependencyName(dep);
      if (target === name || !(target in d.services)) return;
      if (state.get(target) === "visiting") {
        const cycle = stack.slice(stack.indexOf(target));
        const key = [...cycle].sort().join(" ");
        if (!reported.has(key)) {
          reported.add(key);
          found.push(
            problem(
              dependencySegments(name, index, dep),
              `dependency cycle: ${[...cycle, target].join(" → ")}`,
              "remove one of these dependsOn entries",
            ),
          );
        }
      } else if (!state.has(target)) visit(target);
    });
    stack.pop();
    state.set(name, "done");
  };
  for (const name of Object.keys(d.services)) if (!state.has(name)) visit(name);
  return found;
};

export const findUndeclaredSecrets: Rule = (d) => {
  const declared = Object.keys(d.secrets ?? {});
  const found: RuleProblem[] = [];
  const check = (secret: string, at: Segment[]): void => {
    if (!(secret in (d.secrets ?? {}))) {
      found.push(problem(at, `secret ${quote(secret)} is not declared under secrets`, suggestName(secret, declared, "secret")));
    }
  };
  for (const [name, service] of listServices(d)) {
    (service.secrets ?? []).forEach((ref, index) => {
      if (typeof ref === "string") check(ref, ["services", name, "secrets", index]);
      else check(ref.source, ["services", name, "secrets", index, "source"]);
    });
    (service.build?.secrets ?? []).forEach((secret, index) => check(secret, ["services", name, "build", "secrets", index]));
  }
  return found;
};

export const findBadMounts: Rule = (d) => {
  const declared = Object.keys(d.volumes ?? {});
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    const targets = new Map<string, number>();
    (service.mounts ?? []).forEach((mount, index) => {
      const at: Segment[] = ["services", name, "mounts", index];
      if (mount.volume !== undefined && mount.hostPath !== undefined) {
        found.push(problem(at, "a mount takes either volume or hostPath, not both"));
      } else if (mount.volume === undefined && mount.hostPath === undefined) {
        found.push(problem(at, "a mount needs volume or hostPath"));
      }
      if (mount.volume !== undefined && !(mount.volume in (d.volumes ?? {}))) {
        found.push(problem([...at, "volume"], `volume ${quote(mount.volume)} is not declared under volumes`, suggestName(mount.volume, declared, "volume")));
      }
      if (mount.volume !== undefined && platformOf(service) === "systemd") {
        found.push(problem([...at, "volume"], "a systemd service cannot mount a container volume", "use hostPath"));
      }
      const first = targets.get(mount.target);
      if (first !== undefined) {
        found.push(problem([...at, "target"], `${quote(mount.target)} is already mounted by services.${name}.mounts[${first}]`));
      } else targets.set(mount.target, index);
    });
  }
  return found;
};

export const findUnknownNetworks: Rule = (d) => {
  const declared = Object.keys(d.networks ?? {});
  const found: RuleProblem[] = [];
  const check = (network: string, at: Segment[]): void => {
    if (!(network in (d.networks ?? {}))) {
      found.push(problem(at, `network ${quote(network)} is not declared under networks`, suggestName(network, declared, "network")));
    }
  };
  for (const [name, service] of listServices(d)) {
    (service.networks ?? []).forEach((network, index) => check(network, ["services", name, "networks", index]));
  }
  if (d.targets?.swarm) check(d.targets.swarm.network, ["targets", "swarm", "network"]);
  return found;
};

export const findBadImageSources: Rule = (d) => {
  const names = Object.keys(d.services);
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    const sources = (["image", "build", "imageOf"] as const).filter((key) => service[key] !== undefined);
    if (sources.length === 0) {
      found.push(problem(["services", name], "needs one of image, build or imageOf"));
    } else if (sources.length > 1) {
      found.push(problem(["services", name, sources[1] ?? "image"], `give only one of image, build or imageOf (found ${sources.join(" and ")})`));
    }
    if (platformOf(service) === "systemd") {
      for (const key of ["image", "imageOf"] as const) {
        if (service[key] !== undefined) {
          found.push(problem(["services", name, key], `a systemd service runs its own build from the install directory; it cannot use ${key}`, "use build, or drop platform: systemd"));
        }
      }
    }
    const source = service.imageOf;
    if (source === undefined) continue;
    const at: Segment[] = ["services", name, "imageOf"];
    const target = d.services[source];
    if (source === name) found.push(problem(at, "a service cannot take its image from itself"));
    else if (!target) found.push(problem(at, `${quote(source)} is not a service`, suggestName(source, names, "service")));
    else if (!target.build) found.push(problem(at, `services.${source} has no build, so there is no image to share`, "point imageOf at a service with build"));
    else if (platformOf(target) === "systemd") found.push(problem(at, `services.${source} runs under systemd and builds no image`));
  }
  return found;
};

function hostOfEntries(service: Service): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(service.environment ?? {})) {
    if (typeof value === "object" && "hostOf" in value) entries.push([key, value.hostOf]);
  }
  return entries;
}

export const findBadHostReferences: Rule = (d) => {
  const names = Object.keys(d.services);
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    for (const [key, target] of hostOfEntries(service)) {
      const at: Segment[] = ["services", name, "environment", key, "hostOf"];
      const other = d.services[target];
      if (!other) found.push(problem(at, `${quote(target)} is not a service`, suggestName(target, names, "service")));
      else if ((other.ports ?? []).length === 0) {
        found.push(problem(at, `services.${target} has no ports, so there is nothing to connect to`, `declare the port it listens on under services.${target}.ports`));
      }
    }
  }
  return found;
};

export const findUnknownRoles: Rule = (d) => {
  const nodes = Object.values(d.nodes ?? {});
  if (nodes.length === 0) return [];
  const carried = [...new Set(nodes.flatMap((n) => n.roles ?? []))];
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    (service.roles ?? []).forEach((role, index) => {
      if (!carried.includes(role)) {
        found.push(problem(["services", name, "roles", index], `no node carries the role ${quote(role)}`, suggestName(role, carried, "role")));
      }
    });
  }
  return found;
};

export const findUnknownNodes: Rule = (d) => {
  const declared = Object.keys(d.nodes ?? {});
  const found: RuleProblem[] = [];
  const check = (node: string, at: Segment[]): void => {
    if (!(node in (d.nodes ?? {}))) found.push(problem(at, `node ${quote(node)} is not declared under nodes`, suggestName(node, declared, "node")));
  };
  for (const [name, service] of listServices(d)) {
    (service.placement?.nodes ?? []).forEach((node, index) => check(node, ["services", name, "placement", "nodes", index]));
  }
  const deploy = d.targets?.github?.deploy;
  if (deploy) check(deploy.node, ["targets", "github", "deploy", "node"]);
  return found;
};

export const findDuplicateNodeAddresses: Rule = (d) => {
  const found: RuleProblem[] = [];
  const addresses = new Map<string, string>();
  const hostnames = new Map<string, string>();
  for (const [name, node] of Object.entries(d.nodes ?? {})) {
    const byAddress = addresses.get(node.address);
    if (byAddress !== undefined) found.push(problem(["nodes", name, "address"], `${quote(node.address)} is already the address of nodes.${byAddress}`));
    else addresses.set(node.address, name);
    if (node.hostname === undefined) continue;
    const byHostname = hostnames.get(node.hostname);
    if (byHostname !== undefined) found.push(problem(["nodes", name, "hostname"], `${quote(node.hostname)} is already the hostname of nodes.${byHostname}`));
    else hostnames.set(node.hostname, name);
  }
  return found;
};

const WILDCARD_ADDRESSES = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The host address a published port binds to. A cluster port binds to the
 * node's LAN side, which may be every address, so it is treated as a wildcard:
 * two services cannot safely share it on one host.
 */
function bindAddress(port: Port): string {
  if (port.address !== undefined) return port.address;
  const exposure = exposureOf(port);
  return exposure === "local" ? "127.0.0.1" : "0.0.0.0";
}

function addressesOverlap(a: string, b: string): boolean {
  return a === b || WILDCARD_ADDRESSES.has(a) || WILDCARD_ADDRESSES.has(b);
}

/** The nodes a service may run on, or "all" when it may run anywhere (or there is one host). */
function hostsOf(d: Descriptor, service: Service): Set<string> | "all" {
  if (Object.keys(d.nodes ?? {}).length === 0) return "all";
  // Swarm's routing mesh publishes a port on every node of the swarm.
  if (runtimeOf(d, service) === "swarm") return "all";
  return new Set(nodesOfService(d, service));
}

function hostsOverlap(a: Set<string> | "all", b: Set<string> | "all"): boolean {
  if (a === "all" || b === "all") return true;
  return [...a].some((n) => b.has(n));
}

export const findPortConflicts: Rule = (d) => {
  const found: RuleProblem[] = [];
  interface Publication {
    path: string;
    published: number;
    protocol: string;
    address: string;
    hosts: Set<string> | "all";
  }
  const publications: Publication[] = [];
  for (const [name, service] of listServices(d)) {
    const containerPorts = new Map<string, number>();
    const hosts = hostsOf(d, service);
    (service.ports ?? []).forEach((port, index) => {
      const at: Segment[] = ["services", name, "ports", index];
      const protocol = port.protocol ?? "tcp";
      const own = `${port.port}/${protocol}`;
      const first = containerPorts.get(own);
      if (first !== undefined) found.push(problem([...at, "port"], `${own} is already declared in services.${name}.ports[${first}]`));
      else containerPorts.set(own, index);

      if (exposureOf(port) === "internal") {
        for (const key of ["published", "address"] as const) {
          if (port[key] !== undefined) {
            found.push(problem([...at, key], `an internal port is not published, so ${key} has no effect`, "drop it, or choose exposure local, cluster or public"));
          }
        }
        return;
      }
      const published = port.published ?? port.port;
      const address = bindAddress(port);
      const clash = publications.find(
        (p) => p.published === published && p.protocol === protocol && addressesOverlap(p.address, address) && hostsOverlap(p.hosts, hosts),
      );
      if (clash) {
        found.push(problem(at, `publishes ${published}/${protocol} on ${address}, which ${clash.path} already publishes on the same host`, "publish one of them on another port"));
      }
      publications.push({ path: pointerToPath(joinPointer(at)), published, protocol, address, hosts });
    });
    const replicas = service.replicas ?? 1;
    const publishes = (service.ports ?? []).some((p) => exposureOf(p) !== "internal");
    if (replicas > 1 && publishes && runtimeOf(d, service) === "compose") {
      found.push(problem(["services", name, "replicas"], `${replicas} compose replicas on one host cannot all publish the same port`, "use exposure: internal behind a proxy, or run the service in swarm"));
    }
  }
  return found;
};

export const findUnreadEnvironmentValues: Rule = (d) => {
  const plain = new Set<string>();
  const computed = new Map<string, string>();
  for (const [name, service] of listServices(d)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (isScalar(value)) plain.add(key);
      else computed.set(key, name);
    }
  }
  const found: RuleProblem[] = [];
  for (const [env, environment] of Object.entries(d.environments ?? {})) {
    for (const key of Object.keys(environment.values ?? {})) {
      const at: Segment[] = ["environments", env, "values", key];
      if (plain.has(key)) continue;
      const owner = computed.get(key);
      if (owner !== undefined) {
        found.push(problem(at, `services.${owner}.environment.${key} is computed (hostOf or fromHost), so an environment cannot set it`));
      } else {
        found.push(problem(at, `no service reads ${key}`, suggestName(key, [...plain].sort(), "variable")));
      }
    }
  }
  return found;
};

function valueText(value: EnvValue): string {
  return isScalar(value) ? quote(scalarText(value)) : JSON.stringify(value);
}

/**
 * Services share one env file per environment, so a variable has one value
 * whichever service reads it, and must not collide with a variable the
 * generator itself sets (secret file paths, the host user's ids).
 */
export const findConflictingVariables: Rule = (d) => {
  const found: RuleProblem[] = [];
  const generated = new Map<string, string>();
  for (const [name, service] of listServices(d)) {
    for (const ref of service.secrets ?? []) {
      const secret = typeof ref === "string" ? ref : ref.source;
      const key = secretVariableKey(secret, d.secrets?.[secret], service);
      if (!generated.has(key)) generated.set(key, `secret ${quote(secret)} (read by services.${name})`);
    }
    if (service.user === "host") {
      for (const key of [HOST_USER_KEYS.uid, HOST_USER_KEYS.gid]) generated.set(key, "user: host");
    }
  }
  const firstValue = new Map<string, { service: string; value: EnvValue }>();
  for (const [name, service] of listServices(d)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      const at: Segment[] = ["services", name, "environment", key];
      const setter = generated.get(key);
      if (setter !== undefined) {
        found.push(problem(at, `${key} is already set by ${setter}`, "rename the variable"));
        continue;
      }
      const first = firstValue.get(key);
      if (!first) {
        firstValue.set(key, { service: name, value });
      } else if (valueText(first.value) !== valueText(value)) {
        found.push(
          problem(
            at,
            `${valueText(value)} differs from services.${first.service}.environment.${key} (${valueText(first.value)}); services share one env file per environment, so a variable has one value`,
            "use the same value, or give one of them another name",
          ),
        );
      }
    }
  }
  return found;
};

export const findSwarmProblems: Rule = (d) => {
  const swarm = d.targets?.swarm;
  if (!swarm) return [];
  const found: RuleProblem[] = [];
  const swarmServices = listServices(d).filter(([, s]) => runtimeOf(d, s) === "swarm");
  for (const [name, service] of swarmServices) {
    if (service.gpu !== undefined) {
      found.push(problem(["services", name, "gpu"], "swarm does not support GPU device reservations; run this service on a compose node or drop gpu", "set swarm: false on this service"));
    }
  }
  const nodes = Object.entries(d.nodes ?? {});
  if (nodes.length > 0 && !nodes.some(([, n]) => n.manager === true)) {
    found.push(problem(["nodes"], "a swarm needs a manager node", "set manager: true on one node"));
  }
  if (!d.registry && swarmServices.some(([, s]) => s.build !== undefined || s.imageOf !== undefined)) {
    found.push(problem(["targets", "swarm"], "swarm nodes pull the images they run, so built images need a registry", "add registry (host and namespace)"));
  }
  return found;
};

export const findSystemdProblems: Rule = (d) => {
  const found: RuleProblem[] = [];
  const systemd = d.targets?.systemd;
  const units = listServices(d).filter(([, s]) => platformOf(s) === "systemd");
  if (!systemd) {
    for (const [name] of units) {
      found.push(problem(["services", name, "platform"], "runs under systemd, but targets.systemd is missing", "add targets.systemd with user and installDir"));
    }
    return found;
  }
  if (units.length === 0) {
    found.push(problem(["targets", "systemd"], "no service has platform: systemd, so there is nothing to install", "set platform: systemd on a service, or remove targets.systemd"));
  }
  if (systemd.environment !== undefined) {
    const names = environmentNames(d);
    if (!names.includes(systemd.environment)) {
      found.push(problem(["targets", "systemd", "environment"], `environment ${quote(systemd.environment)} is not declared under environments`, suggestName(systemd.environment, names, "environment")));
    }
  }
  return found;
};

/** Declared, or baked into the image the service builds (a probe of its first TCP port). */
function hasHealthcheck(service: Service): boolean {
  return service.healthcheck !== undefined || (service.build !== undefined && imageHealthcheckOf(service) !== undefined);
}

export const findCrossRuntimeDependencies: Rule = (d) => {
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    const mine = runtimeOf(d, service);
    (service.dependsOn ?? []).forEach((dep, index) => {
      const target = d.services[dependencyName(dep)];
      if (!target) return;
      const theirs = runtimeOf(d, target);
      if (theirs !== mine) {
        found.push(problem(dependencySegments(name, index, dep), `services.${name} runs in ${mine} and ${dependencyName(dep)} in ${theirs}; a dependency must run in the same place`));
      } else if (typeof dep !== "string" && dep.condition === "healthy" && !hasHealthcheck(target)) {
        found.push(
          problem(["services", name, "dependsOn", index, "condition"], `services.${dependencyName(dep)} has no healthcheck, so it never becomes healthy`, `add a healthcheck to services.${dependencyName(dep)}, or use condition: started`),
        );
      }
    });
  }
  return found;
};

export const findHealthcheckPorts: Rule = (d) => {
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    const ports = (service.ports ?? []).map((p) => p.port);
    const check = service.healthcheck;
    const probes: Array<[Segment[], number]> = [];
    if (check?.http) probes.push([["services", name, "healthcheck", "http", "port"], check.http.port]);
    if (check?.tcp) probes.push([["services", name, "healthcheck", "tcp", "port"], check.tcp.port]);
    for (const [at, port] of probes) {
      if (!ports.includes(port)) {
        const listed = ports.length > 0 ? ` (${ports.join(", ")})` : "";
        found.push(problem(at, `port ${port} is not one of the service's ports${listed}`, `declare it under services.${name}.ports`));
      }
    }
  }
  return found;
};

export const findClusterWithoutNetwork: Rule = (d) => {
  if (!d.targets?.firewall || (d.cluster?.cidr ?? []).length > 0) return [];
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    (service.ports ?? []).forEach((port, index) => {
      if (port.exposure === "cluster") {
        found.push(problem(["services", name, "ports", index, "exposure"], "exposure: cluster needs cluster.cidr, the network the firewall lets in", "add cluster.cidr"));
      }
    });
  }
  return found;
};

export const findBadSecretDeclarations: Rule = (d) => {
  const found: RuleProblem[] = [];
  for (const [name, secret] of Object.entries(d.secrets ?? {})) {
    if (secret.external === true && secret.generate !== undefined && secret.generate !== false) {
      found.push(problem(["secrets", name, "generate"], "an external secret is created by hand, so it cannot be generated", "drop generate, or external"));
    }
  }
  return found;
};

/** Segments that would leave the output folder or write where tools look for code. */
function findUnsafePathReason(path: string): string | undefined {
  if (path === "") return "is empty";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.startsWith("~")) return "must be a relative path inside the output folder";
  if (path.includes("\\")) return "must use forward slashes";
  const segments = path.split("/");
  if (segments.includes("..")) return "must not contain .. (it would leave the output folder)";
  if (segments.some((s) => s === ".git" || s === ".create-deploy")) return "must not point into .git or .create-deploy";
  if (segments.slice(0, -1).some((s) => s === "")) return "must not contain empty segments (//)";
  return undefined;
}

export const findUnsafeOutputPaths: Rule = (d) => {
  const found: RuleProblem[] = [];
  const paths: Array<[Segment[], string | undefined]> = [
    [["targets", "env", "dir"], d.targets?.env?.dir],
    [["targets", "docs", "file"], d.targets?.docs?.file],
  ];
  for (const [at, path] of paths) {
    if (path === undefined) continue;
    const reason = findUnsafePathReason(path);
    if (reason !== undefined) found.push(problem(at, `${quote(path)} ${reason}`));
  }
  return found;
};

export const findOverlayProblems: Rule = (d) => {
  if (d.targets?.compose?.overlays !== "nodes" || Object.keys(d.nodes ?? {}).length > 0) return [];
  return [problem(["targets", "compose", "overlays"], "overlays: nodes writes one overlay per node, but no nodes are declared", "declare nodes, or use overlays: none")];
};

export const findGithubDeployProblems: Rule = (d) => {
  const file = d.targets?.github?.deploy?.environmentFile;
  if (file === undefined) return [];
  const names = environmentNames(d);
  if (names.includes(file)) return [];
  return [problem(["targets", "github", "deploy", "environmentFile"], `environment ${quote(file)} is not declared under environments`, suggestName(file, names, "environment"))];
};

export const crossFieldRules: readonly Rule[] = [
  findUnknownDependencies,
  findDependencyCycles,
  findUndeclaredSecrets,
  findBadMounts,
  findUnknownNetworks,
  findBadImageSources,
  findBadHostReferences,
  findUnknownRoles,
  findUnknownNodes,
  findDuplicateNodeAddresses,
  findPortConflicts,
  findUnreadEnvironmentValues,
  findConflictingVariables,
  findSwarmProblems,
  findSystemdProblems,
  findCrossRuntimeDependencies,
  findHealthcheckPorts,
  findClusterWithoutNetwork,
  findBadSecretDeclarations,
  findUnsafeOutputPaths,
  findOverlayProblems,
  findGithubDeployProblems,
];

export function checkCrossFieldRules(d: Descriptor): RuleProblem[] {
  return crossFieldRules.flatMap((rule) => rule(d));
}
