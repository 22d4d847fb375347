// The swarm kind: the stack file judged by `docker stack config`, the plain compose file
// of a service that cannot run in swarm, the secrets and preflight scripts run against a
// recording stand-in for docker, the rules that refuse what swarm cannot do, and
// property-based variations.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkBashSyntax,
  checkCompose,
  checkPrettierClean,
  checkShellcheck,
  checkSwarmStack,
  expectClean,
  parseCompose,
} from "./checkers/index.js";
import { runTool } from "./checkers/process.js";
import {
  contentOf,
  descriptorOf,
  generate,
  generateExample,
  interpolate,
  NASTY,
  serviceIn,
  variationArb,
  type Generated,
} from "./support/containers.js";

type Mapping = Record<string, unknown>;

function siblingsOf(generated: Generated): Record<string, string> {
  return Object.fromEntries([...generated.files.values()].map((f) => [f.path, f.content]));
}

function stackOf(generated: Generated, path = "stack.yaml"): Mapping {
  return parseCompose(contentOf(generated, path)).data as Mapping;
}

/** Every stack through `docker stack config`, compose files through the schema, scripts through shellcheck. */
async function expectFilesPass(
  generated: Generated,
  label: string,
  options: { scripts?: boolean } = {},
): Promise<void> {
  const siblings = siblingsOf(generated);
  for (const file of generated.files.values()) {
    if (file.kind === "swarm-stack")
      expectClean(await checkSwarmStack(file.content, { name: file.path, siblings }), `${label} ${file.path}`);
    if (file.kind === "compose") expectClean(await checkCompose(file.content), `${label} ${file.path}`);
    if (file.kind === "swarm-stack" || file.kind === "compose")
      expectClean(await checkPrettierClean(file.path, file.content), `${label} ${file.path}`);
    if (file.kind === "shell" && options.scripts !== false) {
      expectClean(await checkBashSyntax(file.content), `${label} ${file.path}`);
      expectClean(await checkShellcheck(file.content), `${label} ${file.path}`);
    }
  }
}

