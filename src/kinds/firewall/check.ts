// Rules only the firewall cares about, read off the same plan the files are rendered
// from. Every published port gets its rule by construction, so the rules here catch
// what would make a rule wrong: a data store opened to the world by accident, a
// service port that is also SSH or swarm's own port, a node that runs nothing.
import type { Descriptor } from "../../model/descriptor.js";
import { exposureOf, isDataStore, listServices } from "../../model/derive.js";
import { joinPointer } from "../../problems.js";
import type { RuleProblem } from "../types.js";
import { describeTarget, planFirewall, type FirewallRule, type HostPlan } from "./plan.js";

function portPointer(d: Descriptor, rule: FirewallRule, field: "published" | "port" | "exposure"): string {
  const port = d.services[rule.service ?? ""]?.ports?.[rule.portIndex ?? -1];
  const at = field === "published" && port?.published === undefined ? "port" : field;
  return joinPointer(["services", rule.service ?? "", "ports", rule.portIndex ?? 0, at]);
}

/** A database or cache reachable from anywhere is refused unless the port says it is meant. */
function findPublicDataStores(d: Descriptor): RuleProblem[] {
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    if (!isDataStore(service)) continue;
    (service.ports ?? []).forEach((port, index) => {
      if (exposureOf(port) !== "public" || port.allowPublic === true) return;
      found.push({
        pointer: joinPointer(["services", name, "ports", index, "exposure"]),
        message: `opens the ${service.type ?? "data store"} port ${port.port} to the whole internet`,
        hint: "use exposure: cluster (the cluster networks only) or internal; if it really must be public, add allowPublic: true to this port",
      });
    });
  }
  return found;
}

/** A service port on the SSH port or on one of swarm's ports would merge two rules into one. */
function findReservedPortClashes(d: Descriptor, hosts: HostPlan[]): RuleProblem[] {
  const found: RuleProblem[] = [];
  const reported = new Set<string>();
  for (const host of hosts) {
    const reserved = host.rules.filter((rule) => rule.origin !== "service" && rule.port !== undefined);
    for (const rule of host.rules.filter((r) => r.origin === "service")) {
      const clash = reserved.find((r) => r.port === rule.port && r.protocol === rule.protocol);
      if (!clash) continue;
      const pointer = portPointer(d, rule, "published");
      if (reported.has(pointer)) continue;
      reported.add(pointer);
      const what = clash.origin === "ssh" ? "the SSH port" : `swarm's port for ${clash.reason}`;
      const where = host.node === undefined ? "" : ` on node ${host.node}`;
      found.push({
        pointer,
        message: `publishes ${describeTarget(rule)}${where}, which is ${what}`,
        hint: clash.origin === "ssh" ? "publish the service on another port, or move SSH with targets.firewall.sshPort" : "publish the service on another port",
      });
    }
  }
  return found;
}

/** Without swarm, a node no service runs on is most likely a role typo; its firewall would only allow SSH. */
function findIdleNodes(d: Descriptor, hosts: HostPlan[]): RuleProblem[] {
  if (d.targets?.swarm) return []; // a manager-only swarm node is a real design
  return hosts
    .filter((host) => host.node !== undefined && host.services.length === 0)
    .map((host) => ({
      pointer: joinPointer(["nodes", host.node ?? ""]),
      message: `no service runs on node ${host.node ?? ""}: no service has one of its roles or names it in placement.nodes`,
      hint: "give the node the role of a service that should run there, or remove the node",
    }));
}

export function checkFirewall(d: Descriptor): RuleProblem[] {
  const plan = planFirewall(d);
  if (!plan) return [];
  return [...findPublicDataStores(d), ...findReservedPortClashes(d, plan.hosts), ...findIdleNodes(d, plan.hosts)];
}
