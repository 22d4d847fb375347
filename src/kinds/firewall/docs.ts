// The firewall section of DEPLOY.md: the rule table (from the same plan as the files),
// how to apply and roll back with the chosen backend, what Docker's DNAT does to host
// firewalls, and the SELinux port labels a non-standard port needs.
import type { Descriptor } from "../../model/descriptor.js";
import { platformOf } from "../../model/derive.js";
import { formatTable } from "../../render/markdown.js";
import type { RunbookSection } from "../types.js";
import { DEFAULT_SSH_PORT, describeSources, describeTarget, hostFileStem, servicesOnHost, type FirewallPlan, type HostPlan } from "./plan.js";

function fileOf(plan: FirewallPlan, host: HostPlan): string {
  return `firewall/${hostFileStem(host)}.${plan.backend === "nftables" ? "nft" : "sh"}`;
}

function ruleTable(plan: FirewallPlan): string {
  const withNodes = plan.hosts.some((host) => host.node !== undefined);
  const rows = plan.hosts.flatMap((host) =>
    host.rules.map((rule) => [
      ...(withNodes ? [host.node ?? ""] : []),
      rule.protocol === "esp" ? "esp (IP protocol 50)" : describeTarget(rule),
      describeSources(rule.sources),
      rule.reason,
    ]),
  );
  return formatTable([...(withNodes ? ["Node"] : []), "Port", "From", "For"], rows, withNodes ? { code: [0] } : {});
}

/** Ports of systemd services that SELinux must allow the program to bind. */
function selinuxPorts(d: Descriptor, plan: FirewallPlan): Array<{ port: number; protocol: string; service: string }> {
  const seen = new Set<string>();
  const ports: Array<{ port: number; protocol: string; service: string }> = [];
  for (const host of plan.hosts) {
    for (const [name, service] of servicesOnHost(d, host.node)) {
      if (platformOf(service) !== "systemd") continue;
      for (const rule of host.rules.filter((r) => r.origin === "service" && r.service === name)) {
        const key = `${rule.port}/${rule.protocol}`;
        if (rule.port === undefined || seen.has(key)) continue;
        seen.add(key);
        ports.push({ port: rule.port, protocol: rule.protocol, service: name });
      }
    }
  }
  return ports;
}

export function firewallSection(d: Descriptor, plan: FirewallPlan): RunbookSection {
  const first = plan.hosts[0];
  const selinux = d.targets?.systemd?.selinux === true;
  const servicePorts = selinux ? selinuxPorts(d, plan) : [];
  return {
    id: "firewall",
    title: "Firewall",
    order: 60,
    template: "firewall/section",
    context: {
      table: ruleTable(plan),
      backendName: plan.backend,
      firewalld: plan.backend === "firewalld",
      ufw: plan.backend === "ufw",
      nftables: plan.backend === "nftables",
      zone: plan.zone,
      project: plan.project,
      nodes: plan.hosts.some((host) => host.node !== undefined),
      hosts: plan.hosts.map((host) => ({
        node: host.node ?? "",
        address: host.address ?? "",
        file: fileOf(plan, host),
      })),
      firstFile: first === undefined ? "" : fileOf(plan, first),
      firstStem: first === undefined ? "" : hostFileStem(first),
      adminOnly: (d.targets?.firewall?.adminCidr ?? []).length > 0,
      swarm: d.targets?.swarm !== undefined,
      containers: plan.hosts.some((host) => host.containers),
      compose: d.targets?.compose !== undefined,
      selinux: selinux && (plan.sshPort !== DEFAULT_SSH_PORT || servicePorts.length > 0),
      sshLabel: plan.sshPort !== DEFAULT_SSH_PORT,
      sshPort: plan.sshPort,
      servicePorts,
      hasServicePorts: servicePorts.length > 0,
    },
  };
}