/** The stack as docker's own loader reads it: interpolated, defaults applied. */
async function dockerStackConfig(content: string, env: Record<string, string> = {}): Promise<Mapping | undefined> {
  const dir = mkdtempSync(join(tmpdir(), "create-deploy-stack-"));
  try {
    writeFileSync(join(dir, "stack.yaml"), content);
    for (const folder of ["conf", "config"]) mkdirSync(join(dir, folder), { recursive: true });
    const run = await runTool("docker", ["stack", "config", "-c", join(dir, "stack.yaml")], {
      cwd: dir,
      env: { DOCKER_CONFIG: dir, ...env },
    });
    if (run.missing) return undefined;
    expect(run.stderr).toBe("");
    return parse(run.stdout) as Mapping;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("bids-flux", () => {
  it("generates a stack, a compose file for Mercure and the two scripts, all passing their checkers", async () => {
    const bids = generateExample("bids-flux");
    const kinds = [...bids.files.values()].filter(
      (f) => ["swarm-stack", "compose", "shell"].includes(f.kind) && !f.path.startsWith("firewall/"),
    );
    expect(kinds.map((f) => `${f.path} ${f.kind}`).sort()).toEqual([
      "compose.mercure.yaml compose",
      "create-secrets.sh shell",
      "preflight.sh shell",
      "stack.yaml swarm-stack",
    ]);
    for (const script of ["create-secrets.sh", "preflight.sh"]) expect(bids.files.get(script)?.executable).toBe(true);
    await expectFilesPass(bids, "bids-flux");
  });

  it("pins each service by node hostname, with replicas, update and rollback settings and limits", () => {
    const stack = stackOf(generateExample("bids-flux"));
    expect(Object.keys(stack["services"] as Mapping)).toEqual(["db", "api", "pipeline"]);
    const api = serviceIn(stack, "api");
    expect(api["deploy"]).toEqual({
      mode: "replicated",
      replicas: 2,
      placement: { constraints: ["node.hostname == bids-data"] },
      update_config: { parallelism: 1, delay: "10s", order: "start-first", failure_action: "rollback", monitor: "30s" },
      rollback_config: { parallelism: 1, order: "start-first" },
      restart_policy: { condition: "any", delay: "5s" },
      resources: { limits: { cpus: "1", memory: "1g" } },
    });
    expect((serviceIn(stack, "pipeline")["deploy"] as Mapping)["placement"]).toEqual({
      constraints: ["node.hostname == bids-proc"],
    });
    // Two copies of a database on one data directory would corrupt it: the old task stops first.
    expect((serviceIn(stack, "db")["deploy"] as Mapping)["update_config"]).toMatchObject({ order: "stop-first" });
    expect(((serviceIn(stack, "pipeline")["deploy"] as Mapping)["resources"] as Mapping)["reservations"]).toEqual({
      cpus: "4",
      memory: "16g",
    });
  });

  it("reads external secrets through long-form targets, readable by the service's own user", () => {
    const stack = stackOf(generateExample("bids-flux"));
    expect(stack["secrets"]).toEqual({
      "db-password": { external: true },
      "api-secret-key": { external: true },
      "mercure-publisher-jwt": { external: true },
    });
    expect(serviceIn(stack, "db")["secrets"]).toEqual([
      { source: "db-password", target: "postgres_password", uid: "999", gid: "999", mode: 0o400 },
    ]);
    expect((serviceIn(stack, "api")["secrets"] as Mapping[])[0]).toEqual({
      source: "db-password",
      target: "db_password",
      uid: "10001",
      gid: "10001",
      mode: 0o400,
    });
    expect(contentOf(generateExample("bids-flux"), "stack.yaml")).toContain("mode: 0o400");
    expect(serviceIn(stack, "api")["environment"]).toMatchObject({
      DB_HOST: "db",
      DB_PASSWORD_FILE: "/run/secrets/db_password",
    });
  });

  it("puts every service on the encrypted attachable overlay, and the database only on an internal one", () => {
    const stack = stackOf(generateExample("bids-flux"));
    expect((stack["networks"] as Mapping)["bids-net"]).toEqual({
      name: "bids-net",
      driver: "overlay",
      attachable: true,
      driver_opts: { encrypted: "true" },
    });
    expect((stack["networks"] as Mapping)["data_internal"]).toEqual({
      driver: "overlay",
      internal: true,
      driver_opts: { encrypted: "true" },
    });
    expect(serviceIn(stack, "db")["networks"]).toEqual(["data_internal"]);
    expect(serviceIn(stack, "api")["networks"]).toEqual(["bids-net", "data_internal"]);
  });

  it("leaves out what swarm ignores: depends_on, restart, security_opt", () => {
    const stack = stackOf(generateExample("bids-flux"));
    for (const name of ["db", "api", "pipeline"]) {
      for (const key of ["depends_on", "restart", "security_opt", "privileged"])
        expect(serviceIn(stack, name)[key], `${name}.${key}`).toBeUndefined();
      expect(serviceIn(stack, name)["cap_drop"]).toEqual(["ALL"]);
    }
  });

  it("runs Mercure beside the stack on the overlay network, its port bound to the data server", () => {
    const mercure = parseCompose(contentOf(generateExample("bids-flux"), "compose.mercure.yaml")).data as Mapping;
    expect(mercure["name"]).toBe("bids-flux-mercure");
    expect(mercure["networks"]).toEqual({ "bids-net": { external: true, name: "bids-net" } });
    expect(serviceIn(mercure, "mercure")["ports"]).toEqual([
      { target: 3000, published: 3000, host_ip: "172.30.10.21", protocol: "tcp" },
    ]);
    expect(mercure["secrets"]).toEqual({
      "mercure-publisher-jwt": { file: "./secrets/mercure-publisher-jwt" },
      "mercure-subscriber-jwt": { file: "./secrets/mercure-subscriber-jwt" },
    });
  });

  it("rotates a secret so that the next stack deploy keeps the new value, and warns that the database keeps its own", () => {
    const deploy = contentOf(generateExample("bids-flux"), "DEPLOY.md");
    const rotation = deploy.slice(deploy.indexOf("To rotate a secret:"), deploy.indexOf("## Build"));
    const steps = [
      "docker secret create NAME-next -",
      "--secret-rm NAME --secret-add source=NAME-next,target=TARGET",
      "`docker secret rm NAME`",
      "`docker stack deploy` again",
      "`docker secret rm NAME-next`",
    ];
    const positions = steps.map((step) => rotation.indexOf(step));
    expect(positions.every((at) => at >= 0), JSON.stringify(steps.filter((_, i) => positions[i] === -1))).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(rotation).toMatch(/ALTER ROLE[^]*: `db-password`\./);
  });

  it("tells how to create the swarm, the secrets and deploy, and why Mercure is outside", () => {
    const deploy = contentOf(generateExample("bids-flux"), "DEPLOY.md");
    for (const line of [
      "docker swarm init --advertise-addr 172.30.10.21 --data-path-port 7789",
      "docker swarm join --advertise-addr 172.30.10.22 --token TOKEN 172.30.10.21:2377",
      "./create-secrets.sh",
      "./preflight.sh",
      "docker stack deploy --with-registry-auth --detach=false -c stack.yaml bids-flux",
      "docker compose -f compose.mercure.yaml --env-file env/prod.env up -d",
      "`mercure` cannot run as a swarm task",
      "docker stack services bids-flux",
      "docker service logs -f --tail=100 bids-flux_db",
    ]) {
      expect(deploy).toContain(line);
    }
  });

  it("docker's own loader reads the stack's values as written", async () => {
    const read = await dockerStackConfig(contentOf(generateExample("bids-flux"), "stack.yaml"), { IMAGE_TAG: "1.4.0" });
    if (!read) return expectClean({ tool: "docker", skipped: "docker CLI is not installed", findings: [] });
    expect(serviceIn(read, "api")["image"]).toBe("ghcr.io/bids-lab/bids-flux-api:1.4.0");
    expect(serviceIn(read, "api")["user"]).toBe("10001:10001");
    const descriptor = parse(readFileSync(join(import.meta.dirname, "..", "examples", "bids-flux", "deploy.yaml"), "utf8")) as {
      services: { api: { environment: Record<string, string> } };
    };
    expect((serviceIn(read, "api")["environment"] as Mapping)["MERCURE_URL"]).toBe(descriptor.services.api.environment["MERCURE_URL"]);
  });
});

const swarmBase = (services: Record<string, Mapping>, extra: Mapping = {}): Mapping => ({
  name: "sw",
  registry: { host: "ghcr.io", namespace: "lab" },
  nodes: {
    alpha: { address: "10.3.0.1", hostname: "alpha-host", manager: true, roles: ["data", "web"] },
    beta: { address: "10.3.0.2", hostname: "beta-host", roles: ["web"] },
    gamma: { address: "10.3.0.3", hostname: "gamma-host", roles: ["batch"] },
  },
  services,
  networks: { mesh: { attachable: true } },
  targets: { swarm: { network: "mesh" } },
  ...extra,
});

const image = "nginxinc/nginx-unprivileged:1.27-alpine";

describe("what swarm cannot do is refused at validation", () => {
  it("refuses GPU devices in swarm, and runs a GPU service beside the stack with swarm: false", async () => {
    const refused = generate(swarmBase({ trainer: { image, gpu: { count: 1 } } }));
    expect(refused.problems.map((p) => p.pointer)).toEqual(["/services/trainer/gpu"]);
    expect(refused.problems[0]?.message).toMatch(/swarm does not support GPU device reservations/);
    const beside = generate(
      swarmBase({
        trainer: { image, gpu: { count: 1 }, swarm: false, roles: ["batch"] },
        web: { image, roles: ["web"] },
      }),
    );
    expect(beside.problems).toEqual([]);
    await expectFilesPass(beside, "gpu beside");
    expect(
      serviceIn(parseCompose(contentOf(beside, "compose.trainer.yaml")).data as Mapping, "trainer")["deploy"],
    ).toEqual({
      resources: { reservations: { devices: [{ driver: "nvidia", count: 1, capabilities: ["gpu"] }] } },
    });
    expect(Object.keys(stackOf(beside)["services"] as Mapping)).toEqual(["web"]);
  });

  it("refuses the host user, 127.0.0.1 ports, bound addresses, privileged services and relative writable paths", () => {
    const problems = generate(
      swarmBase({
        app: {
          image,
          user: "host",
          privileged: true,
          ports: [
            { port: 80, exposure: "local" },
            { port: 81, exposure: "cluster", address: "10.3.0.1" },
          ],
          mounts: [{ hostPath: "./data", target: "/data" }],
        },
      }),
    ).problems;
    expect(problems.map((p) => p.pointer).sort()).toEqual([
      "/services/app/mounts/0/hostPath",
      "/services/app/ports/0/exposure",
      "/services/app/ports/1/address",
      "/services/app/privileged",
      "/services/app/user",
    ]);
  });

  it("needs a hostname to pin a service to one node", () => {
    const unnamed = swarmBase({ app: { image, roles: ["batch"] } });
    delete ((unnamed["nodes"] as Record<string, Mapping>)["gamma"] as Mapping)["hostname"];
    expect(generate(unnamed).problems.map((p) => `${p.pointer} ${p.message}`)).toEqual([
      "/nodes/gamma/hostname is needed: swarm places app by node hostnames",
    ]);
  });

  it("needs the overlay network attachable when a container outside the stack joins it", () => {
    const closed = swarmBase(
      { web: { image, roles: ["web"] }, hub: { image, swarm: false, roles: ["batch"] } },
      { networks: { mesh: {} } },
    );
    expect(generate(closed).problems.map((p) => p.pointer)).toEqual(["/networks/mesh/attachable"]);
  });
});

describe("placement, configs and environments", () => {
  it("places by role label, by excluded hostnames, or anywhere", async () => {
    const generated = generate(
      swarmBase({
        web: { image, roles: ["web"], replicas: 3 },
        pair: { image, placement: { nodes: ["alpha", "gamma"] } },
        everywhere: { image },
      }),
    );
    expect(generated.problems).toEqual([]);
    await expectFilesPass(generated, "placement", { scripts: false });
    const stack = stackOf(generated);
    expect((serviceIn(stack, "web")["deploy"] as Mapping)["placement"]).toEqual({
      constraints: ["node.labels.role.web == true"],
    });
    expect((serviceIn(stack, "pair")["deploy"] as Mapping)["placement"]).toEqual({
      constraints: ["node.hostname != beta-host"],
    });
    expect((serviceIn(stack, "everywhere")["deploy"] as Mapping)["placement"]).toBeUndefined();
    const deploy = contentOf(generated, "DEPLOY.md");
    expect(deploy).toContain("docker node update --label-add role.web=true alpha-host");
    expect(deploy).toContain("docker node update --label-add role.web=true beta-host");
    expect(contentOf(generated, "preflight.sh")).toContain("--filter node.label=role.web=true");
  });

  it("ships a relative read-only file as a swarm config, and tmpfs as a mount", async () => {
    const generated = generate(
      swarmBase({
        proxy: {
          image,
          roles: ["web"],
          readOnly: true,
          tmpfs: ["/tmp"],
          mounts: [{ hostPath: "./conf/site $1.conf", target: "/etc/nginx/conf.d/site.conf", readOnly: true }],
        },
      }),
    );
    expect(generated.problems).toEqual([]);
    const stack = stackOf(generated);
    expect(stack["configs"]).toEqual({ "conf-site-1-conf": { file: "./conf/site $$1.conf" } });
    expect(serviceIn(stack, "proxy")["configs"]).toEqual([
      { source: "conf-site-1-conf", target: "/etc/nginx/conf.d/site.conf", mode: 0o444 },
    ]);
    expect(serviceIn(stack, "proxy")["volumes"]).toEqual([{ type: "tmpfs", target: "/tmp" }]);
    expect(serviceIn(stack, "proxy")["read_only"]).toBe(true);
    expectClean(
      await checkSwarmStack(contentOf(generated, "stack.yaml"), { siblings: { "conf/site $1.conf": "server {}\n" } }),
    );
  });

  it("writes one stack per environment with that environment's values", async () => {
    const generated = generate(
      swarmBase(
        { api: { image, roles: ["web"], environment: { LOG_LEVEL: "info", GREETING: "cost: $5 #1" } } },
        { environments: { prod: { values: { LOG_LEVEL: "warning" } }, staging: { values: { LOG_LEVEL: "debug" } } } },
      ),
    );
    expect(generated.problems).toEqual([]);
    expect([...generated.files.keys()].filter((p) => p.startsWith("stack"))).toEqual([
      "stack.prod.yaml",
      "stack.staging.yaml",
    ]);
    for (const [environment, level] of [
      ["prod", "warning"],
      ["staging", "debug"],
    ] as const) {
      const env = serviceIn(stackOf(generated, `stack.${environment}.yaml`), "api")["environment"] as Record<
        string,
        string
      >;
      expect(interpolate(env["LOG_LEVEL"] ?? "", {})).toBe(level);
      expect(interpolate(env["GREETING"] ?? "", {})).toBe("cost: $5 #1");
    }
    expect(contentOf(generated, "DEPLOY.md")).toContain(
      "docker stack deploy --with-registry-auth --detach=false -c stack.staging.yaml sw",
    );
  });
});

describe("injection: the stack's literal values round-trip through docker's loader", () => {
  const values = NASTY.filter((v) => !/['\\]/.test(v));
  it("values and commands with $, quotes, #, spaces and unicode come back as written", async () => {
    const environment = Object.fromEntries(values.map((value, i) => [`V${i}`, value]));
    const generated = generate(
      swarmBase({ app: { image, roles: ["web"], environment, command: ["sh", "-c", ...values, "it's \\ok"] } }),
    );
    expect(generated.problems).toEqual([]);
    const read = await dockerStackConfig(contentOf(generated, "stack.yaml"));
    if (!read) return expectClean({ tool: "docker", skipped: "docker CLI is not installed", findings: [] });
    const app = serviceIn(read, "app");
    expect(app["command"]).toEqual(["sh", "-c", ...values, "it's \\ok"]);
    const env = app["environment"] as Record<string, string | null>;
    values.forEach((value, i) => expect(env[`V${i}`] ?? "", `V${i}`).toBe(value));
  });

  it("refuses a newline in a value, naming the field", () => {
    expect(generate(swarmBase({ app: { image, environment: { V: "a\nb" } } })).problems.map((p) => p.pointer)).toEqual([
      "/services/app/environment/V",
    ]);
  });
});

/** A stand-in for the docker CLI on PATH: records calls, keeps secrets in a folder, answers inspections. */
class FakeDocker {
  readonly dir = mkdtempSync(join(tmpdir(), "create-deploy-fake-docker-"));
  readonly bin = join(this.dir, "bin");
  readonly store = join(this.dir, "secrets");

  constructor() {
    mkdirSync(this.bin);
    mkdirSync(this.store);
    writeFileSync(
      join(this.bin, "docker"),
      [
        "#!/usr/bin/env bash",
        'printf "%s\\n" "$*" >>"$FAKE_DOCKER/calls"',
        'case "$1 $2" in',
        '  "info --format") case "$3" in *LocalNodeState*) echo "${FAKE_STATE:-active}" ;; *) echo "${FAKE_MANAGER:-true}" ;; esac ;;',
        '  "secret inspect") [[ -e "$FAKE_DOCKER/secrets/$3" ]] ;;',
        '  "secret create") [[ ! -e "$FAKE_DOCKER/secrets/$3" ]] && cat >"$FAKE_DOCKER/secrets/$3" && echo id ;;',
        '  "network inspect") [[ -n "${FAKE_NETWORK:-}" ]] && echo "$FAKE_NETWORK" ;;',
        '  "node ls") echo node-id ;;',
        "  *) exit 1 ;;",
        "esac",
      ].join("\n"),
    );
    chmodSync(join(this.bin, "docker"), 0o755);
  }

  run(
    script: string,
    args: string[] = [],
    input = "",
    env: Record<string, string> = {},
  ): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync("bash", [script, ...args], {
      input,
      encoding: "utf8",
      env: { ...process.env, PATH: `${this.bin}:${process.env["PATH"] ?? ""}`, FAKE_DOCKER: this.dir, ...env },
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  secret(name: string): string {
    return readFileSync(join(this.store, name), "utf8");
  }

  calls(): string {
    try {
      return readFileSync(join(this.dir, "calls"), "utf8");
    } catch {
      return "";
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function writeOutput(generated: Generated, dir: string): void {
  for (const file of generated.files.values()) {
    mkdirSync(join(dir, file.path, ".."), { recursive: true });
    writeFileSync(join(dir, file.path), file.content);
  }
}

describe("create-secrets.sh against a stand-in docker", () => {
  let docker: FakeDocker;
  let out: string;
  beforeAll(() => {
    docker = new FakeDocker();
    out = mkdtempSync(join(tmpdir(), "create-deploy-swarm-out-"));
    writeOutput(generateExample("bids-flux"), out);
  });
  afterAll(() => {
    docker.remove();
    rmSync(out, { recursive: true, force: true });
  });

  it("creates each missing secret from stdin, prints each generated value once, and never replaces one", () => {
    writeFileSync(join(docker.store, "db-password"), "kept-value");
    const first = docker.run(join(out, "create-secrets.sh"));
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(docker.secret("db-password")).toBe("kept-value");
    expect(first.stdout).toContain("db-password: exists, kept");
    const key = docker.secret("api-secret-key");
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(first.stdout.split(key).length - 1).toBe(1);
    // Values travel on stdin, never on the command line where `ps` would show them.
    expect(docker.calls()).not.toContain(key);
    // Mercure (outside the swarm) reads the publisher key from a file: the same value, not printed twice.
    const jwt = docker.secret("mercure-publisher-jwt");
    expect(readFileSync(join(out, "secrets", "mercure-publisher-jwt"), "utf8")).toBe(jwt);
    expect(first.stdout.split(jwt).length - 1).toBe(1);
    const subscriber = readFileSync(join(out, "secrets", "mercure-subscriber-jwt"), "utf8");
    expect(subscriber).toMatch(/^[0-9a-f]{64}$/);
    expect(first.stdout).not.toContain(subscriber);

    const second = docker.run(join(out, "create-secrets.sh"));
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain(key);
    expect(docker.secret("api-secret-key")).toBe(key);
    expect(docker.calls().match(/^secret create api-secret-key -$/gm)).toHaveLength(1);
  });

  it("refuses to run anywhere but on a manager", () => {
    const run = docker.run(join(out, "create-secrets.sh"), [], "", { FAKE_MANAGER: "false" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Run this on a swarm manager");
  });

  it("reports a swarm secret whose file copy is missing instead of inventing a new value", () => {
    rmSync(join(out, "secrets", "mercure-publisher-jwt"));
    const run = docker.run(join(out, "create-secrets.sh"));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "mercure-publisher-jwt: exists in the swarm but secrets/mercure-publisher-jwt does not",
    );
  });
});

describe("preflight.sh against a stand-in docker", () => {
  it("checks this node's folders, swarm membership, the network, secrets and labels", () => {
    const docker = new FakeDocker();
    const data = mkdtempSync(join(tmpdir(), "create-deploy-data-"));
    const out = mkdtempSync(join(tmpdir(), "create-deploy-preflight-"));
    try {
      const present = join(data, "present dir $x");
      mkdirSync(present);
      const generated = generate(
        swarmBase(
          {
            web: {
              image,
              roles: ["web"],
              mounts: [{ hostPath: present, target: "/in", readOnly: true }],
              secrets: ["token"],
            },
            batch: {
              image,
              roles: ["batch"],
              user: "4242:4242",
              mounts: [{ hostPath: join(data, "missing"), target: "/out" }],
            },
          },
          { secrets: { token: {} } },
        ),
      );
      expect(generated.problems).toEqual([]);
      writeOutput(generated, out);
      const script = join(out, "preflight.sh");

      const alpha = docker.run(script, ["alpha"], "", { FAKE_NETWORK: "overlay true" });
      expect(alpha.stdout).toContain(`ok: ${present}`);
      expect(alpha.stderr).toContain("secret token does not exist: run ./create-secrets.sh");
      expect(alpha.code).toBe(1);
      writeFileSync(join(docker.store, "token"), "x");
      const ready = docker.run(script, ["alpha"], "", { FAKE_NETWORK: "overlay true" });
      expect(ready.stderr).toBe("");
      expect(ready.stdout).toContain("Ready.");

      const gamma = docker.run(script, ["gamma"], "", { FAKE_MANAGER: "false" });
      expect(gamma.stderr).toContain(`${join(data, "missing")} does not exist; batch mount it`);
      expect(gamma.code).toBe(1);
      expect(docker.run(script, ["alpha"], "", { FAKE_STATE: "inactive" }).stderr).toContain(
        "this host is not in a swarm",
      );
      expect(docker.run(script, ["alpha"], "", { FAKE_NETWORK: "bridge false" }).stderr).toContain(
        "must be an attachable overlay network",
      );
      expect(docker.run(script, ["nowhere"]).code).toBe(2);
    } finally {
      docker.remove();
      rmSync(data, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe("variations (property-based)", () => {
  it("any valid swarm deployment yields a stack docker accepts, compose files beside it and clean scripts", async () => {
    let scriptsChecked = 0;
    await fc.assert(
      fc.asyncProperty(variationArb("swarm"), async (variation) => {
        const generated = generate(descriptorOf(variation));
        expect(generated.problems.map((p) => `${p.pointer}: ${p.message}`)).toEqual([]);
        const scripts = scriptsChecked < 4;
        scriptsChecked += 1;
        await expectFilesPass(generated, "variation", { scripts });
        for (const file of generated.files.values()) {
          if (file.kind !== "swarm-stack") continue;
          const stack = parseCompose(file.content).data as Mapping;
          for (const [name, entry] of Object.entries(stack["services"] as Record<string, Mapping>)) {
            expect(entry["depends_on"], name).toBeUndefined();
            expect(generated.descriptor?.services[name]?.gpu, name).toBeUndefined();
            const command = entry["command"] as string[] | undefined;
            expect(command?.map((a) => interpolate(a, {}))).toEqual(generated.descriptor?.services[name]?.command);
          }
        }
      }),
      { numRuns: 15 },
    );
  }, 180_000);
});

describe("the scripts stay runnable as generated", () => {
  it("are executable bash scripts with strict mode", () => {
    const bids = generateExample("bids-flux");
    for (const path of ["create-secrets.sh", "preflight.sh"]) {
      const content = contentOf(bids, path);
      expect(content.startsWith("#!/usr/bin/env bash\n")).toBe(true);
      expect(content).toContain("set -euo pipefail");
    }
    expect(execFileSync("bash", ["-n"], { input: contentOf(bids, "preflight.sh") }).toString()).toBe("");
  });
});
