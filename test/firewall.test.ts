// The firewall kind: one rule set per host, rendered for firewalld, ufw and nftables.
// Scripts are proved with bash -n and shellcheck, rulesets with nft -c, and the ufw and
// firewalld scripts are run against recording stand-ins of ufw and firewall-cmd (never
// against this machine's firewall) so the exact command lines can be asserted.
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { docsKind } from "../src/kinds/docs/index.js";
import { checkFirewall } from "../src/kinds/firewall/check.js";
import { firewallKind } from "../src/kinds/firewall/index.js";
import { familyOf, isAddress, isSource, networkContains } from "../src/kinds/firewall/net.js";
import { planFirewall, type FirewallPlan, type FirewallRule } from "../src/kinds/firewall/plan.js";
import { parseDescriptor } from "../src/load.js";
import type { Descriptor } from "../src/model/descriptor.js";
import { planFiles } from "../src/plan.js";
import { renderFiles, type RenderedFile } from "../src/render/index.js";
import { validateDescriptor } from "../src/validate/index.js";
import { checkBashSyntax, checkNftables, checkPrettierClean, checkShellcheck, expectClean } from "./checkers/index.js";
import { repoRoot } from "./checkers/paths.js";
import { runTool, withTempDir } from "./checkers/process.js";

type Backend = "firewalld" | "ufw" | "nftables";

function readExample(name: string): Descriptor {
  return parse(readFileSync(join(repoRoot, "examples", name, "deploy.yaml"), "utf8")) as Descriptor;
}

function withBackend(d: Descriptor, backend: Backend): Descriptor {
  const copy = structuredClone(d);
  copy.targets = { ...copy.targets, firewall: { ...copy.targets?.firewall, backend } };
  return copy;
}

function renderFirewall(d: Descriptor): RenderedFile[] {
  return renderFiles(firewallKind.plan(d, { files: [], sections: [] }), { descriptorFile: "deploy.yaml" });
}

function fileAt(files: RenderedFile[], path: string): string {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path} among ${files.map((f) => f.path).join(", ")}`);
  return file.content;
}

async function expectFileChecksClean(file: RenderedFile): Promise<void> {
  if (file.kind === "nftables") {
    expectClean(await checkNftables(file.content, "rules.nft"), file.path);
  } else {
    expect(file.kind).toBe("shell");
    expect(file.executable, `${file.path} is executable`).toBe(true);
    expectClean(await checkBashSyntax(file.content), file.path);
    expectClean(await checkShellcheck(file.content), file.path);
  }
}

// ---------------------------------------------------------------- recording stand-ins

const AFTER_RULES = ["*filter", ":ufw-after-input - [0:0]", ":ufw-after-forward - [0:0]", "-A ufw-after-input -p udp --dport 137 -j ufw-skip-to-policy-input", "COMMIT", ""].join("\n");
const AFTER6_RULES = ["*filter", ":ufw6-after-input - [0:0]", "-A ufw6-after-input -p udp --dport 137 -j ufw6-skip-to-policy-input", "COMMIT", ""].join("\n");

/** A stand-in that appends its name and arguments (separated by U+001F) to $RECORD, one call per line. */
const RECORDER = `#!/bin/bash\nprintf '%s\\x1f' "\${0##*/}" "$@" >>"\${RECORD}"\nprintf '\\n' >>"\${RECORD}"\n`;

interface Sandbox {
  dir: string;
  ufwDir: string;
}

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
  calls: string[][];
}

async function makeSandbox(dir: string, uid = "0"): Promise<Sandbox> {
  const bin = join(dir, "bin");
  await mkdir(bin, { recursive: true });
  for (const tool of ["ufw", "firewall-cmd"]) {
    await writeFile(join(bin, tool), RECORDER);
    await chmod(join(bin, tool), 0o755);
  }
  await writeFile(join(bin, "id"), `#!/bin/bash\necho ${uid}\n`);
  await chmod(join(bin, "id"), 0o755);
  const ufwDir = join(dir, "ufw");
  await mkdir(ufwDir);
  await writeFile(join(ufwDir, "after.rules"), AFTER_RULES);
  await writeFile(join(ufwDir, "after6.rules"), AFTER6_RULES);
  return { dir, ufwDir };
}

async function runScript(sandbox: Sandbox, script: string, args: string[] = []): Promise<ScriptRun> {
  const path = join(sandbox.dir, "firewall.sh");
  const record = join(sandbox.dir, "record");
  await writeFile(path, script);
  await writeFile(record, "");
  const run = await runTool("bash", [path, ...args], {
    cwd: sandbox.dir,
    env: { PATH: `${join(sandbox.dir, "bin")}:/usr/bin:/bin`, RECORD: record, UFW_DIR: sandbox.ufwDir },
  });
  if (run.missing) throw new Error(run.reason);
  const calls = (await readFile(record, "utf8"))
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.split("\u001f").slice(0, -1));
  return { code: run.code, stdout: run.stdout, stderr: run.stderr, calls };
}

async function ufwFiles(sandbox: Sandbox): Promise<[string, string]> {
  return [await readFile(join(sandbox.ufwDir, "after.rules"), "utf8"), await readFile(join(sandbox.ufwDir, "after6.rules"), "utf8")];
}

const RICH = (family: string, source: string, port: number, protocol = "tcp"): string =>
  `rule family="${family}" source address="${source}" port port="${port}" protocol="${protocol}" accept`;

// ---------------------------------------------------------------- addresses

