// Whole deploy.yaml descriptors as plain objects, for end-to-end properties. Every field of
// the language appears somewhere, with values chosen to be awkward in the files they reach
// (`$`, quotes, `#`, `%`, `;`, `$()`, spaces, unicode). The shape follows the cross-field
// rules (names refer to declared things, ports are unique, each service fits the place it
// runs in) so that most descriptors are accepted; the rest exercise refusals.
import fc from "fast-check";

type Plain = Record<string, unknown>;

export type ContainerMode = "none" | "compose" | "swarm";

export interface DescriptorPlan {
  mode: ContainerMode;
  systemd: boolean;
  overlays: "nodes" | "none";
  firewall: "firewalld" | "ufw" | "nftables" | undefined;
  github: boolean;
  docker: boolean;
  docs: boolean;
  nodeCount: number;
  serviceCount: number;
}

/** The identifier grammar ^[a-z][a-z0-9-]{0,62}$, short names most of the time. */
export function identifierArb(maxTail = 12): fc.Arbitrary<string> {
  // Building a regex-driven arbitrary is costly; chained arbitraries ask for the same few often.
  const cached = identifiers.get(maxTail);
  if (cached) return cached;
  const created = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(new RegExp(`^[a-z][a-z0-9]{0,${maxTail}}$`)) },
    { weight: 2, arbitrary: fc.stringMatching(new RegExp(`^[a-z][a-z0-9-]{0,${maxTail}}$`)) },
    { weight: 1, arbitrary: fc.constant("a") },
  );
  identifiers.set(maxTail, created);
  return created;
}

const identifiers = new Map<number, fc.Arbitrary<string>>();

/** Pieces that are awkward in shell, systemd, dotenv, compose, YAML, Markdown and Dockerfiles. */
const AWKWARD_PIECES = [
  "a", "Z", "0", "9", " ", "  ", "$", "$HOME", "${X}", "$$", "$()", "$(id)", "`id`", '"', "#", "%", "%n", "%%", ";", "&&", "|",
  "{", "}", "[", "]", "*", "?", "!", "~", "^", "<", ">", "=", ":", ": ", "- ", "/", "@", ",", "&", "*x", "é", "日本", "😀", "ß", "\u00a0",
  "true", "null", "0x1F", "---", "...", "{{x}}", "${{ secrets.X }}", "-- ", "_", ".", "'",
];
const DOTENV_UNSAFE = /['\\]/;

/** One line of text built from awkward pieces (never ' or \, which env files refuse by design). */
export function awkwardTextArb(maxPieces = 6): fc.Arbitrary<string> {
  return fc
    .array(fc.constantFrom(...AWKWARD_PIECES), { minLength: 0, maxLength: maxPieces })
    .map((pieces) => pieces.join("").replace(DOTENV_UNSAFE, "x"));
}

const scalarArb: fc.Arbitrary<string | number | boolean> = fc.oneof(
  { weight: 6, arbitrary: awkwardTextArb() },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 100000 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, 1e3, 3.25) },
  { weight: 1, arbitrary: fc.boolean() },
);

const secretEnvArb = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/).map((key) => `SECRET_${key}`);

const envKeyArb = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).map((key) => `APP_${key}`);

const durationArb = fc.constantFrom("5s", "30s", "1m30s", "500ms", "2m", "1h", "10s");

const pinnedImageArb = fc.constantFrom(
  "postgres:16.4-bookworm",
  "redis:7.4-alpine",
  "nginxinc/nginx-unprivileged:1.27-alpine",
  "ghcr.io/example/tool:1.2.3",
  "registry.example.org:5000/team/app:2024.01",
  "quay.io/org/img:v1@sha256:" + "a".repeat(64),
  "busybox:1.36",
);

const argArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("--port", "8000", "-c", "app.main:app", "--log-level=info") }, { weight: 2, arbitrary: awkwardTextArb(4) });

function argvArb(program: fc.Arbitrary<string>): fc.Arbitrary<string[]> {
  return fc.tuple(program, fc.array(argArb, { maxLength: 4 })).map(([p, rest]) => [p, ...rest]);
}

function optional<T>(arb: fc.Arbitrary<T>, freq = 2): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq });
}

