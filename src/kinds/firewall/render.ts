// One FirewallPlan host, spelled for each backend. Every command is built here as an
// argument list (the templates quote each word with {{sh}}), so a template only lays
// out comments and sections. Sources are checked once more before they become words:
// they passed the schema, but these files run as root.
import { describeSources, describeTarget, hostFileStem, type FirewallPlan, type FirewallRule, type HostPlan } from "./plan.js";
import { familyOf, isSource, type Family } from "./net.js";

/** A command the script runs: the words after the program name, under a comment. */
export interface CommandGroup {
  comment: string;
  commands: string[][];
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Text for a `#` comment line: one line, nothing else is special after `#`. */
export function commentText(text: string): string {
  if (CONTROL.test(text)) throw new Error(`cannot write a control character into a comment: ${JSON.stringify(text)}`);
  return text;
}

function checkedSources(rule: FirewallRule): string[] | "any" {
  if (rule.sources === "any") return "any";
  for (const source of rule.sources) {
    if (!isSource(source)) throw new Error(`not an address or network: ${JSON.stringify(source)}`);
  }
  return rule.sources;
}

function bySourceFamily(sources: string[]): Array<{ family: Family; sources: string[] }> {
  const groups: Array<{ family: Family; sources: string[] }> = [];
  for (const family of ["ipv4", "ipv6"] as const) {
    const matching = sources.filter((s) => familyOf(s) === family);
    if (matching.length > 0) groups.push({ family, sources: matching });
  }
  return groups;
}

function ruleComment(rule: FirewallRule): string {
  return commentText(`${describeTarget(rule)} from ${describeSources(rule.sources)}, for ${rule.reason}`);
}

/** The tag ufw shows beside each rule (`ufw status`): identifiers and numbers only. */
function ufwTag(project: string, rule: FirewallRule): string {
  const what = rule.origin === "service" ? (rule.service ?? "service") : rule.origin;
  return `create-deploy ${project} ${what} ${describeTarget(rule)}`;
}

function hostLabel(plan: FirewallPlan, host: HostPlan): string {
  if (host.node === undefined) return commentText(`${plan.project} on this host`);
  return commentText(`${plan.project} on node ${host.node} (${host.address ?? ""})`);
}

/** What the node is for, as a comment line under the label, when the descriptor says. */
function hostAbout(host: HostPlan): { about: string; hasAbout: boolean } {
  return { about: commentText(host.description ?? ""), hasAbout: host.description !== undefined };
}

// ---------------------------------------------------------------- Docker's forward path

/** The rules whose ports Docker publishes by DNAT, which never pass the INPUT chain. */
function dockerRules(host: HostPlan): FirewallRule[] {
  return host.containers ? host.rules.filter((rule) => rule.docker) : [];
}

/**
 * iptables rules for the DOCKER-USER chain (ufw's after.rules, firewalld's direct rules):
 * established traffic passes, a new connection to a published port passes only from its
 * sources (matched on the port before DNAT, so on what the descriptor publishes), any
 * other DNAT'd connection is dropped. RETURN hands the packet back to Docker's own rules.
 */
function dockerUserRules(host: HostPlan, family: Family): Array<{ comment: string; args: string[] }> {
  const rules: Array<{ comment: string; args: string[] }> = [
    { comment: "replies to connections already let in", args: ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"] },
  ];
  for (const rule of dockerRules(host)) {
    const sources = checkedSources(rule);
    const match = ["-p", rule.protocol, "-m", "conntrack", "--ctstate", "DNAT", "--ctorigdstport", String(rule.port)];
    if (sources === "any") rules.push({ comment: ruleComment(rule), args: [...match, "-j", "RETURN"] });
    else {
      for (const source of sources.filter((s) => familyOf(s) === family)) {
        rules.push({ comment: ruleComment(rule), args: ["-s", source, ...match, "-j", "RETURN"] });
      }
    }
  }
  rules.push({ comment: "every other connection to a published container port", args: ["-m", "conntrack", "--ctstate", "DNAT", "-j", "DROP"] });
  return rules;
}

// ---------------------------------------------------------------- firewalld

function richRule(family: Family | undefined, source: string | undefined, rule: FirewallRule): string {
  const parts = ["rule"];
  if (family !== undefined) parts.push(`family="${family}"`);
  if (source !== undefined) parts.push(`source address="${source}"`);
  parts.push(rule.protocol === "esp" ? `protocol value="esp"` : `port port="${rule.port}" protocol="${rule.protocol}"`);
  parts.push("accept");
  return parts.join(" ");
}

/** `--add-…=` / `--remove-…=` options opening one rule in the zone. */
function firewalldOptions(rule: FirewallRule, verb: "add" | "remove"): string[] {
  const sources = checkedSources(rule);
  if (sources === "any") {
    return rule.protocol === "esp" ? [`--${verb}-rich-rule=${richRule(undefined, undefined, rule)}`] : [`--${verb}-port=${describeTarget(rule)}`];
  }
  return bySourceFamily(sources).flatMap(({ family, sources: list }) => list.map((s) => `--${verb}-rich-rule=${richRule(family, s, rule)}`));
}

function firewalldGroups(plan: FirewallPlan, host: HostPlan, verb: "add" | "remove"): CommandGroup[] {
  const zone = `--zone=${plan.zone}`;
  return host.rules
    .filter((rule) => rule.origin !== "ssh")
    .map((rule) => ({ comment: ruleComment(rule), commands: firewalldOptions(rule, verb).map((option) => ["--permanent", zone, option]) }));
}

function firewalldSsh(plan: FirewallPlan, host: HostPlan): CommandGroup[] {
  const ssh = host.rules.find((rule) => rule.origin === "ssh");
  if (!ssh) return [];
  const zone = `--zone=${plan.zone}`;
  const standardOpen = ssh.sources === "any" && ssh.port === 22;
  if (standardOpen) return [{ comment: ruleComment(ssh), commands: [["--permanent", zone, "--add-service=ssh"]] }];
  return [
    { comment: ruleComment(ssh), commands: firewalldOptions(ssh, "add").map((option) => ["--permanent", zone, option]) },
    {
      comment: "the zone's predefined ssh service opens 22/tcp to everyone: the rule above replaces it",
      commands: [["--permanent", zone, "--remove-service=ssh"]],
    },
  ];
}

function firewalldDirect(host: HostPlan, verb: "add" | "remove"): CommandGroup[] {
  if (!host.containers) return [];
  const groups: CommandGroup[] = [];
  for (const family of ["ipv4", "ipv6"] as const) {
    const rules = dockerUserRules(host, family);
    const last = rules.length - 1;
    const ruleCommands = rules.map((rule, index) => ({
      comment: commentText(rule.comment),
      commands: [["--permanent", "--direct", `--${verb}-rule`, family, "filter", "DOCKER-USER", String(index === 0 ? 0 : index === last ? 2 : 1), ...rule.args]],
    }));
    const chain: CommandGroup = {
      comment: `Docker's DOCKER-USER chain (${family === "ipv4" ? "IPv4" : "IPv6"})`,
      commands: [["--permanent", "--direct", `--${verb}-chain`, family, "filter", "DOCKER-USER"]],
    };
    // A chain is removed only once it is empty.
    groups.push(...(verb === "add" ? [chain, ...ruleCommands] : [...ruleCommands, chain]));
  }
  return groups;
}

export function firewalldContext(plan: FirewallPlan, host: HostPlan): Record<string, unknown> {
  return {
    label: hostLabel(plan, host),
    ...hostAbout(host),
    file: `firewall/${hostFileStem(host)}.sh`,
    zone: plan.zone,
    ssh: firewalldSsh(plan, host),
    apply: firewalldGroups(plan, host, "add"),
    rollback: firewalldGroups(plan, host, "remove"),
    containers: host.containers,
    dockerApply: firewalldDirect(host, "add"),
    dockerRollback: firewalldDirect(host, "remove"),
  };
}

// ---------------------------------------------------------------- ufw

function ufwArgs(plan: FirewallPlan, rule: FirewallRule, verb: "allow" | "delete"): string[][] {
  const sources = checkedSources(rule);
  const head = verb === "allow" ? ["allow"] : ["delete", "allow"];
  const to = rule.protocol === "esp" ? ["to", "any", "proto", "esp"] : ["to", "any", "port", String(rule.port), "proto", rule.protocol];
  // ufw finds the rule to delete by its spec; the comment only labels it.
  const comment = verb === "allow" ? ["comment", ufwTag(plan.project, rule)] : [];
  return (sources === "any" ? ["any"] : sources).map((source) => [...head, "from", source, ...to, ...comment]);
}

function ufwGroups(plan: FirewallPlan, rules: FirewallRule[], verb: "allow" | "delete"): CommandGroup[] {
  return rules.map((rule) => ({ comment: ruleComment(rule), commands: ufwArgs(plan, rule, verb) }));
}

/** The block appended to after.rules / after6.rules: iptables-restore syntax. */
function ufwDockerBlock(host: HostPlan, family: Family): string[] {
  const lines = ["*filter", ":DOCKER-USER - [0:0]"];
  for (const rule of dockerUserRules(host, family)) {
    lines.push(`# ${commentText(rule.comment)}`, `-A DOCKER-USER ${rule.args.join(" ")}`);
  }
  lines.push("-A DOCKER-USER -j RETURN", "COMMIT");
  return lines;
}

export function ufwContext(plan: FirewallPlan, host: HostPlan): Record<string, unknown> {
  const ssh = host.rules.filter((rule) => rule.origin === "ssh");
  const others = host.rules.filter((rule) => rule.origin !== "ssh");
  return {
    label: hostLabel(plan, host),
    ...hostAbout(host),
    file: `firewall/${hostFileStem(host)}.sh`,
    project: plan.project,
    ssh: ufwGroups(plan, ssh, "allow"),
    apply: ufwGroups(plan, others, "allow"),
    rollback: ufwGroups(plan, others, "delete"),
    containers: host.containers,
    dockerIpv4: host.containers ? ufwDockerBlock(host, "ipv4") : [],
    dockerIpv6: host.containers ? ufwDockerBlock(host, "ipv6") : [],
  };
}

// ---------------------------------------------------------------- nftables

interface NftLine {
  comment: string;
  rules: string[];
}

function nftSourceMatches(rule: FirewallRule): string[] {
  const sources = checkedSources(rule);
  if (sources === "any") return [""];
  return bySourceFamily(sources).map(({ family, sources: list }) => `${family === "ipv4" ? "ip" : "ip6"} saddr { ${list.join(", ")} } `);
}

function nftInput(rule: FirewallRule): NftLine {
  const what = rule.protocol === "esp" ? "meta l4proto esp" : `${rule.protocol} dport ${rule.port}`;
  return { comment: ruleComment(rule), rules: nftSourceMatches(rule).map((match) => `${match}${what} accept`) };
}

function nftForward(rule: FirewallRule): NftLine {
  const what = `ct status dnat meta l4proto ${rule.protocol} ct original proto-dst ${rule.port}`;
  return { comment: ruleComment(rule), rules: nftSourceMatches(rule).map((match) => `${what} ${match}accept`) };
}

export function nftablesContext(plan: FirewallPlan, host: HostPlan): Record<string, unknown> {
  return {
    label: hostLabel(plan, host),
    ...hostAbout(host),
    file: `firewall/${hostFileStem(host)}.nft`,
    table: plan.project,
    input: host.rules.map(nftInput),
    containers: host.containers,
    forward: dockerRules(host).map(nftForward),
  };
}