describe("firewall addresses", () => {
  it("tells IPv4 from IPv6 sources and refuses what is neither", () => {
    expect(familyOf("10.20.0.0/16")).toBe("ipv4");
    expect(familyOf("192.168.50.10")).toBe("ipv4");
    expect(familyOf("fd00::/64")).toBe("ipv6");
    expect(familyOf("::ffff:10.0.0.1")).toBe("ipv6");
    for (const bad of ["10.0.0.0/33", "256.1.1.1", "10.0.0.1; reboot", "fd00::/129", "1:2:3:4:5:6:7:8:9", "$(id)", "", "010.0.0.1"]) {
      expect(isSource(bad), bad).toBe(false);
    }
    expect(isAddress("10.0.0.0/8")).toBe(false);
    expect(() => familyOf("any")).toThrow(/not an address/);
  });

  it("knows which network holds a node's address", () => {
    expect(networkContains("172.30.10.0/24", "172.30.10.22")).toBe(true);
    expect(networkContains("172.30.10.0/24", "172.30.11.1")).toBe(false);
    expect(networkContains("0.0.0.0/0", "8.8.8.8")).toBe(true);
    expect(networkContains("fd00:20::/64", "fd00:20::5")).toBe(true);
    expect(networkContains("fd00:20::/64", "fd00:21::5")).toBe(false);
    expect(networkContains("10.0.0.0/8", "fd00::1")).toBe(false);
    expect(networkContains("10.0.0.5", "10.0.0.5")).toBe(true);
  });
});

// ---------------------------------------------------------------- the plan

function ruleSummary(plan: FirewallPlan): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const host of plan.hosts) {
    out[host.node ?? "host"] = host.rules.map((r) => `${r.origin} ${r.port ?? "-"}/${r.protocol} ${r.sources === "any" ? "any" : r.sources.join(",")}`);
  }
  return out;
}

describe("firewall plan", () => {
  it("dicom-pipeline: one host, SSH from the admin network, the DICOM port from the hospital network", () => {
    const plan = planFirewall(readExample("dicom-pipeline"));
    expect(plan?.backend).toBe("firewalld");
    expect(plan && ruleSummary(plan)).toEqual({ host: ["ssh 22/tcp 10.20.5.0/24", "service 104/tcp 10.20.0.0/16"] });
    expect(plan?.hosts[0]?.containers).toBe(false);
  });

  it("genui: the main node opens nginx to everyone and PostgreSQL and Redis to the cluster; the GPU node only SSH", () => {
    const plan = planFirewall(readExample("genui"));
    expect(plan && ruleSummary(plan)).toEqual({
      main: ["ssh 22/tcp 192.168.50.0/24", "service 5432/tcp 192.168.50.0/24", "service 6379/tcp 192.168.50.0/24", "service 80/tcp any", "service 443/tcp any"],
      "gpu-node": ["ssh 22/tcp 192.168.50.0/24"],
    });
    expect(plan?.hosts.map((h) => h.containers)).toEqual([true, true]);
  });

  it("bids-flux: swarm ports from the other node only, 2377 on the manager, the custom data path and ESP", () => {
    const plan = planFirewall(readExample("bids-flux"));
    expect(plan && ruleSummary(plan)).toEqual({
      "data-server": [
        "ssh 22/tcp 172.30.0.0/16",
        "service 8000/tcp 172.30.10.0/24",
        "service 3000/tcp 172.30.10.0/24",
        "swarm 2377/tcp 172.30.10.22",
        "swarm 7946/tcp 172.30.10.22",
        "swarm 7946/udp 172.30.10.22",
        "swarm 7789/udp 172.30.10.22",
        "swarm -/esp 172.30.10.22",
      ],
      "processing-server": ["ssh 22/tcp 172.30.0.0/16", "swarm 7946/tcp 172.30.10.21", "swarm 7946/udp 172.30.10.21", "swarm 7789/udp 172.30.10.21", "swarm -/esp 172.30.10.21"],
    });
  });

  it("lets cluster ports in from nodes outside the cluster networks too, and never from the node itself", () => {
    const d = readExample("genui");
    d.nodes = { ...d.nodes, edge: { address: "10.9.9.9", roles: ["gpu-worker"] } };
    const main = planFirewall(d)?.hosts.find((h) => h.node === "main");
    const db = main?.rules.find((r) => r.service === "db");
    expect(db?.sources).toEqual(["192.168.50.0/24", "10.9.9.9"]);
    const edgeOnly = structuredClone(d);
    edgeOnly.services["db"] = { ...edgeOnly.services["db"]!, roles: [], placement: { nodes: ["edge"] } };
    const edge = planFirewall(edgeOnly)?.hosts.find((h) => h.node === "edge");
    expect(edge?.rules.find((r) => r.service === "db")?.sources).toEqual(["192.168.50.0/24"]);
  });

  it("opens nothing for local and internal ports, and uses the default SSH port, data path and zone", () => {
    const d = readExample("dicom-pipeline");
    d.services["pipeline"]!.ports = [
      { port: 9000, exposure: "local" },
      { port: 9001, exposure: "internal" },
      { port: 9002 },
    ];
    d.targets!.firewall = { backend: "firewalld" };
    const plan = planFirewall(d);
    expect(plan && ruleSummary(plan)).toEqual({ host: ["ssh 22/tcp any"] });
    expect(plan?.zone).toBe("public");
  });

  it("opens a container's published port, a systemd service's own port", () => {
    const d = readExample("genui");
    const nginx = planFirewall(d)?.hosts[0]?.rules.filter((r) => r.service === "nginx").map((r) => r.port);
    expect(nginx).toEqual([80, 443]);
    const dicom = readExample("dicom-pipeline");
    dicom.services["pipeline"]!.ports![0]!.published = 11112;
    expect(planFirewall(dicom)?.hosts[0]?.rules[1]?.port).toBe(104);
  });
});

