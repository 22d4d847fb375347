// The shape of deploy.yaml after it has passed schemas/deploy.schema.json.
// The schema is the source of truth for users (editors read its descriptions);
// these types mirror it for the code. A test keeps the two in step.

export type Identifier = string; // ^[a-z][a-z0-9-]{0,62}$
export type EnvKey = string; // ^[A-Z_][A-Z0-9_]*$
export type Duration = string; // e.g. "30s", "1m30s"

export interface Descriptor {
  name: Identifier;
  description?: string;
  registry?: Registry;
  cluster?: Cluster;
  services: Record<Identifier, Service>;
  secrets?: Record<Identifier, Secret>;
  volumes?: Record<Identifier, Volume>;
  networks?: Record<Identifier, Network>;
  environments?: Record<Identifier, Environment>;
  nodes?: Record<Identifier, HostNode>;
  targets?: Targets;
}

export interface Registry {
  /** Registry host: ghcr.io, quay.io, docker.io or another. */
  host: string;
  /** Organisation or user the images live under, e.g. "my-org". */
  namespace: string;
  /** Names of the GitHub secrets holding the login; not needed for ghcr.io (GITHUB_TOKEN). */
  credentials?: { username: EnvKey; password: EnvKey };
}

export interface Cluster {
  /** The private network the nodes share, as CIDR blocks. */
  cidr: string[];
}

export type Platform = "container" | "systemd";
export type ServiceType = "web" | "worker" | "database" | "cache" | "proxy" | "job" | "other";
export type Exposure = "public" | "cluster" | "local" | "internal";
export type Protocol = "tcp" | "udp";
export type RestartPolicy = "no" | "always" | "on-failure" | "unless-stopped";

export interface Service {
  description?: string;
  type?: ServiceType;
  platform?: Platform;
  image?: string;
  build?: Build;
  /** Run the image built for another service (same code, other command). */
  imageOf?: Identifier;
  command?: string[];
  entrypoint?: string[];
  workingDir?: string;
  ports?: Port[];
  environment?: Record<EnvKey, EnvValue>;
  secrets?: Array<Identifier | SecretRef>;
  mounts?: Mount[];
  healthcheck?: Healthcheck;
  dependsOn?: Array<Identifier | Dependency>;
  gpu?: Gpu;
  replicas?: number;
  resources?: Resources;
  user?: ServiceUser;
  roles?: Identifier[];
  restart?: RestartPolicy;
  readOnly?: boolean;
  tmpfs?: string[];
  capAdd?: string[];
  privileged?: boolean;
  networks?: Identifier[];
  swarm?: boolean;
  placement?: { nodes?: Identifier[] };
}

export interface Build {
  runtime: "python" | "node" | "generic";
  /** Language version, e.g. "3.12" or "20". */
  version?: string;
  /** Base image; required for generic, overrides the runtime's default otherwise. */
  base?: string;
  /** Digest to pin the base image, "sha256:…". */
  digest?: string;
  context?: string;
  /** Python: requirements file; node: unused. */
  requirements?: string;
  /** Debian packages the final image needs. */
  systemPackages?: string[];
  /** Debian packages needed only to build (compilers, headers). */
  buildPackages?: string[];
  /** Extra shell commands run at build time (generic runtime). */
  run?: string[];
  /** Paths copied into the image (default: the whole context). */
  copy?: string[];
  /** The program, as an exec-form argument list. */
  command: string[];
  args?: Record<EnvKey, string>;
  /** Build secrets, mounted with --mount=type=secret only while a RUN needs them. */
  secrets?: Identifier[];
}

export interface Port {
  port: number;
  published?: number;
  protocol?: Protocol;
  exposure?: Exposure;
  /** Host address the published port binds to; defaults follow the exposure. */
  address?: string;
  description?: string;
  /** Acknowledges that a database or cache port is public; without it such a port is refused. */
  allowPublic?: boolean;
}

export type Scalar = string | number | boolean;
export type EnvValue = Scalar | { fromHost: EnvKey; default?: string } | { hostOf: Identifier };

export interface SecretRef {
  source: Identifier;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface Mount {
  volume?: Identifier;
  hostPath?: string;
  target: string;
  readOnly?: boolean;
}

export interface Healthcheck {
  command?: string[];
  http?: { path: string; port: number };
  tcp?: { port: number };
  interval?: Duration;
  timeout?: Duration;
  retries?: number;
  startPeriod?: Duration;
}

export interface Dependency {
  service: Identifier;
  condition?: "started" | "healthy" | "completed";
}

export interface Gpu {
  count?: number | "all";
  deviceIds?: string[];
  driver?: string;
  capabilities?: string[];
}

export interface Resources {
  cpus?: number;
  memory?: string;
  reservations?: { cpus?: number; memory?: string };
}

/** A user name or numeric id, "uid:gid", or "host": run as the invoking host user (UID/GID from the env file). */
export type ServiceUser = string;

export interface Secret {
  description?: string;
  /** Variable name the program reads; delivered as NAME_FILE pointing at the secret file, or NAME itself for systemd env delivery. */
  env?: EnvKey;
  /** How a missing value is made: random (default), or asked for (stdin). */
  generate?: { length?: number; charset?: "alnum" | "hex" | "base64" } | false;
  /** Created outside create-deploy (swarm: `docker secret create` by hand). */
  external?: boolean;
}

export interface Volume {
  description?: string;
  driver?: string;
  nfs?: { server: string; path: string; options?: string };
  external?: boolean;
}

export interface Network {
  description?: string;
  internal?: boolean;
  mtu?: number;
  attachable?: boolean;
  encrypted?: boolean;
  external?: boolean;
  /** Real network name when it differs from the key (external networks). */
  name?: string;
}

export interface Environment {
  description?: string;
  values?: Record<EnvKey, Scalar>;
}

export interface HostNode {
  description?: string;
  address: string;
  hostname?: string;
  roles?: Identifier[];
  manager?: boolean;
  labels?: Record<string, string>;
}

export interface Targets {
  env?: { dir?: string };
  docs?: { file?: string };
  docker?: Record<string, never>;
  compose?: { overlays?: "nodes" | "none" };
  swarm?: SwarmTarget;
  systemd?: SystemdTarget;
  firewall?: FirewallTarget;
  github?: GithubTarget;
}

export interface SwarmTarget {
  /** The overlay network (a key of `networks`) every service joins. */
  network: Identifier;
  /** VXLAN data-path port when 4789 is taken. */
  dataPathPort?: number;
  stackName?: Identifier;
}

export interface SystemdTarget {
  user: string;
  group?: string;
  adminGroup?: string;
  admins?: string[];
  installDir: string;
  venv?: string;
  environment?: Identifier;
  memoryDenyWriteExecute?: boolean;
  privateUsers?: boolean;
  selinux?: boolean;
}

export interface FirewallTarget {
  backend: "firewalld" | "ufw" | "nftables";
  sshPort?: number;
  adminCidr?: string[];
  zone?: string;
}

export interface GithubTarget {
  branches?: string[];
  platforms?: string[];
  sign?: boolean;
  driftCheck?: boolean;
  deploy?: {
    node: Identifier;
    user: string;
    path: string;
    environment?: string;
    environmentFile?: Identifier;
  };
}