/** Drops undefined entries, so the YAML holds only what the descriptor says. */
function compact(value: Plain): Plain {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

const planArb: fc.Arbitrary<DescriptorPlan> = fc
  .record({
    mode: fc.constantFrom<ContainerMode>("compose", "compose", "swarm", "none"),
    systemd: fc.boolean(),
    overlays: fc.constantFrom<"nodes" | "none">("nodes", "none"),
    firewall: fc.constantFrom<DescriptorPlan["firewall"]>("firewalld", "ufw", "nftables", undefined),
    github: fc.boolean(),
    docker: fc.boolean(),
    docs: fc.boolean(),
    nodeCount: fc.integer({ min: 0, max: 3 }),
    serviceCount: fc.integer({ min: 1, max: 5 }),
  })
  .map((plan) => {
    // Without a container mode the services run under systemd or are only built.
    const nodeCount = plan.mode === "swarm" || plan.overlays === "nodes" ? Math.max(plan.nodeCount, 1) : plan.nodeCount;
    return { ...plan, nodeCount, docker: plan.docker || plan.github };
  });

interface SourceChoice {
  source: Plain;
  builds: boolean;
  runtimeKind: string;
  dataStore: boolean;
  type: string;
}

type Runtime = "systemd" | "stack" | "compose" | "built";

interface ServiceDraft {
  name: string;
  runtime: Runtime;
  body: Plain;
  /** Container ports (for hostOf and health checks). */
  ports: number[];
  hasHealthcheck: boolean;
  builds: boolean;
  roles: string[];
}

const ROLE_POOL = ["web", "db", "worker", "edge"];

interface World {
  plan: DescriptorPlan;
  name: string;
  nodes: Array<{ name: string; address: string; hostname: string; roles: string[] }>;
  secrets: string[];
  volumes: string[];
  networks: string[];
  swarmNetwork: string;
  envPool: Array<[string, string | number | boolean]>;
  description: string | undefined;
}

function secretRefArb(world: World, runtime: Runtime): fc.Arbitrary<unknown[]> {
  if (world.secrets.length === 0) return fc.constant<unknown[]>([]);
  const ref =
    runtime === "systemd"
      ? fc.constantFrom(...world.secrets)
      : fc.oneof(
          fc.constantFrom(...world.secrets),
          fc.record({
            source: fc.constantFrom(...world.secrets),
            target: optional(fc.constantFrom("custom_name", "/run/secrets/other", "app.conf", "dir/with space")),
            uid: optional(fc.constantFrom("0", "1000", "10001")),
            gid: optional(fc.constantFrom("0", "1000")),
            mode: optional(fc.constantFrom(0o400, 0o440, 0o444, 0)),
          }).map(compact),
        );
  // One reference per secret: the same secret twice would be two files of one name.
  return fc.uniqueArray(ref, { maxLength: world.secrets.length, selector: (r) => (typeof r === "string" ? r : (r as Plain)["source"]) });
}

function healthcheckArb(kind: "any" | "command", port: number | undefined): fc.Arbitrary<Plain> {
  const command = argvArb(fc.constantFrom("wget", "pg_isready", "/bin/check", "sh")).map((c) => ({ command: c }));
  const probes: Array<fc.Arbitrary<Plain>> = [command];
  if (kind === "any" && port !== undefined) {
    probes.push(fc.constantFrom("/", "/healthz", "/a/b?x=1&y=$z", "/%41;'()*").map((path) => ({ http: { path, port } })));
    probes.push(fc.constant({ tcp: { port } }));
  }
  return fc
    .tuple(fc.oneof(...probes), fc.record({ interval: optional(durationArb), timeout: optional(durationArb), retries: optional(fc.integer({ min: 1, max: 10 })), startPeriod: optional(durationArb) }))
    .map(([probe, timing]) => ({ ...probe, ...compact(timing) }));
}

/** Ports numbered from `base` so that no two services ever share one. */
function portsArb(world: World, runtime: Runtime, base: number, dataStore: boolean): fc.Arbitrary<Plain[]> {
  const exposures = runtime === "stack" ? ["internal", "cluster", "public"] : ["internal", "local", "cluster", "public"];
  const split = world.plan.mode === "compose" && world.plan.overlays === "nodes" && world.nodes.length > 0;
  return fc
    .array(
      fc.record({
        exposure: fc.constantFrom(...exposures, undefined),
        protocol: fc.constantFrom("tcp", "tcp", "udp", undefined),
        publishedOffset: fc.boolean(),
        description: optional(awkwardTextArb(4)),
      }),
      { maxLength: 2 },
    )
    .map((ports) =>
      ports.map((p, index) => {
        const port = base + index;
        const exposure = p.exposure;
        const published = exposure !== undefined && exposure !== "internal" && p.publishedOffset && runtime !== "systemd" ? port + 10000 : undefined;
        // A compose file without per-node overlays must know the cluster address to bind to.
        const address = exposure === "cluster" && runtime === "compose" && !split ? world.nodes[0]?.address ?? "10.10.0.5" : undefined;
        return compact({
          port,
          published,
          // The first port is TCP: the docker kind derives (and requires) health checks from TCP
          // ports only, while the Dockerfile checker wants one for any image with EXPOSE.
          protocol: index === 0 && p.protocol === "udp" ? "tcp" : p.protocol,
          exposure,
          address,
          description: p.description,
          allowPublic: dataStore && exposure === "public" ? true : undefined,
        });
      }),
    );
}

/**
 * Defaults of the host variables services read (`$` and `}` cannot be escaped there). One has
 * none, so it is required when deploying; HOME, because the stack checker interpolates from the
 * test's own environment, where every process has it.
 */
const HOST_DEFAULTS: Record<string, string | undefined> = { HOME: undefined, DATA_DIR: "x y #1 é", LOG_ROOT: "/srv/data" };

function environmentArb(world: World, targets: ServiceDraft[], runtime: Runtime): fc.Arbitrary<Plain> {
  const plain = world.envPool.length === 0 ? fc.constant<World["envPool"]>([]) : fc.subarray(world.envPool);
  const computed =
    runtime === "systemd"
      ? fc.constant({})
      : fc
          .record({
            host: targets.length === 0 ? fc.constant(undefined) : optional(fc.constantFrom(...targets.map((t) => t.name))),
            fromHost: optional(fc.constantFrom(...Object.keys(HOST_DEFAULTS))),
          })
          // Services share one env file, so each computed key has one definition: the key names it.
          .map(({ host, fromHost }) => ({
            ...(host === undefined ? {} : { [`${host.toUpperCase().replace(/-/g, "_")}_HOST`]: { hostOf: host } }),
            ...(fromHost === undefined ? {} : { [`FROM_${fromHost}`]: compact({ fromHost, default: HOST_DEFAULTS[fromHost] }) }),
          }));
  return fc.tuple(plain, computed).map(([entries, extra]) => ({ ...Object.fromEntries(entries), ...extra }));
}

function serviceArb(world: World, index: number, runtime: Runtime, earlier: ServiceDraft[]): fc.Arbitrary<ServiceDraft> {
  const base = 8000 + index * 10;
  const sameRuntime = earlier.filter((s) => s.runtime === runtime);
  const systemdCommand = fc.constantFrom<[string, string]>(["python", "python"], ["python", "gunicorn"], ["node", "node"], ["node", "next"]);
  const container = runtime !== "systemd";
  const shared = earlier.filter((s) => s.builds && s.runtime !== "systemd");

  const source: fc.Arbitrary<SourceChoice> = container
    ? fc.oneof(
        fc
          .record({
            runtime: fc.constantFrom("python", "node", "generic"),
            version: optional(fc.constantFrom("3.12", "20", "3")),
            requirements: optional(fc.constantFrom("requirements.txt", "req/prod.txt")),
            systemPackages: optional(fc.constantFrom(["libpq5"], ["curl", "ca-certificates"])),
            buildPackages: optional(fc.constantFrom(["build-essential"], ["gcc", "libpq-dev"])),
            run: optional(fc.constantFrom(["make install"], ["echo \"$HOME\" % ; true", "ls -la /"])),
            copy: optional(fc.constantFrom(["app"], ["src", "pyproject.toml"])),
            command: argvArb(fc.constantFrom("python", "gunicorn", "node", "/usr/local/bin/app")),
            args: optional(fc.dictionary(envKeyArb.map((k) => `${k}_VERSION`), awkwardTextArb(3).filter((v) => !/^["']/.test(v)), { maxKeys: 2 })),
            digest: optional(fc.constant("sha256:" + "b".repeat(64))),
            context: optional(fc.constantFrom(".", "./app", "services/api")),
            type: fc.constantFrom("web", "worker", "job", "other"),
          })
          .map((b) => {
            const generic = b.runtime === "generic";
            const build = compact({
              runtime: b.runtime,
              version: generic ? undefined : b.version,
              base: generic ? "debian:bookworm-slim" : undefined,
              digest: b.digest,
              context: b.context,
              requirements: b.runtime === "python" ? b.requirements : undefined,
              systemPackages: generic ? undefined : b.systemPackages,
              buildPackages: generic ? undefined : b.buildPackages,
              run: generic ? b.run ?? ["make install"] : undefined,
              copy: b.copy,
              command: b.command,
              args: b.args,
            });
            const choice: SourceChoice = { source: { build }, builds: true, runtimeKind: b.runtime, dataStore: false, type: b.type };
            return choice;
          }),
        fc
          .record({ image: pinnedImageArb, type: fc.constantFrom("database", "cache", "proxy", "other", "worker") })
          .map(({ image, type }): SourceChoice => ({ source: { image }, builds: false, runtimeKind: "image", dataStore: type === "database" || type === "cache", type })),
        ...(shared.length > 0
          ? [
              fc.constantFrom(...shared.map((s) => s.name)).map((of): SourceChoice => ({
                source: { imageOf: of, command: ["celery", "-A", "app", "worker"] },
                builds: false,
                runtimeKind: "imageOf",
                dataStore: false,
                type: "worker",
              })),
            ]
          : []),
      )
    : fc.tuple(systemdCommand, fc.array(argArb, { maxLength: 3 }), fc.constantFrom("web", "worker", "job", "other")).map(([[kind, program], args, type]): SourceChoice => ({
        source: { build: { runtime: kind, version: kind === "python" ? "3.12" : "20", command: [program, ...args] } },
        builds: true,
        runtimeKind: kind,
        dataStore: false,
        type,
      }));

  return source.chain((src) => {
    const probeKind: "any" | "command" = src.runtimeKind === "python" || src.runtimeKind === "node" ? "any" : "command";
    const roleChoices = world.nodes.length > 0 ? [...new Set(world.nodes.flatMap((n) => n.roles))] : [];
    return fc
      .record({
        description: optional(awkwardTextArb(5).filter((t) => !/^["']/.test(t) && !t.endsWith("\\"))),
        // A job runs to completion and gets no health check, while the Dockerfile checker takes any
        // image with EXPOSE for a long-running service that needs one: jobs listen on nothing here.
        ports: src.type === "job" ? fc.constant<Plain[]>([]) : portsArb(world, runtime, base, src.dataStore),
        environment: environmentArb(world, sameRuntime.filter((s) => s.ports.length > 0 && s.runtime !== "systemd"), runtime),
        secrets: secretRefArb(world, runtime),
        volumeMounts: container && world.volumes.length > 0 ? fc.subarray(world.volumes, { maxLength: Math.min(2, world.volumes.length) }) : fc.constant<string[]>([]),
        hostMount: fc.constantFrom(undefined, "abs", "rel"),
        withHealthcheck: fc.boolean(),
        dependsOn: sameRuntime.length === 0 ? fc.constant<ServiceDraft[]>([]) : fc.subarray(sameRuntime, { maxLength: Math.min(2, sameRuntime.length) }),
        condition: fc.constantFrom(undefined, "started", "healthy", "completed"),
        gpu: runtime === "compose" ? optional(fc.oneof(fc.constant({ count: 1, driver: "nvidia", capabilities: ["gpu"] }), fc.constant({ count: "all" }), fc.constant({ deviceIds: ["0", "GPU-1"] })), 4) : fc.constant(undefined),
        replicas: optional(fc.integer({ min: 0, max: 3 })),
        resources: optional(
          fc
            .record({ cpus: optional(fc.constantFrom(0.5, 2, 1.25)), memory: optional(fc.constantFrom("512m", "4g", "1048576")), reservations: optional(fc.record({ cpus: optional(fc.constantFrom(0.25, 1)), memory: optional(fc.constantFrom("256m", "1g")) }).map(compact)) })
            .map(compact),
        ),
        user: container ? optional(fc.constantFrom("10001:10001", "1000", runtime === "stack" ? "1000:1000" : "host")) : fc.constant(undefined),
        roles: roleChoices.length > 0 && index > 0 ? fc.subarray(roleChoices, { maxLength: Math.min(runtime === "stack" ? 1 : 2, roleChoices.length) }) : fc.constant<string[]>([]),
        restart: optional(fc.constantFrom("no", "always", "on-failure", "unless-stopped")),
        readOnly: container ? optional(fc.boolean()) : fc.constant(undefined),
        tmpfs: container ? optional(fc.constantFrom(["/tmp"], ["/tmp", "/var/cache/app"])) : fc.constant(undefined),
        capAdd: container ? optional(fc.constantFrom(["NET_BIND_SERVICE"], ["CAP_CHOWN", "SETUID"])) : fc.constant(undefined),
        privileged: runtime === "compose" ? optional(fc.boolean(), 6) : fc.constant(undefined),
        networks: container && world.networks.length > 0 ? fc.subarray(world.networks, { minLength: 1 }) : fc.constant<string[]>([]),
        workingDir: optional(fc.constantFrom("/app", "/srv/work dir", "/opt/x")),
        entrypoint: container ? optional(argvArb(fc.constantFrom("/entry.sh", "tini")), 5) : fc.constant(undefined),
        explicitPlatform: fc.boolean(),
      })
      .chain((s) =>
        // A generic image has no known client to derive a probe with: it always gets a command.
        (s.withHealthcheck || (src.runtimeKind === "generic" && s.ports.length > 0) ? healthcheckArb(probeKind, s.ports.find((p) => (p["protocol"] ?? "tcp") === "tcp")?.["port"] as number | undefined).map((h) => h as Plain | undefined) : fc.constant(undefined)).map((healthcheck) => {
          const ports = s.ports;
          const publishes = ports.some((p) => p["exposure"] !== undefined && p["exposure"] !== "internal");
          const mounts: Plain[] = s.volumeMounts.map((volume, i) => ({ volume, target: `/data/v${i}` }));
          if (s.hostMount === "abs") mounts.push(runtime === "systemd" ? { hostPath: `/srv/${world.name}-data`, target: `/srv/${world.name}-data` } : { hostPath: "/srv/shared data", target: "/mnt/shared", readOnly: true });
          if (s.hostMount === "rel" && container) mounts.push({ hostPath: "./conf/app.conf", target: "/etc/app/app.conf", readOnly: true });
          const dependsOn = s.dependsOn.map((dep) => {
            const condition = s.condition === "healthy" && !dep.hasHealthcheck ? "started" : s.condition;
            return condition === undefined ? dep.name : { service: dep.name, condition };
          });
          const replicas = runtime === "systemd" ? (s.replicas === undefined ? undefined : Math.min(s.replicas, 1)) : runtime === "compose" && publishes && (s.replicas ?? 0) > 1 ? 1 : s.replicas;
          const body = compact({
            description: s.description,
            type: src.type,
            platform: runtime === "systemd" ? "systemd" : s.explicitPlatform ? "container" : undefined,
            ...src.source,
            entrypoint: s.entrypoint,
            workingDir: runtime === "systemd" ? undefined : s.workingDir,
            ports: ports.length > 0 ? ports : undefined,
            environment: Object.keys(s.environment).length > 0 ? s.environment : undefined,
            secrets: s.secrets.length > 0 ? s.secrets : undefined,
            mounts: mounts.length > 0 ? mounts : undefined,
            healthcheck,
            dependsOn: dependsOn.length > 0 ? dependsOn : undefined,
            gpu: s.gpu,
            replicas,
            resources: s.resources,
            user: s.user,
            roles: s.roles.length > 0 ? s.roles : undefined,
            restart: s.restart,
            readOnly: s.readOnly,
            tmpfs: s.tmpfs,
            capAdd: s.capAdd,
            privileged: s.privileged,
            networks: s.networks.length > 0 ? s.networks : undefined,
            swarm: runtime === "compose" && world.plan.mode === "swarm" ? false : undefined,
          });
          const hasHealthcheck = healthcheck !== undefined || (src.builds && src.runtimeKind !== "generic" && src.type !== "job" && ports.some((p) => (p["protocol"] ?? "tcp") === "tcp"));
          return {
            name: "",
            runtime,
            body,
            ports: ports.map((p) => p["port"] as number),
            hasHealthcheck,
            builds: src.builds,
            roles: s.roles,
          };
        }),
      );
  });
}

function runtimesArb(plan: DescriptorPlan): fc.Arbitrary<Runtime[]> {
  const container: Runtime = plan.mode === "swarm" ? "stack" : plan.mode === "compose" ? "compose" : "built";
  const choices: Runtime[] = [container];
  if (plan.systemd) choices.push("systemd");
  if (plan.mode === "swarm") choices.push("compose");
  return fc.array(fc.constantFrom(...choices), { minLength: plan.serviceCount, maxLength: plan.serviceCount }).map((runtimes) => {
    // The first service runs where the deployment's main target is, on every node.
    const result = [...runtimes];
    result[0] = container === "built" && plan.systemd ? "systemd" : container;
    if (plan.systemd && !result.includes("systemd")) result.push("systemd");
    return result;
  });
}

function servicesArb(world: World, runtimes: Runtime[]): fc.Arbitrary<ServiceDraft[]> {
  const names = fc.uniqueArray(identifierArb(10), { minLength: runtimes.length, maxLength: runtimes.length });
  return names.chain((serviceNames) => {
    let acc: fc.Arbitrary<ServiceDraft[]> = fc.constant([]);
    runtimes.forEach((runtime, index) => {
      acc = acc.chain((earlier) =>
        serviceArb(world, index, runtime === "built" ? "compose" : runtime, earlier).map((draft) => {
          const named = { ...draft, name: serviceNames[index] ?? `s${index}` };
          if (runtime === "built") named.runtime = "built";
          return [...earlier, named];
        }),
      );
    });
    return acc;
  });
}

/** The whole descriptor as a plain object, ready for YAML. */
export const descriptorArb: fc.Arbitrary<Plain> = planArb.chain((plan) =>
  fc
    .record({
      name: identifierArb(14),
      description: optional(awkwardTextArb(6).filter((t) => !/^["']/.test(t))),
      nodeRoles: fc.array(fc.subarray(ROLE_POOL, { minLength: 1 }), { minLength: plan.nodeCount, maxLength: plan.nodeCount }),
      nodeNames: fc.uniqueArray(identifierArb(8), { minLength: plan.nodeCount, maxLength: plan.nodeCount }),
      secrets: fc.uniqueArray(identifierArb(8), { maxLength: 3 }),
      volumes: fc.uniqueArray(identifierArb(8), { maxLength: 3 }),
      networks: fc.uniqueArray(identifierArb(8), { maxLength: 3 }),
      envPool: fc.uniqueArray(fc.tuple(envKeyArb, scalarArb), { maxLength: 4, selector: ([key]) => key }),
    })
    .chain((base) => {
      const networks = plan.mode === "swarm" && base.networks.length === 0 ? ["overlay"] : base.networks;
      const world: World = {
        plan,
        name: base.name,
        nodes: base.nodeNames.map((name, i) => ({ name, address: `192.168.50.${10 + i}`, hostname: `host-${i}.example.org`, roles: base.nodeRoles[i] ?? ["web"] })),
        secrets: base.secrets,
        volumes: base.volumes,
        networks,
        swarmNetwork: networks[0] ?? "overlay",
        envPool: base.envPool,
        description: base.description,
      };
      return fc
        .record({
          runtimes: runtimesArb(plan),
          secretDecls: fc.array(
            fc.record({
              description: optional(awkwardTextArb(4)),
              env: optional(secretEnvArb),
              generate: optional(fc.oneof(fc.constant(false), fc.record({ length: optional(fc.integer({ min: 16, max: 64 })), charset: optional(fc.constantFrom("alnum", "hex", "base64")) }).map(compact))),
              external: optional(fc.boolean()),
            }),
            { minLength: world.secrets.length, maxLength: world.secrets.length },
          ),
          volumeDecls: fc.array(
            fc.oneof(
              fc.record({ description: optional(awkwardTextArb(3)) }).map(compact),
              fc.record({ nfs: fc.record({ server: fc.constantFrom("192.168.50.5", "nfs.example.org"), path: fc.constantFrom("/export/data", "/export/a b"), options: optional(fc.constantFrom("rw,nfsvers=4.1", "ro")) }).map(compact) }),
              fc.constant({ driver: "local" }),
              fc.constant({ external: true }),
            ),
            { minLength: world.volumes.length, maxLength: world.volumes.length },
          ),
          networkDecls: fc.array(
            fc.record({ description: optional(awkwardTextArb(3)), internal: optional(fc.boolean()), mtu: optional(fc.constantFrom(1450, 1500, 9000)), attachable: optional(fc.boolean()), encrypted: optional(fc.boolean()) }).map(compact),
            { minLength: world.networks.length, maxLength: world.networks.length },
          ),
          environments: fc.uniqueArray(identifierArb(6), { maxLength: 3 }),
          overrideSeed: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
          overrideValues: fc.array(scalarArb, { minLength: 12, maxLength: 12 }),
          registry: fc.oneof(
            fc.constant({ host: "ghcr.io", namespace: "example-org" }),
            fc.constant({ host: "quay.io", namespace: "team/sub", credentials: { username: "QUAY_USER", password: "QUAY_TOKEN" } }),
            fc.constant({ host: "registry.example.org:5000", namespace: "ops", credentials: { username: "REG_USER", password: "REG_PASS" } }),
          ),
          withRegistry: fc.boolean(),
          firewallOptions: fc.record({ sshPort: optional(fc.constantFrom(22, 2222)), adminCidr: optional(fc.constantFrom(["10.20.5.0/24"], ["192.168.50.0/24", "fd00::/64"])), zone: optional(fc.constantFrom("public", "internal")) }).map(compact),
          systemdOptions: fc
            .record({
              user: fc.constantFrom("svc", "app_user", "pipeline"),
              group: optional(fc.constantFrom("svc", "appgrp")),
              adminGroup: optional(fc.constantFrom("opsadmin")),
              admins: optional(fc.constantFrom(["alice"], ["alice", "bob"])),
              installDir: fc.constantFrom("/opt/app", "/srv/app-1"),
              venv: optional(fc.constantFrom("/opt/venvs/app")),
              memoryDenyWriteExecute: optional(fc.boolean()),
              privateUsers: optional(fc.boolean()),
              selinux: optional(fc.boolean()),
            })
            .map((o) => compact({ ...o, admins: o.adminGroup === undefined ? undefined : o.admins })),
          githubOptions: fc
            .record({
              branches: optional(fc.constantFrom(["main"], ["main", "release/*"])),
              platforms: optional(fc.constantFrom(["linux/amd64"], ["linux/amd64", "linux/arm64"])),
              sign: optional(fc.boolean()),
              driftCheck: optional(fc.boolean()),
              deploy: optional(fc.record({ user: fc.constantFrom("deploy"), path: fc.constantFrom("/srv/app"), environment: optional(fc.constantFrom("production", "staging env")) }).map(compact)),
            })
            .map(compact),
          dataPathPort: optional(fc.constantFrom(7789, 30000)),
          stackName: optional(identifierArb(6)),
          envDir: optional(fc.constantFrom("env", ".", "config/env")),
          docsFile: optional(fc.constantFrom("DEPLOY.md", "docs/deploy.md")),
          clusterCidr: fc.constantFrom(["192.168.50.0/24"], ["192.168.50.0/24", "10.0.0.0/8"]),
          labels: optional(fc.constant({ "com.example.zone": "a b $x" })),
        })
        .chain((extra) =>
          servicesArb(world, extra.runtimes).map((services) => assemble(world, extra, services)),
        );
    }),
);

interface Extra {
  secretDecls: Plain[];
  volumeDecls: Plain[];
  networkDecls: Plain[];
  environments: string[];
  overrideSeed: boolean[];
  overrideValues: Array<string | number | boolean>;
  registry: Plain;
  withRegistry: boolean;
  firewallOptions: Plain;
  systemdOptions: Plain;
  githubOptions: Plain;
  dataPathPort: number | undefined;
  stackName: string | undefined;
  envDir: string | undefined;
  docsFile: string | undefined;
  clusterCidr: readonly string[];
  labels: Plain | undefined;
}

function assemble(world: World, extra: Extra, services: ServiceDraft[]): Plain {
  const { plan } = world;
  const secrets = Object.fromEntries(
    world.secrets.map((name, i) => {
      const decl = compact(extra.secretDecls[i] ?? {});
      // An external secret is made by hand, never generated.
      if (decl["external"] === true) delete decl["generate"];
      return [name, decl];
    }),
  );
  const volumes = Object.fromEntries(world.volumes.map((name, i) => [name, extra.volumeDecls[i] ?? {}]));
  const networks: Record<string, Plain> = Object.fromEntries(world.networks.map((name, i) => [name, { ...(extra.networkDecls[i] ?? {}) }]));
  if (plan.mode === "swarm") {
    const overlay = networks[world.swarmNetwork] ?? {};
    overlay["attachable"] = true;
    delete overlay["internal"];
    networks[world.swarmNetwork] = overlay;
  }
  const readers = new Set(services.flatMap((s) => Object.keys((s.body["environment"] as Plain | undefined) ?? {})));
  const plainKeys = world.envPool.map(([key]) => key).filter((key) => readers.has(key));
  let seed = 0;
  const environments = Object.fromEntries(
    extra.environments.map((env) => {
      const values: Plain = {};
      for (const key of plainKeys) {
        const i = seed++ % extra.overrideSeed.length;
        if (extra.overrideSeed[i] === true) values[key] = extra.overrideValues[i];
      }
      return [env, compact({ description: `${env} profile`, values: Object.keys(values).length > 0 ? values : undefined })];
    }),
  );
  const nodes = Object.fromEntries(
    world.nodes.map((node, i) =>
      [
        node.name,
        compact({
          description: i === 0 ? "main node: web & data" : undefined,
          address: node.address,
          hostname: node.hostname,
          roles: node.roles,
          manager: plan.mode === "swarm" ? i === 0 : undefined,
          labels: i === 0 ? extra.labels : undefined,
        }),
      ] as const,
    ),
  );
  const builds = services.some((s) => s.builds && s.runtime !== "systemd") || services.some((s) => s.body["imageOf"] !== undefined);
  const targets: Plain = {
    env: extra.envDir === undefined ? {} : { dir: extra.envDir },
  };
  if (plan.docs) targets["docs"] = extra.docsFile === undefined ? {} : { file: extra.docsFile };
  if (plan.docker || (builds && plan.mode !== "none")) targets["docker"] = {};
  if (plan.mode === "compose") targets["compose"] = { overlays: plan.overlays };
  if (plan.mode === "swarm") targets["swarm"] = compact({ network: world.swarmNetwork, dataPathPort: extra.dataPathPort, stackName: extra.stackName });
  if (plan.systemd) {
    const options = { ...extra.systemdOptions };
    if (extra.environments.length > 0) options["environment"] = extra.environments[extra.environments.length - 1];
    targets["systemd"] = options;
  }
  if (plan.firewall !== undefined) targets["firewall"] = { backend: plan.firewall, ...extra.firewallOptions };
  if (plan.github) {
    const options = { ...extra.githubOptions };
    const deploy = options["deploy"] as Plain | undefined;
    if (deploy !== undefined) {
      if (world.nodes[0] === undefined || plan.mode === "none") delete options["deploy"];
      else options["deploy"] = compact({ node: world.nodes[0].name, ...deploy, environmentFile: extra.environments[0] });
    }
    targets["github"] = options;
  }
  const needsRegistry = plan.mode === "swarm" || plan.github;
  return compact({
    name: world.name,
    description: world.description,
    registry: needsRegistry || extra.withRegistry ? extra.registry : undefined,
    cluster: plan.firewall !== undefined || world.nodes.length > 0 ? { cidr: extra.clusterCidr } : undefined,
    nodes: world.nodes.length > 0 ? nodes : undefined,
    services: Object.fromEntries(services.map((s) => [s.name, s.body])),
    secrets: world.secrets.length > 0 ? secrets : undefined,
    volumes: world.volumes.length > 0 ? volumes : undefined,
    networks: world.networks.length > 0 ? networks : undefined,
    environments: extra.environments.length > 0 ? environments : undefined,
    targets,
  });
}