// ---------------------------------------------------------------- checks

describe("firewall checks", () => {
  it("accepts the examples", () => {
    for (const name of ["dicom-pipeline", "genui", "bids-flux"]) expect(checkFirewall(readExample(name)), name).toEqual([]);
  });

  it("refuses a database or cache open to everyone unless the port acknowledges it", () => {
    const d = readExample("genui");
    d.services["db"]!.ports![0]!.exposure = "public";
    d.services["redis"]!.ports![0]!.exposure = "public";
    const problems = checkFirewall(d);
    expect(problems.map((p) => p.pointer)).toEqual(["/services/db/ports/0/exposure", "/services/redis/ports/0/exposure"]);
    expect(problems[0]?.message).toMatch(/database port 5432 to the whole internet/);
    expect(problems[0]?.hint).toMatch(/allowPublic: true/);
    d.services["db"]!.ports![0]!.allowPublic = true;
    d.services["redis"]!.ports![0]!.allowPublic = true;
    expect(checkFirewall(d)).toEqual([]);
  });

  it("refuses a service port that is the SSH port or one of swarm's ports", () => {
    const d = readExample("dicom-pipeline");
    d.services["pipeline"]!.ports![0]!.port = 22;
    expect(checkFirewall(d)).toEqual([expect.objectContaining({ pointer: "/services/pipeline/ports/0/port", message: "publishes 22/tcp, which is the SSH port" })]);
    const swarm = readExample("bids-flux");
    swarm.services["mercure"]!.ports![0] = { port: 3000, published: 7789, protocol: "udp", exposure: "cluster" };
    expect(checkFirewall(swarm)).toEqual([
      expect.objectContaining({ pointer: "/services/mercure/ports/0/published", message: expect.stringMatching(/^publishes 7789\/udp on node data-server, which is swarm's port/) }),
    ]);
  });

  it("refuses a node no service runs on, except in a swarm", () => {
    const d = readExample("genui");
    d.nodes = { ...d.nodes, spare: { address: "192.168.50.12", roles: ["nothing-here"] } };
    expect(checkFirewall(d)).toEqual([expect.objectContaining({ pointer: "/nodes/spare" })]);
    const swarm = readExample("bids-flux");
    swarm.nodes = { ...swarm.nodes, manager2: { address: "172.30.10.23", manager: true } };
    swarm.services["pipeline"]!.placement = { nodes: ["processing-server"] };
    expect(checkFirewall(swarm)).toEqual([]);
  });
});

// ---------------------------------------------------------------- examples, every backend

const EXAMPLES = ["dicom-pipeline", "genui", "bids-flux"] as const;
const BACKENDS: Backend[] = ["firewalld", "ufw", "nftables"];

describe("firewall files of the examples", () => {
  it("are one per host, named after the node, with the backend's kind", () => {
    expect(renderFirewall(readExample("dicom-pipeline")).map((f) => [f.path, f.kind])).toEqual([["firewall/host.sh", "shell"]]);
    expect(renderFirewall(readExample("genui")).map((f) => f.path)).toEqual(["firewall/gpu-node.sh", "firewall/main.sh"]);
    expect(renderFirewall(readExample("bids-flux")).map((f) => [f.path, f.kind])).toEqual([
      ["firewall/data-server.nft", "nftables"],
      ["firewall/processing-server.nft", "nftables"],
    ]);
  });

  for (const name of EXAMPLES) {
    for (const backend of BACKENDS) {
      it(`${name} with ${backend} passes bash -n and shellcheck, or nft -c`, async () => {
        const files = renderFirewall(withBackend(readExample(name), backend));
        expect(files.length).toBeGreaterThan(0);
        for (const file of files) await expectFileChecksClean(file);
      });
    }
  }

  it("keep the one-line marker right after the shebang", () => {
    for (const backend of BACKENDS) {
      for (const file of renderFirewall(withBackend(readExample("genui"), backend))) {
        const [first, second] = file.content.split("\n");
        expect(first).toMatch(/^#!\/usr\/(bin\/env bash|sbin\/nft -f)$/);
        expect(second).toMatch(/^# Generated by create-deploy from deploy\.yaml/);
      }
    }
  });

  it("write a prettier-clean firewall section into DEPLOY.md for every backend", async () => {
    for (const name of EXAMPLES) {
      for (const backend of BACKENDS) {
        const d = withBackend(readExample(name), backend);
        const docs = renderFiles(planFiles(d, [firewallKind, docsKind]), { descriptorFile: "deploy.yaml" }).find((f) => f.path === "DEPLOY.md");
        const text = docs?.content ?? "";
        expect(text).toContain("## Firewall");
        expect(text).toContain("### Roll back the firewall");
        expectClean(await checkPrettierClean("DEPLOY.md", text), `${name} ${backend} DEPLOY.md`);
        if (name !== "dicom-pipeline") expect(text).toContain("### Docker and the firewall");
        if (name === "dicom-pipeline") expect(text).toContain("### SELinux port labels");
      }
    }
  });

  it("tell SELinux hosts to label SSH on a port other than 22", () => {
    const d = readExample("dicom-pipeline");
    d.targets!.firewall!.sshPort = 2222;
    const docs = renderFiles(planFiles(d, [firewallKind, docsKind]), { descriptorFile: "deploy.yaml" }).find((f) => f.path === "DEPLOY.md")?.content ?? "";
    expect(docs).toContain("`sudo semanage port -a -t ssh_port_t -p tcp 2222`");
    expect(docs).toContain("`sudo semanage port -a -t TYPE -p tcp 104`");
    delete d.targets!.systemd!.selinux;
    const plain = renderFiles(planFiles(d, [firewallKind, docsKind]), { descriptorFile: "deploy.yaml" }).find((f) => f.path === "DEPLOY.md")?.content ?? "";
    expect(plain).not.toContain("semanage");
  });
});

// ---------------------------------------------------------------- nftables content

describe("nftables rulesets", () => {
  it("replace their own table, drop by default and accept SSH before anything else", () => {
    const content = fileAt(renderFirewall(readExample("bids-flux")), "firewall/data-server.nft");
    const lines = content.split("\n").map((l) => l.trim());
    expect(lines).toContain("table inet bids-flux {}");
    expect(lines).toContain("delete table inet bids-flux");
    expect(lines).toContain("type filter hook input priority filter; policy drop;");
    expect(lines).toContain('iif "lo" accept');
    expect(lines).toContain("ct state established,related accept");
    const ssh = lines.indexOf("ip saddr { 172.30.0.0/16 } tcp dport 22 accept");
    const api = lines.indexOf("ip saddr { 172.30.10.0/24 } tcp dport 8000 accept");
    expect(ssh).toBeGreaterThan(0);
    expect(api).toBeGreaterThan(ssh);
    expect(lines).toContain("ip saddr { 172.30.10.22 } meta l4proto esp accept");
    expect(lines).toContain("ip saddr { 172.30.10.22 } udp dport 7789 accept");
    expect(lines).toContain("ct status dnat meta l4proto tcp ct original proto-dst 8000 ip saddr { 172.30.10.0/24 } accept");
    expect(lines.filter((l) => l === "ct status dnat drop")).toHaveLength(1);
    expect(content).not.toContain("dport 5432");
  });

  it("split IPv4 and IPv6 sources into ip and ip6 matches", () => {
    const d = withBackend(readExample("dicom-pipeline"), "nftables");
    d.targets!.firewall!.adminCidr = ["10.20.5.0/24", "fd00:5::/64"];
    const content = fileAt(renderFirewall(d), "firewall/host.nft");
    expect(content).toContain("\t\tip saddr { 10.20.5.0/24 } tcp dport 22 accept\n\t\tip6 saddr { fd00:5::/64 } tcp dport 22 accept\n");
    expect(content).not.toContain("chain forward");
  });
});

// ---------------------------------------------------------------- scripts against recording stand-ins

describe("firewall scripts run against recording stand-ins", () => {
  it("dicom-pipeline (firewalld): SSH from the admin network, the DICOM port from the hospital network, one reload", async () => {
    const script = fileAt(renderFirewall(readExample("dicom-pipeline")), "firewall/host.sh");
    await withTempDir("fw", async (dir) => {
      const sandbox = await makeSandbox(dir);
      const first = await runScript(sandbox, script);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.calls).toEqual([
        ["firewall-cmd", "--state"],
        ["firewall-cmd", "--permanent", "--zone=public", "--get-target"],
        ["firewall-cmd", "--permanent", "--zone=public", `--add-rich-rule=${RICH("ipv4", "10.20.5.0/24", 22)}`],
        ["firewall-cmd", "--permanent", "--zone=public", "--remove-service=ssh"],
        ["firewall-cmd", "--permanent", "--zone=public", `--add-rich-rule=${RICH("ipv4", "10.20.0.0/16", 104)}`],
        ["firewall-cmd", "--reload"],
      ]);
      const second = await runScript(sandbox, script);
      expect(second.code).toBe(0);
      expect(second.calls).toEqual(first.calls);

      const rollback = await runScript(sandbox, script, ["--rollback"]);
      expect(rollback.code).toBe(0);
      expect(rollback.calls).toEqual([
        ["firewall-cmd", "--state"],
        ["firewall-cmd", "--permanent", "--zone=public", "--get-target"],
        ["firewall-cmd", "--permanent", "--zone=public", `--remove-rich-rule=${RICH("ipv4", "10.20.0.0/16", 104)}`],
        ["firewall-cmd", "--reload"],
      ]);
      expect(rollback.stdout).toContain("The SSH rule stays");
    });
  });

  it("dicom-pipeline switched to ufw: SSH allowed before ufw is enabled", async () => {
    const script = fileAt(renderFirewall(withBackend(readExample("dicom-pipeline"), "ufw")), "firewall/host.sh");
    await withTempDir("fw", async (dir) => {
      const sandbox = await makeSandbox(dir);
      const first = await runScript(sandbox, script);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.calls).toEqual([
        ["ufw", "allow", "from", "10.20.5.0/24", "to", "any", "port", "22", "proto", "tcp", "comment", "create-deploy dicom-pipeline ssh 22/tcp"],
        ["ufw", "default", "deny", "incoming"],
        ["ufw", "default", "allow", "outgoing"],
        ["ufw", "allow", "from", "10.20.0.0/16", "to", "any", "port", "104", "proto", "tcp", "comment", "create-deploy dicom-pipeline pipeline 104/tcp"],
        ["ufw", "--force", "enable"],
        ["ufw", "reload"],
      ]);
      expect((await runScript(sandbox, script)).calls).toEqual(first.calls);
      // Without containers the script leaves ufw's rule files alone.
      expect(await ufwFiles(sandbox)).toEqual([AFTER_RULES, AFTER6_RULES]);
      const rollback = await runScript(sandbox, script, ["--rollback"]);
      expect(rollback.calls).toEqual([
        ["ufw", "delete", "allow", "from", "10.20.0.0/16", "to", "any", "port", "104", "proto", "tcp"],
        ["ufw", "reload"],
      ]);
    });
  });

  it("genui (ufw): the main node's rules, and Docker's published ports guarded in DOCKER-USER", async () => {
    const files = renderFirewall(readExample("genui"));
    await withTempDir("fw", async (dir) => {
      const sandbox = await makeSandbox(dir);
      const script = fileAt(files, "firewall/main.sh");
      const first = await runScript(sandbox, script);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      const allow = (source: string, port: number, what: string): string[] => [
        "ufw", "allow", "from", source, "to", "any", "port", String(port), "proto", "tcp", "comment", `create-deploy genui ${what} ${port}/tcp`,
      ];
      expect(first.calls).toEqual([
        allow("192.168.50.0/24", 22, "ssh"),
        ["ufw", "default", "deny", "incoming"],
        ["ufw", "default", "allow", "outgoing"],
        allow("192.168.50.0/24", 5432, "db"),
        allow("192.168.50.0/24", 6379, "redis"),
        allow("any", 80, "nginx"),
        allow("any", 443, "nginx"),
        ["ufw", "--force", "enable"],
        ["ufw", "reload"],
      ]);
      const [after, after6] = await ufwFiles(sandbox);
      const dnat = (port: number): string => `-p tcp -m conntrack --ctstate DNAT --ctorigdstport ${port} -j RETURN`;
      const block = (rules: string[]): string =>
        [
          "# BEGIN create-deploy genui",
          "*filter",
          ":DOCKER-USER - [0:0]",
          "# replies to connections already let in",
          "-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
          ...rules,
          "# every other connection to a published container port",
          "-A DOCKER-USER -m conntrack --ctstate DNAT -j DROP",
          "-A DOCKER-USER -j RETURN",
          "COMMIT",
          "# END create-deploy genui",
          "",
        ].join("\n");
      const nginx = [
        "# 80/tcp from anywhere, for nginx: HTTP, redirects to HTTPS",
        `-A DOCKER-USER ${dnat(80)}`,
        "# 443/tcp from anywhere, for nginx: HTTPS",
        `-A DOCKER-USER ${dnat(443)}`,
      ];
      expect(after).toBe(
        AFTER_RULES +
          block([
            "# 5432/tcp from 192.168.50.0/24, for db: PostgreSQL, for the remote worker node only",
            `-A DOCKER-USER -s 192.168.50.0/24 ${dnat(5432)}`,
            "# 6379/tcp from 192.168.50.0/24, for redis: Redis, for the remote worker node only",
            `-A DOCKER-USER -s 192.168.50.0/24 ${dnat(6379)}`,
            ...nginx,
          ]),
      );
      expect(after6).toBe(AFTER6_RULES + block(nginx));

      const second = await runScript(sandbox, script);
      expect(second.calls).toEqual(first.calls);
      expect(await ufwFiles(sandbox)).toEqual([after, after6]);

      const rollback = await runScript(sandbox, script, ["--rollback"]);
      expect(rollback.code).toBe(0);
      expect(rollback.calls).toEqual([
        ["ufw", "delete", "allow", "from", "192.168.50.0/24", "to", "any", "port", "5432", "proto", "tcp"],
        ["ufw", "delete", "allow", "from", "192.168.50.0/24", "to", "any", "port", "6379", "proto", "tcp"],
        ["ufw", "delete", "allow", "from", "any", "to", "any", "port", "80", "proto", "tcp"],
        ["ufw", "delete", "allow", "from", "any", "to", "any", "port", "443", "proto", "tcp"],
        ["ufw", "reload"],
      ]);
      expect(await ufwFiles(sandbox)).toEqual([AFTER_RULES, AFTER6_RULES]);
    });
  });

  it("genui (ufw): the GPU node allows SSH only and drops every DNAT'd connection", async () => {
    const script = fileAt(renderFirewall(readExample("genui")), "firewall/gpu-node.sh");
    await withTempDir("fw", async (dir) => {
      const sandbox = await makeSandbox(dir);
      const run = await runScript(sandbox, script);
      expect(run.code).toBe(0);
      expect(run.calls).toEqual([
        ["ufw", "allow", "from", "192.168.50.0/24", "to", "any", "port", "22", "proto", "tcp", "comment", "create-deploy genui ssh 22/tcp"],
        ["ufw", "default", "deny", "incoming"],
        ["ufw", "default", "allow", "outgoing"],
        ["ufw", "--force", "enable"],
        ["ufw", "reload"],
      ]);
      const [after] = await ufwFiles(sandbox);
      expect(after.split("\n").filter((l) => l.startsWith("-A DOCKER-USER"))).toEqual([
        "-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-A DOCKER-USER -m conntrack --ctstate DNAT -j DROP",
        "-A DOCKER-USER -j RETURN",
      ]);
    });
  });

  it("bids-flux switched to firewalld: swarm rules from the other node, ESP, and DOCKER-USER direct rules", async () => {
    const files = renderFirewall(withBackend(readExample("bids-flux"), "firewalld"));
    await withTempDir("fw", async (dir) => {
      const sandbox = await makeSandbox(dir);
      const run = await runScript(sandbox, fileAt(files, "firewall/processing-server.sh"));
      expect(run.code).toBe(0);
      const zone = ["firewall-cmd", "--permanent", "--zone=public"];
      const direct = (family: string, priority: number, ...args: string[]): string[] => ["firewall-cmd", "--permanent", "--direct", "--add-rule", family, "filter", "DOCKER-USER", String(priority), ...args];
      expect(run.calls).toEqual([
        ["firewall-cmd", "--state"],
        [...zone, "--get-target"],
        [...zone, `--add-rich-rule=${RICH("ipv4", "172.30.0.0/16", 22)}`],
        [...zone, "--remove-service=ssh"],
        [...zone, `--add-rich-rule=${RICH("ipv4", "172.30.10.21", 7946)}`],
        [...zone, `--add-rich-rule=${RICH("ipv4", "172.30.10.21", 7946, "udp")}`],
        [...zone, `--add-rich-rule=${RICH("ipv4", "172.30.10.21", 7789, "udp")}`],
        [...zone, '--add-rich-rule=rule family="ipv4" source address="172.30.10.21" protocol value="esp" accept'],
        ["firewall-cmd", "--permanent", "--direct", "--add-chain", "ipv4", "filter", "DOCKER-USER"],
        direct("ipv4", 0, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"),
        direct("ipv4", 2, "-m", "conntrack", "--ctstate", "DNAT", "-j", "DROP"),
        ["firewall-cmd", "--permanent", "--direct", "--add-chain", "ipv6", "filter", "DOCKER-USER"],
        direct("ipv6", 0, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "RETURN"),
        direct("ipv6", 2, "-m", "conntrack", "--ctstate", "DNAT", "-j", "DROP"),
        ["firewall-cmd", "--reload"],
      ]);
      const manager = await runScript(sandbox, fileAt(files, "firewall/data-server.sh"));
      expect(manager.calls).toContainEqual([...zone, `--add-rich-rule=${RICH("ipv4", "172.30.10.22", 2377)}`]);
      expect(manager.calls).toContainEqual(direct("ipv4", 1, "-s", "172.30.10.0/24", "-p", "tcp", "-m", "conntrack", "--ctstate", "DNAT", "--ctorigdstport", "8000", "-j", "RETURN"));
      const rollback = await runScript(sandbox, fileAt(files, "firewall/data-server.sh"), ["--rollback"]);
      const removed = rollback.calls.filter((c) => c.includes("--remove-chain") || c.includes("--remove-rule"));
      // Rules go before their chain, which firewalld removes only when empty.
      expect(removed.at(-1)).toEqual(["firewall-cmd", "--permanent", "--direct", "--remove-chain", "ipv6", "filter", "DOCKER-USER"]);
      expect(rollback.calls.some((c) => c.some((a) => a.includes('port="22"')))).toBe(false);
    });
  });

  it("refuse to run without root, and need no root for --dry-run, which prints the commands it would run", async () => {
    for (const backend of ["firewalld", "ufw"] as const) {
      const files = renderFirewall(withBackend(readExample("genui"), backend));
      const script = fileAt(files, "firewall/main.sh");
      await withTempDir("fw", async (dir) => {
        const user = await makeSandbox(dir, "1000");
        const refused = await runScript(user, script);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/run as root/);
        expect(refused.calls).toEqual([]);

        const dry = await runScript(user, script, ["--dry-run"]);
        expect(dry.code).toBe(0);
        expect(dry.calls).toEqual([]);
        expect(await ufwFiles(user)).toEqual([AFTER_RULES, AFTER6_RULES]);
        // Pasting the printed commands into a shell runs exactly what the script runs.
        const printed = dry.stdout.split("\n").filter((l) => /^(ufw|firewall-cmd) /.test(l));
        const replay = await runScript(user, `${printed.join("\n")}\n`);
        const real = await runScript(await makeSandbox(join(dir, "root")), script);
        expect(replay.calls).toEqual(real.calls.filter((c) => !c.includes("--state") && !c.includes("--get-target")));
      });
    }
  });

  it("reject unknown options with usage", async () => {
    const script = fileAt(renderFirewall(readExample("dicom-pipeline")), "firewall/host.sh");
    await withTempDir("fw", async (dir) => {
      const run = await runScript(await makeSandbox(dir), script, ["--yes"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/unknown option: --yes\nUsage: firewall\/host\.sh/);
      expect(run.calls).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------- generated variations

interface Variation {
  backend: Backend;
  sshPort: number | undefined;
  admin: string[] | undefined;
  cidr: string[];
  nodes: number;
  outsider: boolean;
  swarm: boolean;
  encrypted: boolean;
  dataPathPort: number | undefined;
  services: Array<{ platform: "container" | "systemd"; type: "web" | "database" | "worker"; node: number; ports: Array<{ port: number; protocol: "tcp" | "udp"; exposure: "public" | "cluster" | "local" | "internal" }> }>;
}

const variation: fc.Arbitrary<Variation> = fc.record({
  backend: fc.constantFrom<Backend>("firewalld", "ufw", "nftables"),
  sshPort: fc.option(fc.constantFrom(22, 2222), { nil: undefined }),
  admin: fc.option(fc.constantFrom(["10.0.5.0/24"], ["10.0.5.0/24", "fd00:5::/64"]), { nil: undefined }),
  cidr: fc.constantFrom(["10.0.0.0/16"], ["10.0.0.0/16", "fd00:20::/64"]),
  nodes: fc.integer({ min: 0, max: 2 }),
  outsider: fc.boolean(),
  swarm: fc.boolean(),
  encrypted: fc.boolean(),
  dataPathPort: fc.option(fc.constantFrom(4789, 7789), { nil: undefined }),
  services: fc.array(
    fc.record({
      platform: fc.constantFrom<"container" | "systemd">("container", "systemd"),
      type: fc.constantFrom<"web" | "database" | "worker">("web", "database", "worker"),
      node: fc.integer({ min: 0, max: 1 }),
      ports: fc.uniqueArray(
        fc.record({
          port: fc.integer({ min: 1024, max: 9999 }).filter((p) => p !== 2222 && p !== 4789 && p !== 7789 && p !== 7946 && p !== 2377),
          protocol: fc.constantFrom<"tcp" | "udp">("tcp", "udp"),
          exposure: fc.constantFrom<"public" | "cluster" | "local" | "internal">("public", "cluster", "local", "internal"),
        }),
        { selector: (p) => p.port, maxLength: 2 },
      ),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

function descriptorOf(v: Variation): Descriptor {
  const nodeNames = Array.from({ length: v.nodes }, (_, i) => `node-${i}`);
  const nodes = Object.fromEntries(
    nodeNames.map((name, i) => [name, { address: v.outsider && i === 1 ? "192.168.9.9" : `10.0.1.${i + 1}`, roles: [`role-${i}`], ...(i === 0 ? { manager: true } : {}) }]),
  );
  const swarm = v.swarm && v.nodes > 0;
  const services = Object.fromEntries(
    v.services.map((s, i) => [
      `svc-${i}`,
      {
        type: s.type,
        ...(s.platform === "systemd" && !swarm ? { platform: "systemd" as const } : {}),
        ...(v.nodes > 0 ? { roles: [`role-${s.node % v.nodes}`] } : {}),
        ports: s.ports.map((p) => ({ ...p, ...(s.type === "database" && p.exposure === "public" ? { allowPublic: true } : {}) })),
      },
    ]),
  );
  return {
    name: "fc-project",
    cluster: { cidr: v.cidr },
    services,
    ...(v.nodes > 0 ? { nodes } : {}),
    networks: { overlay: { encrypted: v.encrypted } },
    targets: {
      ...(swarm ? { swarm: { network: "overlay", ...(v.dataPathPort ? { dataPathPort: v.dataPathPort } : {}) } } : {}),
      firewall: { backend: v.backend, ...(v.sshPort ? { sshPort: v.sshPort } : {}), ...(v.admin ? { adminCidr: v.admin } : {}) },
    },
  } as Descriptor;
}

/** Whether a recorded call opens (or deletes) exactly this rule from this source. */
function callMatches(call: string[], rule: FirewallRule, source: string | "any"): boolean {
  const text = call.join(" ");
  if (call[0] === "ufw") {
    const target = rule.protocol === "esp" ? "to any proto esp" : `to any port ${rule.port} proto ${rule.protocol}`;
    return text.includes(`from ${source} ${target}`);
  }
  if (source === "any") return rule.protocol === "esp" ? text.includes('protocol value="esp"') : text.endsWith(`-port=${rule.port}/${rule.protocol}`) || (rule.port === 22 && text.endsWith("--add-service=ssh"));
  const what = rule.protocol === "esp" ? 'protocol value="esp"' : `port port="${rule.port}" protocol="${rule.protocol}"`;
  return text.includes(`source address="${source}" ${what}`);
}

describe("firewall variations (property-based)", () => {
  it("every generated file passes its checker, every rule of the plan is applied, SSH first, and a re-run is identical", async () => {
    await fc.assert(
      fc.asyncProperty(variation, async (v) => {
        const d = descriptorOf(v);
        fc.pre(checkFirewall(d).length === 0);
        const plan = planFirewall(d);
        if (!plan) throw new Error("no plan");
        const files = renderFirewall(d);
        expect(files).toHaveLength(plan.hosts.length);
        for (const file of files) await expectFileChecksClean(file);
        if (v.backend === "nftables") {
          for (const [index, host] of plan.hosts.entries()) {
            const content = files.find((f) => f.path === `firewall/${host.node ?? "host"}.nft`)?.content ?? "";
            expect(content).toContain("policy drop;");
            for (const rule of host.rules) {
              const what = rule.protocol === "esp" ? "meta l4proto esp accept" : `${rule.protocol} dport ${rule.port} accept`;
              expect(content, `host ${index}`).toContain(what);
            }
          }
          return;
        }
        await withTempDir("fw-prop", async (dir) => {
          const sandbox = await makeSandbox(dir);
          for (const host of plan.hosts) {
            const script = fileAt(files, `firewall/${host.node ?? "host"}.sh`);
            const first = await runScript(sandbox, script);
            expect(first.stderr).toBe("");
            expect(first.code).toBe(0);
            const applied = first.calls.filter((c) => !c.includes("--state") && !c.includes("--get-target"));
            for (const rule of host.rules) {
              for (const source of rule.sources === "any" ? ["any"] : rule.sources) {
                expect(applied.some((c) => callMatches(c, rule, source)), `${host.node ?? "host"}: ${rule.reason} from ${source}`).toBe(true);
              }
            }
            // Nothing beyond the plan: every allow/add call belongs to one of its rules.
            const opening = applied.filter((c) => c[1] === "allow" || c.some((a) => /^--add-(rich-rule|port|service)=/.test(a)));
            for (const call of opening) {
              expect(host.rules.some((rule) => (rule.sources === "any" ? ["any"] : rule.sources).some((s) => callMatches(call, rule, s))), call.join(" ")).toBe(true);
            }
            const ssh = host.rules[0];
            const sshIndex = applied.findIndex((c) => ssh !== undefined && (ssh.sources === "any" ? ["any"] : ssh.sources).some((s) => callMatches(c, ssh, s)));
            const activation = applied.findIndex((c) => c.includes("enable") || c.includes("--reload") || c.includes("default"));
            expect(sshIndex).toBeGreaterThanOrEqual(0);
            expect(sshIndex).toBeLessThan(activation);
            const rulesBefore = await ufwFiles(sandbox);
            const second = await runScript(sandbox, script);
            expect(second.calls).toEqual(first.calls);
            expect(await ufwFiles(sandbox)).toEqual(rulesBefore);
            const rollback = await runScript(sandbox, script, ["--rollback"]);
            expect(rollback.code).toBe(0);
            expect(await ufwFiles(sandbox)).toEqual([AFTER_RULES, AFTER6_RULES]);
          }
        });
      }),
      { numRuns: 25 },
    );
  }, 180_000);
});

// ---------------------------------------------------------------- injection

const HOSTILE = ["$(touch pwned)", "`touch pwned`", "a; touch pwned", "it's \"quoted\"", "100% %s %n", "${HOME} $PATH", "# not a comment", "ünïcödé ✓", "\\ backslash"];

function validate(text: string): { ok: boolean; pointers: string[] } {
  const result = validateDescriptor(parseDescriptor(text, "deploy.yaml"), "deploy.yaml", [firewallKind]);
  return { ok: result.problems.length === 0, pointers: result.problems.map((p) => p.pointer) };
}

describe("firewall injection", () => {
  it("keeps hostile descriptions inert: the scripts still pass their checkers and run the same commands", async () => {
    const clean = readExample("genui");
    const cleanCalls = new Map<string, string[][]>();
    await withTempDir("fw-inj", async (dir) => {
      for (const backend of ["ufw", "firewalld"] as const) {
        const files = renderFirewall(withBackend(clean, backend));
        cleanCalls.set(backend, (await runScript(await makeSandbox(join(dir, `clean-${backend}`)), fileAt(files, "firewall/main.sh"))).calls);
      }
      for (const [index, text] of HOSTILE.entries()) {
        for (const backend of BACKENDS) {
          const d = withBackend(clean, backend);
          d.description = text;
          d.nodes!["main"]!.description = text;
          d.services["db"]!.description = text;
          d.services["db"]!.ports![0]!.description = text;
          d.services["nginx"]!.ports![1]!.description = text;
          const files = renderFirewall(d);
          for (const file of files) await expectFileChecksClean(file);
          const main = fileAt(files, `firewall/main.${backend === "nftables" ? "nft" : "sh"}`);
          expect(main).toContain(text);
          if (backend === "nftables") continue;
          const sandbox = await makeSandbox(join(dir, `${index}-${backend}`));
          const run = await runScript(sandbox, main);
          expect(run.code, run.stderr).toBe(0);
          expect(run.calls).toEqual(cleanCalls.get(backend));
          expect(await readFile(join(sandbox.dir, "pwned"), "utf8").catch(() => "absent")).toBe("absent");
        }
      }
    });
  });

  it("refuses a newline in any value that reaches a script, at validation and again at rendering", () => {
    const example = readFileSync(join(repoRoot, "examples", "genui", "deploy.yaml"), "utf8");
    expect(validate(example).ok).toBe(true);
    const broken = example.replace("description: HTTPS\n", 'description: "HTTPS\\nrun firewall-cmd --panic-on"\n');
    expect(broken).not.toBe(example);
    expect(validate(broken)).toEqual({ ok: false, pointers: ["/services/nginx/ports/1/description"] });
    const d = readExample("genui");
    d.services["nginx"]!.ports![1]!.description = "HTTPS\nrun firewall-cmd --panic-on";
    expect(() => renderFirewall(d)).toThrow(/control character/);
  });

  it("refuses sources, zones and names that are not what they claim", () => {
    const example = readFileSync(join(repoRoot, "examples", "dicom-pipeline", "deploy.yaml"), "utf8");
    const cases: Array<[string, string, string]> = [
      ["adminCidr: [10.20.5.0/24]", "adminCidr: ['10.20.5.0/24; reboot']", "/targets/firewall/adminCidr/0"],
      ["adminCidr: [10.20.5.0/24]", "adminCidr: ['$(reboot)']", "/targets/firewall/adminCidr/0"],
      ["cidr: [10.20.0.0/16]", "cidr: [\"10.20.0.0/16' accept'\"]", "/cluster/cidr/0"],
      ["sshPort: 22", "sshPort: 22\n    zone: \"public'; reboot; '\"", "/targets/firewall/zone"],
      ["name: dicom-pipeline", "name: \"dicom;pipeline\"", "/name"],
    ];
    for (const [from, to, pointer] of cases) {
      const text = example.replace(from, to);
      expect(text, to).not.toBe(example);
      const result = validate(text);
      expect(result.ok, to).toBe(false);
      expect(result.pointers, to).toContain(pointer);
    }
    const d = readExample("dicom-pipeline");
    d.targets!.firewall!.adminCidr = ["10.20.5.0/24; reboot"];
    expect(() => renderFirewall(d)).toThrow(/not an address or network/);
    const zone = readExample("dicom-pipeline");
    zone.targets!.firewall!.zone = "public'; reboot; '";
    expect(() => renderFirewall(zone)).toThrow(/zone/);
    const named = readExample("dicom-pipeline");
    named.name = "x$(reboot)";
    expect(() => renderFirewall(named)).toThrow(/identifier/);
  });
});
