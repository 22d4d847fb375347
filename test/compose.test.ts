// The compose kind: compose.yaml (and per-node overlays) valid alone and merged, the
// secure defaults, env-file interpolation that round-trips every value, the secrets
// script, and property-based variations of container deployments.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { envFileEntries } from "../src/model/derive.js";
import {
  checkBashSyntax,
  checkCompose,
  checkComposeMerge,
  checkPrettierClean,
  checkShellcheck,
  expectClean,
  mergeComposeFiles,
  parseCompose,
} from "./checkers/index.js";
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

function model(generated: Generated, ...paths: string[]): Mapping {
  const [first, ...rest] = paths.map((path) => parseCompose(contentOf(generated, path)).data);
  return mergeComposeFiles(first, rest) as Mapping;
}

function composeFiles(generated: Generated): string[] {
  return [...generated.files.values()].filter((f) => f.kind === "compose").map((f) => f.path);
}

/** Every compose file alone, each overlay merged with compose.yaml, the scripts, and prettier on YAML. */
async function expectFilesPass(
  generated: Generated,
  label: string,
  options: { scripts?: boolean } = {},
): Promise<void> {
  for (const file of generated.files.values()) {
    if (file.kind === "compose") {
      expectClean(await checkCompose(file.content), `${label} ${file.path}`);
      if (/^compose\.[^/]+\.yaml$/.test(file.path) && generated.files.has("compose.yaml")) {
        expectClean(
          await checkComposeMerge(contentOf(generated, "compose.yaml"), [file.content]),
          `${label} compose.yaml + ${file.path}`,
        );
      }
      expectClean(await checkPrettierClean(file.path, file.content), `${label} ${file.path}`);
    }
    if (file.path === "create-secrets.sh" && options.scripts !== false) {
      expectClean(await checkBashSyntax(file.content), `${label} ${file.path}`);
      expectClean(await checkShellcheck(file.content), `${label} ${file.path}`);
    }
  }
}

/** The environment compose would see: the env file of `environment`, read by dotenv, plus host variables. */
function envFileVariables(
  generated: Generated,
  environment: string,
  host: Record<string, string> = {},
): Record<string, string> {
  return { ...parseDotenv(contentOf(generated, `env/${environment}.env`)), ...host };
}

