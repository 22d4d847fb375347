// Host firewall: for every node (or the one host), default-deny inbound, SSH first,
// each published port opened as its exposure says, swarm traffic between the nodes only.
// One FirewallPlan (plan.ts) is rendered per backend: a firewalld or ufw script, or an
// nftables ruleset; the checks below read the same plan.
import type { Descriptor } from "../../model/descriptor.js";
import type { ArtifactKind, PlannedFile, RunbookSection } from "../types.js";
import { checkFirewall } from "./check.js";
import { firewallSection } from "./docs.js";
import { hostFileStem, planFirewall, type FirewallPlan, type HostPlan } from "./plan.js";
import { firewalldContext, nftablesContext, ufwContext } from "./render.js";

const IDENTIFIER = /^[a-z][a-z0-9-]{0,62}$/;
const ZONE = /^[A-Za-z0-9_-]{1,17}$/;

/** Names become file names, table names and shell words: refuse anything validation should have. */
function assertSafeNames(plan: FirewallPlan): void {
  const names = [plan.project, ...plan.hosts.flatMap((h) => [...(h.node === undefined ? [] : [h.node]), ...h.services])];
  for (const name of names) {
    if (!IDENTIFIER.test(name)) throw new Error(`not an identifier: ${JSON.stringify(name)}`);
  }
  if (!ZONE.test(plan.zone)) throw new Error(`not a firewalld zone name: ${JSON.stringify(plan.zone)}`);
}

function describeHost(host: HostPlan): string {
  return host.node === undefined ? "this host" : `node ${host.node}`;
}

function planHostFile(plan: FirewallPlan, host: HostPlan): PlannedFile {
  const stem = hostFileStem(host);
  const where = describeHost(host);
  switch (plan.backend) {
    case "nftables":
      return {
        path: `firewall/${stem}.nft`,
        kind: "nftables",
        purpose: `nftables ruleset of ${where}: default-deny inbound, SSH and published ports`,
        template: "firewall/nftables",
        context: nftablesContext(plan, host),
      };
    case "ufw":
      return {
        path: `firewall/${stem}.sh`,
        kind: "shell",
        executable: true,
        purpose: `ufw rules of ${where}: default-deny inbound, SSH and published ports (--dry-run, --rollback)`,
        template: "firewall/ufw",
        context: ufwContext(plan, host),
      };
    case "firewalld":
      return {
        path: `firewall/${stem}.sh`,
        kind: "shell",
        executable: true,
        purpose: `firewalld rules of ${where}: default-deny inbound, SSH and published ports (--dry-run, --rollback)`,
        template: "firewall/firewalld",
        context: firewalldContext(plan, host),
      };
  }
}

function planFirewallFiles(d: Descriptor): PlannedFile[] {
  const plan = planFirewall(d);
  if (!plan) return [];
  assertSafeNames(plan);
  return plan.hosts.map((host) => planHostFile(plan, host));
}

function firewallRunbook(d: Descriptor): RunbookSection[] {
  const plan = planFirewall(d);
  return plan ? [firewallSection(d, plan)] : [];
}

export const firewallKind: ArtifactKind = {
  name: "firewall",
  enabled: (d) => d.targets?.firewall !== undefined,
  check: checkFirewall,
  plan: planFirewallFiles,
  runbook: firewallRunbook,
};