describe("compose files of the examples", () => {
  it("genui: a base file and one overlay per node, each valid alone and merged", async () => {
    const genui = generateExample("genui");
    expect(composeFiles(genui).sort()).toEqual(["compose.gpu-node.yaml", "compose.main.yaml", "compose.yaml"]);
    await expectFilesPass(genui, "genui");
  });

  it("mlops-api: one compose file, its public port bound to 0.0.0.0", async () => {
    const mlops = generateExample("mlops-api");
    expect(composeFiles(mlops)).toEqual(["compose.yaml"]);
    await expectFilesPass(mlops, "mlops-api");
    const api = serviceIn(model(mlops, "compose.yaml"), "api");
    expect(api["ports"]).toEqual([{ target: 8080, published: 8080, host_ip: "0.0.0.0", protocol: "tcp" }]);
    expect(api["read_only"]).toBe(true);
    expect(api["tmpfs"]).toEqual(["/tmp"]);
  });

  it("genui base: services reach each other by name and publish nothing", () => {
    const base = model(generateExample("genui"), "compose.yaml");
    for (const [name, service] of Object.entries(base["services"] as Record<string, Mapping>)) {
      expect(service["ports"], name).toBeUndefined();
    }
    const env = serviceIn(base, "worker-gpu")["environment"] as Mapping;
    expect(env["DATABASE_HOST"]).toBe("db");
    expect(env["REDIS_HOST"]).toBe("redis");
  });

  it("genui main node: PostgreSQL and Redis published on the node's address only, nginx on every address", () => {
    const main = model(generateExample("genui"), "compose.yaml", "compose.main.yaml");
    expect(serviceIn(main, "db")["ports"]).toEqual([
      { target: 5432, published: 5432, host_ip: "192.168.50.10", protocol: "tcp" },
    ]);
    expect(serviceIn(main, "redis")["ports"]).toEqual([
      { target: 6379, published: 6379, host_ip: "192.168.50.10", protocol: "tcp" },
    ]);
    expect(
      (serviceIn(main, "nginx")["ports"] as Mapping[]).map((p) => `${String(p["host_ip"])}:${String(p["published"])}`),
    ).toEqual(["0.0.0.0:80", "0.0.0.0:443"]);
    // Docker publishes no port of a container that is only on an internal network.
    expect(Object.keys(serviceIn(main, "db")["networks"] as Mapping)).toEqual(["backend", "host_access"]);
    expect((main["networks"] as Mapping)["backend"]).toMatchObject({ internal: true });
  });

  it("genui GPU node: the worker reaches PostgreSQL and Redis at the main node's address and reserves a GPU", () => {
    const gpu = model(generateExample("genui"), "compose.yaml", "compose.gpu-node.yaml");
    const worker = serviceIn(gpu, "worker-gpu");
    expect(worker["environment"]).toMatchObject({ DATABASE_HOST: "192.168.50.10", REDIS_HOST: "192.168.50.10" });
    expect(worker["deploy"]).toEqual({
      resources: { reservations: { devices: [{ driver: "nvidia", count: 1, capabilities: ["gpu"] }] } },
    });
    expect((gpu["networks"] as Mapping)["host_access"]).toEqual({
      driver_opts: { "com.docker.network.driver.mtu": "1450" },
    });
  });

  it("genui: secure defaults, health-gated dependencies, restart policy, MTU and the NFS volume", () => {
    const base = model(generateExample("genui"), "compose.yaml");
    for (const [name, service] of Object.entries(base["services"] as Record<string, Mapping>)) {
      expect(service["security_opt"], name).toEqual(["no-new-privileges:true"]);
      expect(service["cap_drop"], name).toEqual(["ALL"]);
      expect(service["restart"], name).toBe("unless-stopped");
    }
    expect(serviceIn(base, "web")["depends_on"]).toEqual({
      db: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
    });
    expect(serviceIn(base, "nginx")).toMatchObject({ read_only: true, tmpfs: ["/tmp"] });
    expect((serviceIn(base, "nginx")["volumes"] as Mapping[])[0]).toEqual({
      type: "bind",
      source: "./nginx/default.conf",
      target: "/etc/nginx/conf.d/default.conf",
      read_only: true,
    });
    expect((base["networks"] as Mapping)["frontend"]).toEqual({
      driver_opts: { "com.docker.network.driver.mtu": "1450" },
    });
    expect((base["volumes"] as Mapping)["shared-data"]).toEqual({
      driver: "local",
      driver_opts: { type: "nfs", o: "addr=192.168.50.5,rw,nfsvers=4.1", device: ":/export/genui" },
    });
  });

  it("genui: the workers turn off the web image's HTTP probe, which would find no server in them", () => {
    const base = model(generateExample("genui"), "compose.yaml");
    expect(serviceIn(base, "worker")["healthcheck"]).toEqual({ disable: true });
    expect(serviceIn(base, "worker-gpu")["healthcheck"]).toEqual({ disable: true });
    expect((serviceIn(base, "web")["healthcheck"] as Mapping)["test"]).toContain("CMD");
  });

  it("genui: user mapping, secrets as files and their _FILE variables", () => {
    const base = model(generateExample("genui"), "compose.yaml");
    const web = serviceIn(base, "web");
    expect(web["user"]).toBe("${HOST_UID?set it in the env file}:${HOST_GID?set it in the env file}");
    expect(web["secrets"]).toEqual(["django-secret-key", "postgres-password", "redis-password"]);
    expect(web["environment"]).toMatchObject({ DJANGO_SECRET_KEY_FILE: "/run/secrets/django-secret-key" });
    expect(base["secrets"]).toEqual({
      "django-secret-key": { file: "./secrets/django-secret-key" },
      "postgres-password": { file: "./secrets/postgres-password" },
      "redis-password": { file: "./secrets/redis-password" },
    });
  });

  it("genui: each env file selects its profile, and every variable of every service resolves from it", () => {
    const genui = generateExample("genui");
    const base = model(genui, "compose.yaml");
    for (const environment of ["prod", "debug", "quickstart"]) {
      const variables = envFileVariables(genui, environment);
      const web = serviceIn(base, "web");
      const env = Object.fromEntries(
        Object.entries(web["environment"] as Record<string, string>).map(([k, v]) => [k, interpolate(v, variables)]),
      );
      expect(env["DJANGO_SETTINGS_MODULE"]).toBe(`genui.settings.${environment}`);
      expect(interpolate(String(web["user"]), variables)).toBe("1000:1000");
      expect(interpolate(String(web["image"]), variables)).toBe("ghcr.io/genui-lab/genui-web:latest");
      expect(interpolate(String(web["image"]), { ...variables, IMAGE_TAG: "1.4.0" })).toBe(
        "ghcr.io/genui-lab/genui-web:1.4.0",
      );
    }
    // Without an env file, compose stops instead of starting with empty values.
    expect(() => interpolate(String((serviceIn(base, "web")["environment"] as Mapping)["DJANGO_DEBUG"]), {})).toThrow(
      /DJANGO_DEBUG/,
    );
  });

  it("genui: `$` in commands is escaped, so the shell inside the container sees it", () => {
    const redis = serviceIn(model(generateExample("genui"), "compose.yaml"), "redis");
    const command = (redis["command"] as string[]).map((arg) => interpolate(arg, {}));
    expect(command).toEqual([
      "sh",
      "-c",
      'exec redis-server --appendonly yes --requirepass "$(cat /run/secrets/redis-password)"',
    ]);
  });
});

const node = (address: string, roles: string[]): Mapping => ({ address, roles });

describe("overlays across nodes", () => {
  const split = {
    name: "split",
    nodes: { front: node("10.1.0.1", ["web"]), back: node("10.1.0.2", ["db"]) },
    services: {
      db: {
        type: "database",
        image: "postgres:16.4-bookworm",
        roles: ["db"],
        ports: [{ port: 5432, exposure: "cluster" }],
        healthcheck: { command: ["pg_isready"] },
      },
      cache: {
        type: "cache",
        image: "redis:7.4-alpine",
        roles: ["web"],
        healthcheck: { command: ["redis-cli", "ping"] },
        ports: [{ port: 6379 }],
      },
      web: {
        image: "nginxinc/nginx-unprivileged:1.27-alpine",
        roles: ["web"],
        ports: [
          { port: 8080, published: 80, exposure: "public" },
          { port: 9000, exposure: "local" },
        ],
        environment: { DB: { hostOf: "db" }, CACHE: { hostOf: "cache" } },
        dependsOn: [
          { service: "db", condition: "healthy" },
          { service: "cache", condition: "healthy" },
        ],
      },
    },
    targets: { compose: { overlays: "nodes" } },
  };

  it("drops a dependency on another node's service with !override, keeping the local ones", async () => {
    const generated = generate(split);
    expect(generated.problems).toEqual([]);
    await expectFilesPass(generated, "split");
    expect(contentOf(generated, "compose.front.yaml")).toContain("depends_on: !override");
    const front = model(generated, "compose.yaml", "compose.front.yaml");
    expect(serviceIn(front, "web")["depends_on"]).toEqual({ cache: { condition: "service_healthy" } });
    expect(serviceIn(front, "web")["environment"]).toMatchObject({ DB: "10.1.0.2", CACHE: "cache" });
    expect(serviceIn(front, "web")["ports"]).toEqual([
      { target: 8080, published: 80, host_ip: "0.0.0.0", protocol: "tcp" },
      { target: 9000, published: 9000, host_ip: "127.0.0.1", protocol: "tcp" },
    ]);
    // The base alone keeps every dependency: on one machine the whole set starts in order.
    expect(Object.keys(serviceIn(model(generated, "compose.yaml"), "web")["depends_on"] as Mapping)).toEqual([
      "db",
      "cache",
    ]);
  });

  it("resets depends_on when every dependency runs elsewhere", () => {
    const alone = structuredClone(split) as Mapping & { services: Record<string, Mapping> };
    alone.services["web"] = {
      ...alone.services["web"],
      dependsOn: [{ service: "db", condition: "healthy" }],
      environment: { DB: { hostOf: "db" } },
    };
    const generated = generate(alone);
    expect(contentOf(generated, "compose.front.yaml")).toContain("depends_on: !reset {}");
    expect(serviceIn(model(generated, "compose.yaml", "compose.front.yaml"), "web")["depends_on"]).toBeUndefined();
  });

  it("names the deploy command of each node with the node's services only", () => {
    const generated = generate(split);
    expect(contentOf(generated, "compose.back.yaml")).toContain(
      "docker compose -f compose.yaml -f compose.back.yaml --env-file env/default.env up -d db",
    );
    expect(contentOf(generated, "DEPLOY.md")).toContain(
      "docker compose -f compose.yaml -f compose.front.yaml --env-file env/default.env up -d cache web",
    );
  });

  it("refuses a reference to a service on another node that publishes nothing to the cluster", () => {
    const hidden = structuredClone(split) as Mapping & { services: Record<string, Mapping> };
    hidden.services["db"] = { ...hidden.services["db"], ports: [{ port: 5432, exposure: "local" }] };
    const problems = generate(hidden).problems;
    expect(problems.map((p) => p.pointer)).toContain("/services/web/environment/DB/hostOf");
    expect(problems.find((p) => p.pointer === "/services/web/environment/DB/hostOf")?.message).toMatch(
      /publishes no port with exposure cluster/,
    );
  });
});

describe("one compose file without overlays", () => {
  const single = (extra: Mapping = {}): Mapping => ({
    name: "single",
    services: {
      db: {
        type: "database",
        image: "postgres:16.4-bookworm",
        ports: [{ port: 5432, exposure: "local" }],
        healthcheck: { command: ["pg_isready"] },
      },
      app: {
        image: "nginxinc/nginx-unprivileged:1.27-alpine",
        ports: [{ port: 8080, exposure: "cluster", address: "10.2.0.5" }],
        dependsOn: ["db"],
      },
    },
    targets: { compose: {} },
    ...extra,
  });

  it("keeps a database without declared networks on an internal network, and still publishes its local port", async () => {
    const generated = generate(single());
    expect(generated.problems).toEqual([]);
    await expectFilesPass(generated, "single");
    const compose = model(generated, "compose.yaml");
    expect((compose["networks"] as Mapping)["data_internal"]).toEqual({ internal: true });
    expect(serviceIn(compose, "db")["networks"]).toEqual({ host_access: { priority: 100 }, data_internal: {} });
    expect(serviceIn(compose, "db")["ports"]).toEqual([
      { target: 5432, published: 5432, host_ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(serviceIn(compose, "app")["networks"]).toEqual(["default", "data_internal"]);
    expect(serviceIn(compose, "app")["ports"]).toEqual([
      { target: 8080, published: 8080, host_ip: "10.2.0.5", protocol: "tcp" },
    ]);
    expect(serviceIn(compose, "app")["depends_on"]).toEqual({ db: { condition: "service_started" } });
  });

  it("refuses a cluster port with no address to bind to", () => {
    const bare = single();
    (bare["services"] as Record<string, Mapping>)["app"] = {
      image: "nginxinc/nginx-unprivileged:1.27-alpine",
      ports: [{ port: 8080, exposure: "cluster" }],
    };
    const problem = generate(bare).problems.find((p) => p.pointer === "/services/app/ports/0/exposure");
    expect(problem?.message).toMatch(/no single such node/);
  });

  it("refuses an HTTP probe in an image it does not build, and writes one with the interpreter of a built image", () => {
    const probed = single();
    (probed["services"] as Record<string, Mapping>)["app"] = {
      image: "nginxinc/nginx-unprivileged:1.27-alpine",
      ports: [{ port: 8080 }],
      healthcheck: { http: { path: "/health", port: 8080 } },
    };
    expect(generate(probed).problems.map((p) => p.pointer)).toEqual(["/services/app/healthcheck/http"]);
    (probed["services"] as Record<string, Mapping>)["app"] = {
      build: { runtime: "python", command: ["python", "-m", "app"] },
      ports: [{ port: 8080 }],
      healthcheck: { http: { path: "/h?a=$b", port: 8080 } },
    };
    const test = (serviceIn(model(generate(probed), "compose.yaml"), "app")["healthcheck"] as Mapping)[
      "test"
    ] as string[];
    expect(test.slice(0, 3)).toEqual(["CMD", "python", "-c"]);
    expect(interpolate(test[3] ?? "", {})).toContain('"http://127.0.0.1:8080/h?a=$b"');
  });

  it("writes a host variable with its default literally, and refuses a default compose cannot hold", () => {
    const hosted = single();
    (hosted["services"] as Record<string, Mapping>)["app"] = {
      image: "nginxinc/nginx-unprivileged:1.27-alpine",
      environment: { DATA: { fromHost: "DATA_ROOT", default: "/srv/my data" }, MODE: { fromHost: "MODE" } },
    };
    const env = serviceIn(model(generate(hosted), "compose.yaml"), "app")["environment"] as Record<string, string>;
    expect(env["DATA"]).toBe("${DATA_ROOT:-/srv/my data}");
    expect(interpolate(env["DATA"] ?? "", {})).toBe("/srv/my data");
    expect(interpolate(env["DATA"] ?? "", { DATA_ROOT: "/x" })).toBe("/x");
    expect(() => interpolate(env["MODE"] ?? "", {})).toThrow(/MODE/);
    (hosted["services"] as Record<string, Mapping>)["app"] = {
      image: "nginxinc/nginx-unprivileged:1.27-alpine",
      environment: { DATA: { fromHost: "DATA_ROOT", default: "a$b}" } },
    };
    expect(generate(hosted).problems.map((p) => p.pointer)).toEqual(["/services/app/environment/DATA/default"]);
  });

  it("marks a job's restart policy as the string no, which YAML 1.1 would read as false", () => {
    const job = single();
    (job["services"] as Record<string, Mapping>)["app"] = {
      type: "job",
      image: "nginxinc/nginx-unprivileged:1.27-alpine",
    };
    expect(contentOf(generate(job), "compose.yaml")).toContain('restart: "no"');
  });

  it("adds capabilities after dropping them all, and a privileged service keeps no cap_drop", () => {
    const caps = single();
    (caps["services"] as Record<string, Mapping>)["app"] = {
      image: "nginxinc/nginx-unprivileged:1.27-alpine",
      capAdd: ["CAP_NET_BIND_SERVICE", "CHOWN"],
    };
    expect(serviceIn(model(generate(caps), "compose.yaml"), "app")).toMatchObject({
      cap_drop: ["ALL"],
      cap_add: ["NET_BIND_SERVICE", "CHOWN"],
    });
    (caps["services"] as Record<string, Mapping>)["app"] = {
      image: "nginxinc/nginx-unprivileged:1.27-alpine",
      privileged: true,
    };
    const privileged = serviceIn(model(generate(caps), "compose.yaml"), "app");
    expect(privileged["privileged"]).toBe(true);
    expect(privileged["cap_drop"]).toBeUndefined();
  });

  it("reserves GPUs by device id", () => {
    const gpu = single();
    (gpu["services"] as Record<string, Mapping>)["app"] = {
      image: "nginxinc/nginx-unprivileged:1.27-alpine",
      gpu: { deviceIds: ["0", "GPU-3a"], capabilities: ["gpu", "utility"] },
    };
    expect(serviceIn(model(generate(gpu), "compose.yaml"), "app")["deploy"]).toEqual({
      resources: {
        reservations: {
          devices: [{ driver: "nvidia", device_ids: ["0", "GPU-3a"], capabilities: ["gpu", "utility"] }],
        },
      },
    });
  });
});

describe("injection: values and commands come out inert and round-trip", () => {
  const withValue = (value: string, command: string[] = ["run"]): Mapping => ({
    name: "inject",
    services: {
      app: {
        image: "nginxinc/nginx-unprivileged:1.27-alpine",
        command,
        environment: { VALUE: value },
        mounts: [{ hostPath: `/srv/${value.replace(/\//g, "")}x`, target: "/in" }],
      },
    },
    environments: { prod: {} },
    targets: { compose: {} },
  });

  for (const value of NASTY.filter((v) => !/['\\]/.test(v))) {
    it(`round-trips ${JSON.stringify(value)}`, async () => {
      const generated = generate(withValue(value, ["sh", "-c", value, value]));
      expect(generated.problems).toEqual([]);
      expectClean(await checkCompose(contentOf(generated, "compose.yaml")));
      const app = serviceIn(model(generated, "compose.yaml"), "app");
      const variables = envFileVariables(generated, "prod");
      expect(interpolate((app["environment"] as Record<string, string>)["VALUE"] ?? "", variables)).toBe(value);
      expect((app["command"] as string[]).map((arg) => interpolate(arg, variables))).toEqual([
        "sh",
        "-c",
        value,
        value,
      ]);
      const mount = (app["volumes"] as Mapping[])[0] ?? {};
      expect(interpolate(String(mount["source"]), {})).toBe(`/srv/${value.replace(/\//g, "")}x`);
    });
  }

  it("refuses a newline in a value or a command, naming the field", () => {
    expect(generate(withValue("a\nb")).problems.map((p) => p.pointer)).toEqual([
      "/services/app/environment/VALUE",
      "/services/app/mounts/0/hostPath",
    ]);
    expect(generate(withValue("ok", ["sh", "-c", "echo\nrm"])).problems.map((p) => p.pointer)).toEqual([
      "/services/app/command/2",
    ]);
  });

  it("refuses a quote or backslash in an env value (they go to secrets), but writes them in commands", () => {
    expect(generate(withValue("it's")).problems.map((p) => p.pointer)).toEqual(["/services/app/environment/VALUE"]);
    const generated = generate(withValue("ok", ["printf", "it's \\n $x"]));
    const app = serviceIn(model(generated, "compose.yaml"), "app");
    expect((app["command"] as string[]).map((a) => interpolate(a, {}))).toEqual(["printf", "it's \\n $x"]);
  });
});

describe("the secrets script", () => {
  const secretive: Mapping = {
    name: "secretive",
    services: {
      app: {
        image: "nginxinc/nginx-unprivileged:1.27-alpine",
        secrets: ["api-key", "hex-token", "asked", { source: "url-token", target: "/etc/app/token" }],
      },
    },
    secrets: {
      "api-key": { description: "Key with a `backtick` and $dollar", env: "API_KEY" },
      "hex-token": { generate: { length: 40, charset: "hex" } },
      "url-token": { generate: { length: 20, charset: "base64" } },
      asked: { generate: false },
    },
    targets: { compose: {} },
  };

  function runScript(dir: string, input: string): string {
    return execFileSync("bash", [join(dir, "create-secrets.sh")], {
      input,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
  }

  function writeOutput(generated: Generated, dir: string): void {
    for (const file of generated.files.values()) {
      mkdirSync(join(dir, file.path, ".."), { recursive: true });
      writeFileSync(join(dir, file.path), file.content);
      if (file.executable) chmodSync(join(dir, file.path), 0o755);
    }
  }

  it("creates each missing file from random bytes or stdin, never overwrites one, and git ignores them all", () => {
    const generated = generate(secretive);
    expect(generated.problems).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), "create-deploy-secrets-"));
    try {
      writeOutput(generated, dir);
      const output = runScript(dir, "typed value with $ and 'quote'\n");
      const read = (name: string): string => readFileSync(join(dir, "secrets", name), "utf8");
      expect(read("api-key")).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(read("hex-token")).toMatch(/^[0-9a-f]{40}$/);
      expect(read("url-token")).toMatch(/^[A-Za-z0-9_-]{20}$/);
      expect(read("asked")).toBe("typed value with $ and 'quote'");
      expect(statSync(join(dir, "secrets")).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, "secrets", "api-key")).mode & 0o777).toBe(0o444);
      // Files keep their values in place, so the script prints none of them.
      for (const name of ["api-key", "hex-token", "url-token", "asked"]) expect(output).not.toContain(read(name));

      const before = Object.fromEntries(["api-key", "hex-token", "url-token", "asked"].map((n) => [n, read(n)]));
      const again = runScript(dir, "");
      expect(again).toContain("api-key: exists, kept");
      for (const [name, value] of Object.entries(before)) expect(read(name)).toBe(value);

      // No generated file holds a secret value, even when generated again with the values on disk.
      const regenerated = generate(secretive);
      for (const file of regenerated.files.values()) {
        for (const value of Object.values(before)) expect(file.content, file.path).not.toContain(value);
      }
      execFileSync("git", ["init", "-q", dir]);
      execFileSync("git", ["-C", dir, "add", "-A"]);
      const tracked = execFileSync("git", ["-C", dir, "ls-files"], { encoding: "utf8" }).split("\n").filter(Boolean);
      expect(tracked.filter((path) => path.startsWith("secrets/"))).toEqual(["secrets/.gitignore"]);
      expect(readdirSync(join(dir, "secrets")).sort()).toEqual([
        ".gitignore",
        "api-key",
        "asked",
        "hex-token",
        "url-token",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stops when a value to ask for is not given", () => {
    const dir = mkdtempSync(join(tmpdir(), "create-deploy-secrets-"));
    try {
      writeOutput(generate(secretive), dir);
      expect(() => runScript(dir, "")).toThrow(/No value given for asked/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the secret files through targets the services see as <ENV>_FILE", () => {
    const app = serviceIn(model(generate(secretive), "compose.yaml"), "app");
    expect(app["environment"]).toEqual({
      API_KEY_FILE: "/run/secrets/api-key",
      HEX_TOKEN_FILE: "/run/secrets/hex-token",
      ASKED_FILE: "/run/secrets/asked",
      URL_TOKEN_FILE: "/etc/app/token",
    });
    expect(app["secrets"]).toEqual([
      "api-key",
      "hex-token",
      "asked",
      { source: "url-token", target: "/etc/app/token" },
    ]);
  });
});

describe("variations (property-based)", () => {
  it("any valid container deployment yields compose files that pass the compose schema, merged too", async () => {
    // The secrets script differs between variations only in its list of calls: shellcheck a few.
    let scriptsChecked = 0;
    await fc.assert(
      fc.asyncProperty(variationArb("compose"), async (variation) => {
        const generated = generate(descriptorOf(variation));
        expect(generated.problems.map((p) => `${p.pointer}: ${p.message}`)).toEqual([]);
        const scripts = generated.files.has("create-secrets.sh") && scriptsChecked < 5;
        if (scripts) scriptsChecked += 1;
        await expectFilesPass(generated, "variation", { scripts });
        const environment = Object.keys(generated.descriptor?.environments ?? {})[0] ?? "default";
        const variables = envFileVariables(generated, environment);
        const base = model(generated, "compose.yaml");
        for (const [name, service] of Object.entries(base["services"] as Record<string, Mapping>)) {
          const declared = generated.descriptor?.services[name];
          expect(service["security_opt"]).toEqual(["no-new-privileges:true"]);
          expect(
            service["command"] === undefined
              ? undefined
              : (service["command"] as string[]).map((a) => interpolate(a, {})),
          ).toEqual(declared?.command);
          const expected = Object.fromEntries(
            (envFileEntries(generated.descriptor!, environment) as Array<[string, string]>).filter(
              ([key]) => key in (declared?.environment ?? {}),
            ),
          );
          const resolved = Object.fromEntries(
            Object.entries((service["environment"] as Record<string, string> | undefined) ?? {})
              .filter(([key]) => key in expected)
              .map(([key, value]) => [key, interpolate(value, variables)]),
          );
          expect(resolved).toEqual(expected);
        }
        for (const path of composeFiles(generated)) {
          for (const service of Object.values((model(generated, path)["services"] as Record<string, Mapping>) ?? {})) {
            for (const port of (service["ports"] as Mapping[] | undefined) ?? [])
              expect(typeof port["host_ip"]).toBe("string");
          }
        }
      }),
      { numRuns: 20 },
    );
  }, 180_000);
});
