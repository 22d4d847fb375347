// The systemd kind: its derivations, its files for every example and for generated
// variations of descriptors (checked with systemd-analyze, bash and shellcheck), the
// install script's dry run, and values that try to break out of a unit or a script.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { kinds } from "../src/kinds/index.js";
import {
  credentialPath,
  execArgv,
  reservedPathReason,
  resolveProgram,
  secretDeliveries,
  systemdCpuQuota,
  systemdMemory,
  unitName,
} from "../src/kinds/systemd/model.js";
import { parseDescriptor } from "../src/load.js";
import type { Descriptor, SystemdTarget } from "../src/model/descriptor.js";
import { collectVariables } from "../src/model/derive.js";
import { buildFiles, type RenderedFile } from "../src/pipeline.js";
import { planFiles } from "../src/plan.js";
import { renderFiles } from "../src/render/index.js";
import { validateDescriptor } from "../src/validate/index.js";
import { checkBashSyntax, checkPrettierClean, checkShellcheck, expectClean, scoreUnitSecurity, verifyUnit } from "./checkers/index.js";
import { repoRoot } from "./checkers/paths.js";

type Built = { ok: true; descriptor: Descriptor; files: RenderedFile[] } | { ok: false; problems: Array<{ pointer: string; message: string }> };

/** The whole pipeline from descriptor data: YAML text, load, validate (schema, rules, kinds' checks), plan, render. */
function build(data: unknown): Built {
  const parsed = parseDescriptor(stringify(data), "deploy.yaml");
  const result = validateDescriptor(parsed, "deploy.yaml", kinds);
  if (!result.descriptor) return { ok: false, problems: result.problems };
  return { ok: true, descriptor: result.descriptor, files: renderFiles(planFiles(result.descriptor), { descriptorFile: "deploy.yaml" }) };
}

function mustBuild(data: unknown): { descriptor: Descriptor; files: RenderedFile[] } {
  const built = build(data);
  if (!built.ok) throw new Error(`descriptor refused:\n${built.problems.map((p) => `${p.pointer}: ${p.message}`).join("\n")}`);
  return built;
}

function problemsOf(data: unknown): Array<{ pointer: string; message: string }> {
  const built = build(data);
  return built.ok ? [] : built.problems;
}

function fileAt(files: RenderedFile[], path: string): string {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no file ${path} among ${files.map((f) => f.path).join(", ")}`);
  return file.content;
}

/** A small valid descriptor to vary. */
function baseDescriptor(): Record<string, any> {
  return {
    name: "app",
    services: {
      api: {
        description: "The API",
        platform: "systemd",
        build: { runtime: "python", version: "3.12", requirements: "requirements.txt", command: ["python", "-m", "app.main"] },
      },
    },
    targets: { systemd: { user: "app", installDir: "/opt/app" } },
  };
}

// ---------- reading units back the way systemd does ----------

interface UnitLine {
  section: string;
  key: string;
  value: string;
}

/** Logical lines of a unit (comments dropped, backslash continuations joined), with their section. */
function parseUnit(content: string): UnitLine[] {
  const lines: UnitLine[] = [];
  let section = "";
  for (const raw of content.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? "";
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`not a key=value line: ${line}`);
    lines.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return lines;
}

/** `%%` is the only specifier our values may hold (and `%d` where we put it on purpose). */
function expandSpecifiers(value: string): string {
  return value.replace(/%(.)/g, (_, c: string) => {
    if (c === "%") return "%";
    if (c === "d") return "/run/credentials/unit";
    throw new Error(`unexpected specifier %${c} in ${value}`);
  });
}

/** ExecStart= words as systemd splits them: specifiers, then quotes and C escapes, then `$$`. */
function parseExecStart(value: string): string[] {
  const text = expandSpecifiers(value);
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === " " || text[i] === "\t") i++;
    if (i >= text.length) break;
    let word = "";
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") {
          const next = text[i + 1] ?? "";
          const escapes: Record<string, string> = { "\\": "\\", '"': '"', "'": "'", n: "\n", t: "\t", s: " " };
          if (!(next in escapes)) throw new Error(`unexpected escape \\${next}`);
          word += escapes[next];
          i += 2;
        } else word += text[i++];
      }
      if (text[i] !== '"') throw new Error(`unterminated quote in ${value}`);
      i++;
      if (i < text.length && text[i] !== " ") throw new Error(`text right after a closing quote in ${value}`);
    } else {
      while (i < text.length && text[i] !== " ") {
        if (text[i] === "\\" || text[i] === '"' || text[i] === "'") throw new Error(`unquoted special character in ${value}`);
        word += text[i++];
      }
      if (word === ";") throw new Error("a lone ; would start a second command");
    }
    if (/\$(?!\$)[A-Za-z_{]/.test(word.replace(/\$\$/g, ""))) throw new Error(`variable expansion in ${word}`);
    words.push(word.replace(/\$\$/g, "$"));
  }
  return words;
}

/** Every key a generated unit may hold; anything else means a value broke out of its line. */
const UNIT_KEYS = new Set([
  "Description", "After", "Wants", "StartLimitIntervalSec", "StartLimitBurst",
  "Type", "User", "Group", "WorkingDirectory", "EnvironmentFile", "LoadCredential", "Environment", "ExecStart",
  "Restart", "RestartSec", "RemainAfterExit", "StateDirectory", "StateDirectoryMode", "LogsDirectory", "LogsDirectoryMode",
  "ReadWritePaths", "ReadOnlyPaths", "MemoryMax", "MemoryLow", "CPUQuota", "AmbientCapabilities", "CapabilityBoundingSet",
  "NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "DevicePolicy", "ProtectHostname",
  "ProtectClock", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectProc",
  "ProcSubset", "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality",
  "KeyringMode", "RemoveIPC", "UMask", "SystemCallArchitectures", "SystemCallFilter", "SystemCallErrorNumber",
  "MemoryDenyWriteExecute", "PrivateUsers", "WantedBy",
]);

function valuesOf(lines: UnitLine[], key: string): string[] {
  return lines.filter((l) => l.key === key).map((l) => l.value);
}

/** The arguments bash sees on the generated `install_secret` lines, read by bash itself. */
function installSecretCalls(script: string): string[][] {
  const calls = script.split("\n").filter((line) => line.startsWith("install_secret "));
  const program = `install_secret() { printf '%s\\0' "$@"; printf '\\n'; }\n${calls.join("\n")}\n`;
  const out = execFileSync("bash", ["-c", program], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.split("\0").slice(0, -1));
}

// ---------- checking every file of a build ----------

async function checkUnitFiles(files: RenderedFile[]): Promise<void> {
  const units = files.filter((f) => f.kind === "systemd-unit");
  const siblings = Object.fromEntries(units.map((u) => [u.path.split("/").pop() ?? "", u.content]));
  await Promise.all(
    units.map(async (unit) => {
      const name = unit.path.split("/").pop() ?? "";
      const others = Object.fromEntries(Object.entries(siblings).filter(([n]) => n !== name));
      const [verified, security] = await Promise.all([verifyUnit(name, unit.content, { siblings: others }), scoreUnitSecurity(name, unit.content)]);
      expectClean(verified, unit.path);
      expectClean(security, unit.path);
      for (const line of parseUnit(unit.content)) expect(UNIT_KEYS.has(line.key), `${unit.path}: unexpected key ${line.key}`).toBe(true);
    }),
  );
}

async function checkScripts(files: RenderedFile[]): Promise<void> {
  const scripts = files.filter((f) => f.path.startsWith("systemd/") && f.kind === "shell");
  expect(scripts.map((s) => s.path).sort()).toEqual(["systemd/install.sh", "systemd/uninstall.sh"]);
  await Promise.all(
    scripts.map(async (script) => {
      expect(script.executable, `${script.path} is executable`).toBe(true);
      const [syntax, lint] = await Promise.all([checkBashSyntax(script.content), checkShellcheck(script.content)]);
      expectClean(syntax, script.path);
      expectClean(lint, script.path);
    }),
  );
}

// ---------- running the install script's dry run against stub tools ----------

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

interface HostState {
  /** Accounts and groups that exist already. */
  accounts?: boolean;
  /** Units already running. */
  running?: boolean;
}

/** Writes the generated files to a temporary checkout and a PATH of stubs that only answer questions. */
function stageCheckout(files: RenderedFile[], state: HostState, extra: string[] = ["requirements.txt"]): { root: string; env: Record<string, string> } {
  const root = mkdtempSync(join(tmpdir(), "create-deploy-systemd-"));
  scratch.push(root);
  const checkout = join(root, "checkout");
  for (const file of files) {
    const path = join(checkout, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
    if (file.executable) chmodSync(path, 0o755);
  }
  for (const name of extra) writeFileSync(join(checkout, name), "pydicom\n");
  const stubs = join(root, "stubs");
  mkdirSync(stubs);
  const stub = (name: string, body: string): void => {
    writeFileSync(join(stubs, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(stubs, name), 0o755);
  };
  const exists = state.accounts === true;
  stub("getent", exists ? "exit 0" : "exit 2");
  // An existing host: every account exists, in its groups (the service user's primary group is pipeline).
  stub("id", exists ? 'case $1 in -gn) echo pipeline ;; -nG) echo "users pipelineadmin maintainers" ;; *) echo 990 ;; esac' : "exit 1");
  stub("systemctl", state.running === true ? "exit 0" : "exit 3");
  for (const tool of ["useradd", "groupadd", "usermod", "rsync", "python3", "python3.11", "python3.12", "restorecon", "semanage"]) {
    stub(tool, `echo "stub ${tool} must not run in a dry run" >&2; exit 99`);
  }
  return { root: checkout, env: { PATH: `${stubs}:/usr/bin:/bin`, HOME: root, LC_ALL: "C" } };
}

function dryRun(
  files: RenderedFile[],
  script: string,
  state: HostState = {},
  args: string[] = ["--dry-run"],
  extra?: string[],
): { code: number; stdout: string; stderr: string } {
  const { root, env } = stageCheckout(files, state, extra);
  const run = spawnSync("bash", [join(root, script), ...args], { cwd: root, env, encoding: "utf8", input: "" });
  return { code: run.status ?? -1, stdout: run.stdout.split(root).join("CHECKOUT"), stderr: run.stderr };
}

// ---------- tests ----------

describe("systemd derivations", () => {
  const target: SystemdTarget = { user: "app", installDir: "/opt/app" };

  it("runs python from the venv, console scripts from the venv's bin, node from /usr/bin", () => {
    const python = { build: { runtime: "python" as const, command: ["python"] } };
    expect(resolveProgram(target, python, "python")).toEqual({ ok: true, program: "/opt/app/venv/bin/python" });
    expect(resolveProgram(target, python, "python3.12")).toEqual({ ok: true, program: "/opt/app/venv/bin/python" });
    expect(resolveProgram(target, python, "gunicorn")).toEqual({ ok: true, program: "/opt/app/venv/bin/gunicorn" });
    expect(resolveProgram({ ...target, venv: "/srv/venvs/app" }, python, "python")).toEqual({ ok: true, program: "/srv/venvs/app/bin/python" });
    expect(resolveProgram(target, python, "/usr/bin/env")).toEqual({ ok: true, program: "/usr/bin/env" });
    expect(resolveProgram(target, python, "bin/run").ok).toBe(false);
    const node = { build: { runtime: "node" as const, command: ["node"] } };
    expect(resolveProgram(target, node, "node")).toEqual({ ok: true, program: "/usr/bin/node" });
    expect(resolveProgram(target, node, "next")).toEqual({ ok: true, program: "/opt/app/node_modules/.bin/next" });
    const generic = { build: { runtime: "generic" as const, command: ["x"] } };
    expect(resolveProgram(target, generic, "server").ok).toBe(false);
    expect(resolveProgram(target, generic, "/usr/local/bin/server")).toEqual({ ok: true, program: "/usr/local/bin/server" });
    expect(execArgv(target, { build: { runtime: "python", command: ["python", "-m", "x"] }, command: ["uvicorn", "x:app"] })).toEqual([
      "/opt/app/venv/bin/uvicorn",
      "x:app",
    ]);
  });

  it("spells sizes and CPU shares as systemd does", () => {
    expect(systemdMemory("512m")).toBe("512M");
    expect(systemdMemory("4g")).toBe("4G");
    expect(systemdMemory("1048576")).toBe("1048576");
    expect(systemdCpuQuota(1.5)).toBe("150%");
    expect(systemdCpuQuota(0.25)).toBe("25%");
    expect(systemdCpuQuota(0.001)).toBe("1%");
  });

  it("keeps install directories out of the system's folders and home folders", () => {
    expect(reservedPathReason("/opt/app")).toBeUndefined();
    expect(reservedPathReason("/srv/app/current")).toBeUndefined();
    expect(reservedPathReason("/opt")).toMatch(/two levels/);
    expect(reservedPathReason("/usr/local")).toMatch(/system/);
    expect(reservedPathReason("/home/alice/app")).toMatch(/ProtectHome/);
    expect(reservedPathReason("/var/lib/app")).toMatch(/systemd/);
    expect(reservedPathReason("/var/www/app")).toBeUndefined();
  });

  it("sends a secret with env as that variable and any other as a credential named by NAME_FILE", () => {
    const d = baseDescriptor() as Descriptor;
    d.secrets = { "db-password": { env: "DB_PASSWORD" }, "api-key": {} };
    const service = { ...d.services["api"], secrets: ["db-password", "api-key"] };
    d.services["api"] = service;
    expect(secretDeliveries(d, service).map(({ name, key, route, credential }) => ({ name, key, route, credential }))).toEqual([
      { name: "db-password", key: "DB_PASSWORD", route: "variable", credential: "/etc/app/credentials/db-password" },
      { name: "api-key", key: "API_KEY_FILE", route: "credential", credential: "/etc/app/credentials/api-key" },
    ]);
    // DEPLOY.md's variable table names them the same way.
    const keys = collectVariables(d).filter((v) => v.source === "secret").map((v) => v.key);
    expect(keys).toEqual(["API_KEY_FILE", "DB_PASSWORD"]);
  });
});

describe("systemd files of the examples", () => {
  const examples = readdirSync(join(repoRoot, "examples")).filter((name) => existsSync(join(repoRoot, "examples", name, "deploy.yaml")));

  it("dicom-pipeline is among them", () => {
    expect(examples).toContain("dicom-pipeline");
  });

  for (const example of examples) {
    it(`${example}: units pass verify and security, scripts pass bash -n and shellcheck`, async () => {
      const result = await buildFiles(join(repoRoot, "examples", example, "deploy.yaml"));
      if (!result.ok) throw new Error(result.problems.map((p) => `${p.pointer}: ${p.message}`).join("\n"));
      const systemdFiles = result.files.filter((f) => f.path.startsWith("systemd/"));
      expect(systemdFiles.length > 0).toBe(result.descriptor.targets?.systemd !== undefined);
      if (systemdFiles.length === 0) return;
      await checkUnitFiles(result.files);
      await checkScripts(result.files);
    });
  }

  it("dicom-pipeline binds port 104 with the one capability, as the pipeline user, reading its secrets as variables", async () => {
    const result = await buildFiles(join(repoRoot, "examples", "dicom-pipeline", "deploy.yaml"));
    if (!result.ok) throw new Error("dicom-pipeline does not validate");
    const unit = parseUnit(fileAt(result.files, "systemd/dicom-pipeline-pipeline.service"));
    expect(valuesOf(unit, "User")).toEqual(["pipeline"]);
    expect(valuesOf(unit, "AmbientCapabilities")).toEqual(["CAP_NET_BIND_SERVICE"]);
    expect(valuesOf(unit, "CapabilityBoundingSet")).toEqual(["CAP_NET_BIND_SERVICE"]);
    expect(valuesOf(unit, "After")).toContain("network-online.target");
    expect(valuesOf(unit, "Wants")).toContain("network-online.target");
    expect(valuesOf(unit, "Restart")).toEqual(["on-failure"]);
    expect(valuesOf(unit, "EnvironmentFile")).toEqual(["/etc/dicom-pipeline/pipeline.env", "/etc/dicom-pipeline/pipeline.secrets.env"]);
    expect(parseExecStart(valuesOf(unit, "ExecStart")[0] ?? "")).toEqual([
      "/opt/pipeline/venv/bin/python",
      "-m",
      "pipeline.receiver",
      "--config",
      "/etc/dicom-pipeline/pipeline.toml",
    ]);
    const security = await scoreUnitSecurity("dicom-pipeline-pipeline.service", fileAt(result.files, "systemd/dicom-pipeline-pipeline.service"));
    expectClean(security);
    if (security.exposure !== undefined) expect(security.exposure).toBeLessThanOrEqual(2.0);
    expectClean(await checkPrettierClean("DEPLOY.md", fileAt(result.files, "DEPLOY.md")), "DEPLOY.md");
  });
});

describe("install.sh --dry-run", () => {
  const dicom = async (): Promise<RenderedFile[]> => {
    const result = await buildFiles(join(repoRoot, "examples", "dicom-pipeline", "deploy.yaml"));
    if (!result.ok) throw new Error("dicom-pipeline does not validate");
    return result.files;
  };

  it("prints every step on a fresh host and changes nothing", async () => {
    const run = dryRun(await dicom(), "systemd/install.sh");
    expect(run.stderr).not.toMatch(/must not run/);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    const expected = [
      "+ groupadd --system pipeline",
      "+ useradd --system --gid pipeline --home-dir /var/lib/dicom-pipeline --no-create-home --shell /usr/sbin/nologin --comment dicom-pipeline\\ service pipeline",
      "+ groupadd pipelineadmin",
      "+ install -d -m 0755 -o root -g root /opt/pipeline /etc/dicom-pipeline",
      "+ install -d -m 0700 -o root -g root /etc/dicom-pipeline/credentials",
      "+ install -d -m 0750 -o pipeline -g pipeline /var/lib/dicom-pipeline /var/log/dicom-pipeline",
      "+ rsync --recursive --links --perms --times --delete --exclude=/.git/ --exclude=/secrets/ --exclude=/venv/ CHECKOUT/ /opt/pipeline/",
      "+ /opt/pipeline/venv/bin/python -m pip install --disable-pip-version-check --no-input --requirement /opt/pipeline/requirements.txt",
      "+ ask for secret pacs-password on the terminal",
      "+ ask for secret store-token on the terminal",
      "+ write /etc/dicom-pipeline/pipeline.secrets.env (mode 0600, owner root:root) with PACS_PASSWORD STORE_TOKEN",
      "+ install -m 0640 -o root -g pipelineadmin CHECKOUT/env/prod.env /etc/dicom-pipeline/pipeline.env",
      "+ install -m 0644 -o root -g root CHECKOUT/systemd/dicom-pipeline-pipeline.service /etc/systemd/system/dicom-pipeline-pipeline.service",
      "+ systemctl daemon-reload",
      "+ systemctl enable --now dicom-pipeline-pipeline.service",
    ];
    // In this order, with other lines between them.
    let at = -1;
    for (const line of expected) {
      const found = lines.indexOf(line, at + 1);
      expect(found, `missing or out of order: ${line}\n---\n${run.stdout}`).toBeGreaterThan(at);
      at = found;
    }
    expect(lines.some((l) => /^\+ \S*python3\.11 -m venv \/opt\/pipeline\/venv$/.test(l)), run.stdout).toBe(true);
    expect(run.stdout).toContain("+ restorecon -R /opt/pipeline /etc/dicom-pipeline /var/lib/dicom-pipeline /var/log/dicom-pipeline");
    expect(run.stdout).toContain("journalctl -u dicom-pipeline-pipeline.service -f");
    // Accounts the host does not have are reported, not created.
    expect(run.stderr).toContain("alice has no account on this host");
  });

  it("creates nothing twice: on a host that has the accounts and a running unit it restarts instead", async () => {
    const run = dryRun(await dicom(), "systemd/install.sh", { accounts: true, running: true });
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/groupadd|useradd|usermod/);
    expect(run.stdout).toContain("+ systemctl enable dicom-pipeline-pipeline.service\n+ systemctl restart dicom-pipeline-pipeline.service");
    expect(run.stdout).not.toContain("enable --now");
  });

  it("refuses to run for real without root, and rejects unknown options", async () => {
    const files = await dicom();
    const { root, env } = stageCheckout(files, {});
    const unknown = spawnSync("bash", [join(root, "systemd/install.sh"), "--force"], { env, encoding: "utf8" });
    expect(unknown.status).toBe(2);
    // As root, drop to nobody for the real run; as anyone else, run it as is.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chmodSync(dirname(root), 0o755);
    const real = asRoot
      ? spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", join(root, "systemd/install.sh")], { env, encoding: "utf8" })
      : spawnSync("bash", [join(root, "systemd/install.sh")], { env, encoding: "utf8" });
    expect(real.status, real.stderr).toBe(1);
    expect(real.stderr).toContain("run as root");
    expect(real.stdout).toBe("");
  });

  it("uninstall keeps data unless --purge, and --purge needs confirmation", async () => {
    const files = await dicom();
    const keep = dryRun(files, "systemd/uninstall.sh", { running: true });
    expect(keep.code).toBe(0);
    expect(keep.stdout).toContain("+ systemctl disable --now dicom-pipeline-pipeline.service");
    expect(keep.stdout).toContain("+ systemctl daemon-reload");
    expect(keep.stdout).not.toMatch(/rm -rf|userdel|groupdel/);
    expect(keep.stdout).toContain("Kept (delete with --purge)");
    const purge = dryRun(files, "systemd/uninstall.sh", { accounts: true }, ["--dry-run", "--purge"]);
    expect(purge.code).toBe(0);
    expect(purge.stdout).toContain("+ userdel pipeline");
    expect(purge.stdout).toContain("+ groupdel pipeline");
    expect(purge.stdout).not.toContain("+ groupdel pipelineadmin");
    const { root, env } = stageCheckout(files, {});
    const unconfirmed = spawnSync("bash", [join(root, "systemd/uninstall.sh"), "--purge"], { env, encoding: "utf8", input: "" });
    expect(unconfirmed.status).toBe(1);
    expect(unconfirmed.stderr).toContain("add --yes to confirm");
    expect(unconfirmed.stdout).toBe("");
  });

  it("generates a missing random secret into the credentials folder without printing it", () => {
    const data = baseDescriptor();
    data["secrets"] = { "api-key": { generate: { length: 40, charset: "hex" } } };
    data["services"].api.secrets = ["api-key"];
    const { files } = mustBuild(data);
    const run = dryRun(files, "systemd/install.sh");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`+ write ${credentialPath(mustBuild(data).descriptor, "api-key")} (mode 0600, owner root:root)`);
    expect(run.stdout).not.toMatch(/[0-9a-f]{40}/);
    const unit = parseUnit(fileAt(files, `systemd/${unitName(mustBuild(data).descriptor, "api")}`));
    expect(valuesOf(unit, "LoadCredential")).toEqual(["api-key:/etc/app/credentials/api-key"]);
    expect(valuesOf(unit, "Environment")).toContain("API_KEY_FILE=%d/api-key");
  });
});

describe("install.sh secret helpers", () => {
  /** The script's own helper functions, run against a temporary folder instead of /etc. */
  function runHelpers(script: string, body: string, files: Record<string, string> = {}): { code: number; stdout: string; stderr: string; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), "create-deploy-secrets-"));
    scratch.push(dir);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    mkdirSync(join(dir, "credentials"), { recursive: true });
    const block = (start: string): string => {
      const lines = script.split("\n");
      const from = lines.findIndex((l) => l.startsWith(start));
      if (from < 0) throw new Error(`no ${start} in the script`);
      const to = lines.findIndex((l, i) => i > from && l === "}");
      return lines.slice(from, to + 1).join("\n");
    };
    const helpers = ["say()", "warn()", "die()", "need()", "run()", "write_file()", "random_secret()", "install_secret()", "write_secrets_env()"]
      .map((name) => (name === "say()" || name === "warn()" ? script.split("\n").find((l) => l.startsWith(name)) ?? "" : block(name)))
      .join("\n");
    // Not root here: ownership is the one thing these runs cannot set, so chown and install's -o/-g are dropped.
    const program = [
      "set -euo pipefail",
      `DRY_RUN=0 ROOT=${JSON.stringify(dir)} CREDENTIALS_DIR=${JSON.stringify(join(dir, "credentials"))}`,
      "chown() { :; }",
      'install() { local args=(); while (($# > 0)); do case $1 in -o | -g) shift 2 ;; *) args+=("$1"); shift ;; esac; done; command install "${args[@]}"; }',
      helpers,
      body,
    ].join("\n");
    const run = spawnSync("bash", ["-c", program], { encoding: "utf8", input: "" });
    return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr, dir };
  }

  /** An EnvironmentFile read as systemd reads KEY='value': everything between the quotes, literally. */
  function readEnvironmentFile(content: string): Record<string, string> {
    const values: Record<string, string> = {};
    for (const line of content.split("\n").filter((l) => l !== "")) {
      const match = /^([A-Z_][A-Z0-9_]*)='([^']*)'$/.exec(line);
      if (!match?.[1] || match[2] === undefined) throw new Error(`not KEY='value': ${line}`);
      values[match[1]] = match[2];
    }
    return values;
  }

  const script = (): string => {
    const data = baseDescriptor();
    data["secrets"] = { "api-key": { generate: { length: 40, charset: "hex" } }, "db-password": { env: "DB_PASSWORD", generate: false } };
    data["services"].api.secrets = ["api-key", "db-password"];
    return fileAt(mustBuild(data).files, "systemd/install.sh");
  };

  it("generates a random value once, installs a given one, keeps an installed one, and writes them back literally", () => {
    const tricky = `p@ss $(id) "x" \\ %h #1`;
    const run = runHelpers(
      script(),
      [
        "install_secret api-key generate 40 0-9a-f 'Value of secret api-key'",
        "first=$(<\"$CREDENTIALS_DIR/api-key\")",
        "install_secret api-key generate 40 0-9a-f 'Value of secret api-key'",
        '[[ $first == "$(<"$CREDENTIALS_DIR/api-key")" ]] || { echo "regenerated"; exit 3; }',
        "install_secret db-password prompt 32 A-Za-z0-9 'Value of secret db-password'",
        'write_secrets_env "$ROOT/api.secrets.env" DB_PASSWORD=db-password API_KEY=api-key',
        'stat -c %a "$CREDENTIALS_DIR/api-key" "$CREDENTIALS_DIR/db-password" "$ROOT/api.secrets.env"',
      ].join("\n"),
      { "secrets/db-password": tricky },
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain("keeping the installed value of api-key");
    expect(run.stdout.trim().split("\n").slice(-3)).toEqual(["600", "600", "600"]);
    const values = readEnvironmentFile(readFileSync(join(run.dir, "api.secrets.env"), "utf8"));
    expect(values["DB_PASSWORD"]).toBe(tricky);
    expect(values["API_KEY"]).toMatch(/^[0-9a-f]{40}$/);
  });

  it("refuses a value an EnvironmentFile cannot carry, and a missing value without a terminal", () => {
    const quoted = runHelpers(script(), 'install_secret db-password prompt 32 A-Za-z0-9 x\nwrite_secrets_env "$ROOT/out.env" DB_PASSWORD=db-password', {
      "secrets/db-password": "it's",
    });
    expect(quoted.code).toBe(1);
    expect(quoted.stderr).toContain("holds a quote or a line break");
    const missing = runHelpers(script(), "install_secret db-password prompt 32 A-Za-z0-9 'Value of secret db-password'");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("write it to secrets/db-password");
  });
});

describe("systemd rules", () => {
  const withTarget = (patch: Record<string, unknown>): Record<string, any> => {
    const data = baseDescriptor();
    Object.assign(data["targets"].systemd, patch);
    return data;
  };
  const withService = (patch: Record<string, unknown>): Record<string, any> => {
    const data = baseDescriptor();
    Object.assign(data["services"].api, patch);
    return data;
  };

  it.each([
    ["an install folder in the system's folders", withTarget({ installDir: "/usr/lib/app" }), "/targets/systemd/installDir"],
    ["an install folder in a home folder", withTarget({ installDir: "/home/alice/app" }), "/targets/systemd/installDir"],
    ["an install folder with a space", withTarget({ installDir: "/opt/my app" }), "/targets/systemd/installDir"],
    ["a percent sign in the venv path", withTarget({ venv: "/opt/app/v%h" }), "/targets/systemd/venv"],
    ["the venv as the install folder", withTarget({ venv: "/opt/app" }), "/targets/systemd/venv"],
    ["admins in the service's own group", withTarget({ adminGroup: "app" }), "/targets/systemd/adminGroup"],
    ["group root", withTarget({ group: "root" }), "/targets/systemd/group"],
    ["admins without an admin group", withTarget({ admins: ["alice"] }), "/targets/systemd/admins"],
    ["privateUsers with a port below 1024", (() => {
      const data = withTarget({ privateUsers: true });
      data["services"].api.ports = [{ port: 104 }];
      return data;
    })(), "/targets/systemd/privateUsers"],
    ["a generic program without an absolute path", withService({ build: { runtime: "generic", base: "debian:12", command: ["server"] } }), "/services/api/build/command/0"],
    ["a published port that differs", withService({ ports: [{ port: 8000, published: 80 }] }), "/services/api/ports/0/published"],
    ["a container-only setting", withService({ privileged: true }), "/services/api/privileged"],
    ["several replicas", withService({ replicas: 2 }), "/services/api/replicas"],
    ["a description ending in a backslash", withService({ description: "trailing \\" }), "/services/api/description"],
    ["a mount at another path", withService({ mounts: [{ hostPath: "/srv/in", target: "/data" }] }), "/services/api/mounts/0/target"],
  ])("refuses %s", (_, data, pointer) => {
    const problems = problemsOf(data);
    expect(problems.map((p) => p.pointer), JSON.stringify(problems)).toContain(pointer);
  });
});

// ---------- generated variations ----------

/** Printable text with every character that means something in a unit or a shell. */
const TRICKY = [..."abcXYZ019 $'\"`\\#%;|&()<>*?!~{}[]=:,./-_@+é漢🙂"];
const trickyText = fc.string({ unit: fc.constantFrom(...TRICKY), minLength: 1, maxLength: 20 });
const safeDescription = trickyText.filter((s) => !s.endsWith("\\") && s.trim() === s && s !== "");
const envValue = fc.string({ unit: fc.constantFrom(...TRICKY.filter((c) => c !== "'" && c !== "\\")), maxLength: 16 });

const SERVICE_NAMES = ["api", "worker", "receiver"] as const;
/** Ports from 1024 up, one per service; a service may take the privileged one of its index instead. */
const PORTS = [8000, 8080, 5000] as const;
const PRIVILEGED_PORTS = [104, 443, 80] as const;

const serviceArbitrary = (index: number) =>
  fc.record({
    description: fc.option(safeDescription, { nil: undefined }),
    type: fc.constantFrom("web", "worker", "job", "other"),
    runtime: fc.constantFrom("python", "node", "generic"),
    program: fc.constantFrom("interpreter", "script", "absolute"),
    args: fc.array(trickyText, { maxLength: 4 }),
    port: fc.option(fc.constant(PORTS[index] ?? 9000), { nil: undefined }),
    privilegedPort: fc.boolean(),
    cpus: fc.option(fc.integer({ min: 1, max: 400 }).map((n) => n / 100), { nil: undefined }),
    memory: fc.option(fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.constantFrom("", "k", "m", "g")).map(([n, u]) => `${n}${u}`), { nil: undefined }),
    restart: fc.option(fc.constantFrom("no", "always", "on-failure", "unless-stopped"), { nil: undefined }),
    workingDir: fc.option(fc.constantFrom("/srv/work", "INSTALL"), { nil: undefined }),
    mount: fc.option(fc.record({ path: fc.constantFrom("/srv/in", "/srv/out"), readOnly: fc.boolean() }), { nil: undefined }),
    env: fc.dictionary(fc.constantFrom("SETTING_A", "SETTING_B", "SETTING_C"), envValue, { maxKeys: 2 }),
    secrets: fc.subarray(["alpha", "beta", "gamma"]),
    dependsOnPrevious: fc.boolean(),
  });

const descriptorArbitrary = fc
  .record({
    name: fc.constantFrom("app", "dicom-pipeline", "x1"),
    count: fc.integer({ min: 1, max: 3 }),
    services: fc.tuple(serviceArbitrary(0), serviceArbitrary(1), serviceArbitrary(2)),
    secrets: fc.tuple(
      ...(["alpha", "beta", "gamma"] as const).map((name) =>
        fc.record({
          name: fc.constant(name),
          env: fc.option(fc.constant(`SECRET_${name.toUpperCase()}`), { nil: undefined }),
          description: fc.option(safeDescription, { nil: undefined }),
          generate: fc.oneof(
            fc.constant(undefined),
            fc.constant(false as const),
            fc.record({ length: fc.integer({ min: 16, max: 64 }), charset: fc.constantFrom("alnum" as const, "hex" as const, "base64" as const) }),
          ),
          external: fc.boolean(),
        }),
      ),
    ),
    user: fc.constantFrom("app", "svc_user"),
    group: fc.option(fc.constantFrom("svc", "appgrp"), { nil: undefined }),
    admins: fc.option(fc.subarray(["alice", "bob"], { minLength: 1 }), { nil: undefined }),
    installDir: fc.constantFrom("/opt/app", "/srv/app-1", "/opt/x/y@2"),
    venvOutside: fc.boolean(),
    selinux: fc.boolean(),
    memoryDenyWriteExecute: fc.boolean(),
    privateUsers: fc.boolean(),
  })
  .map((v) => {
    const services: Record<string, unknown> = {};
    const used = v.services.slice(0, v.count);
    const anyPrivileged = used.some((s) => s.port !== undefined && s.privilegedPort);
    const secretNames = new Set<string>();
    used.forEach((s, index) => {
      const name = SERVICE_NAMES[index] ?? "api";
      const command =
        s.runtime === "python"
          ? [s.program === "interpreter" ? "python" : s.program === "script" ? "gunicorn" : "/usr/bin/python3", ...s.args]
          : s.runtime === "node"
            ? [s.program === "interpreter" ? "node" : s.program === "script" ? "next" : "/usr/bin/node", ...s.args]
            : ["/usr/local/bin/server", ...s.args];
      // The schema asks a generic build for its base image, which only containers use.
      const base = s.runtime === "generic" ? { base: "debian:12" } : {};
      const port = s.port === undefined ? undefined : s.privilegedPort ? (PRIVILEGED_PORTS[index] ?? 104) : s.port;
      const service: Record<string, unknown> = {
        platform: "systemd",
        type: s.type,
        build: { runtime: s.runtime, version: s.runtime === "node" ? "20" : "3.12", ...base, command },
      };
      if (s.description !== undefined) service["description"] = s.description;
      if (port !== undefined) {
        service["ports"] = [{ port, exposure: "cluster" }];
        service["healthcheck"] = { tcp: { port } };
      }
      if (s.cpus !== undefined || s.memory !== undefined) {
        service["resources"] = { ...(s.cpus === undefined ? {} : { cpus: s.cpus }), ...(s.memory === undefined ? {} : { memory: s.memory }) };
      }
      if (s.restart !== undefined) service["restart"] = s.restart;
      if (s.workingDir !== undefined) service["workingDir"] = s.workingDir === "INSTALL" ? v.installDir : `${s.workingDir}-${index}`;
      if (s.mount !== undefined) service["mounts"] = [{ hostPath: `${s.mount.path}-${index}`, target: `${s.mount.path}-${index}`, readOnly: s.mount.readOnly }];
      // Services share one env file, so a variable has one value wherever it is read.
      if (Object.keys(s.env).length > 0) {
        service["environment"] = Object.fromEntries(Object.entries(s.env).map(([k, value]) => [`${k}_${index}`, value]));
      }
      if (s.secrets.length > 0) {
        service["secrets"] = s.secrets;
        for (const secret of s.secrets) secretNames.add(secret);
      }
      if (index > 0 && s.dependsOnPrevious) service["dependsOn"] = [SERVICE_NAMES[index - 1]];
      services[name] = service;
    });
    const secrets: Record<string, unknown> = {};
    for (const secret of v.secrets) {
      if (!secretNames.has(secret.name)) continue;
      secrets[secret.name] = {
        ...(secret.env === undefined ? {} : { env: secret.env }),
        ...(secret.description === undefined ? {} : { description: secret.description }),
        ...(secret.generate === undefined ? {} : { generate: secret.generate }),
        ...(secret.external && secret.generate === undefined ? { external: true } : {}),
      };
    }
    const systemd: Record<string, unknown> = { user: v.user, installDir: v.installDir };
    if (v.group !== undefined) systemd["group"] = v.group;
    if (v.admins !== undefined) {
      systemd["adminGroup"] = "maintainers";
      systemd["admins"] = v.admins;
    }
    if (v.venvOutside) systemd["venv"] = "/opt/venvs/app";
    if (v.selinux) systemd["selinux"] = true;
    if (v.memoryDenyWriteExecute) systemd["memoryDenyWriteExecute"] = true;
    if (v.privateUsers && !anyPrivileged) systemd["privateUsers"] = true;
    return {
      name: v.name,
      cluster: { cidr: ["10.0.0.0/16"] },
      services,
      ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
      targets: { systemd },
    };
  });

describe("generated variations of descriptors", () => {
  it("every unit passes verify and security, every script bash -n and shellcheck, values round-trip", async () => {
    await fc.assert(
      fc.asyncProperty(descriptorArbitrary, async (data) => {
        const { descriptor, files } = mustBuild(data);
        await checkUnitFiles(files);
        await checkScripts(files);
        const target = descriptor.targets?.systemd as SystemdTarget;
        for (const [name, service] of Object.entries(descriptor.services)) {
          const unit = parseUnit(fileAt(files, `systemd/${unitName(descriptor, name)}`));
          // Text and arguments come out exactly as written, however they were quoted.
          expect(expandSpecifiers(valuesOf(unit, "Description")[0] ?? "")).toBe(service.description ?? `${descriptor.name} ${name}`);
          expect(valuesOf(unit, "ExecStart").map(parseExecStart)).toEqual([execArgv(target, service)]);
          const privileged = (service.ports ?? []).some((p) => p.port < 1024);
          expect(valuesOf(unit, "AmbientCapabilities")).toEqual([privileged ? "CAP_NET_BIND_SERVICE" : ""]);
        }
        const install = fileAt(files, "systemd/install.sh");
        const prompts = installSecretCalls(install).map((call) => call[4]);
        for (const [name, secret] of Object.entries(descriptor.secrets ?? {})) {
          expect(prompts).toContain(`Value of secret ${name}${secret.description === undefined ? "" : ` (${secret.description})`}`);
        }
        const run = dryRun(files, "systemd/install.sh");
        expect(run.stderr).not.toMatch(/must not run/);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain("+ systemctl daemon-reload");
      }),
      { numRuns: 20 },
    );
  }, 240_000);

  it("DEPLOY.md stays prettier-clean", async () => {
    await fc.assert(
      fc.asyncProperty(descriptorArbitrary, async (data) => {
        const { files } = mustBuild(data);
        expectClean(await checkPrettierClean("DEPLOY.md", fileAt(files, "DEPLOY.md")), "DEPLOY.md");
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});

describe("injection", () => {
  // A file of this run's own that a command substitution escaping its quotes would create.
  const canaryDir = mkdtempSync(join(tmpdir(), "create-deploy-canary-"));
  const canary = join(canaryDir, "pwned");
  afterAll(() => rmSync(canaryDir, { recursive: true, force: true }));
  const NASTY = `evil %n %% $(touch ${canary}) \`id\` ; "dq" 'sq' \\ # ünï 🙂 $HOME \${X}`;

  it("values full of unit and shell syntax come out inert and intact", async () => {
    const data = baseDescriptor();
    data["services"].api.description = NASTY;
    data["services"].api.build.command = ["python", "-m", "app", ";", NASTY, "%h", "$USER", "a\\b", ""];
    data["services"].api.build.requirements = "req $(id) 'x'.txt";
    data["services"].api.secrets = ["token"];
    data["secrets"] = { token: { description: NASTY, generate: false } };
    const { files } = mustBuild(data);
    await checkUnitFiles(files);
    await checkScripts(files);
    const unit = parseUnit(fileAt(files, "systemd/app-api.service"));
    expect(expandSpecifiers(valuesOf(unit, "Description")[0] ?? "")).toBe(NASTY);
    expect(parseExecStart(valuesOf(unit, "ExecStart")[0] ?? "")).toEqual(["/opt/app/venv/bin/python", "-m", "app", ";", NASTY, "%h", "$USER", "a\\b", ""]);
    const install = fileAt(files, "systemd/install.sh");
    expect(installSecretCalls(install)).toEqual([["token", "prompt", "32", "A-Za-z0-9", `Value of secret token (${NASTY})`]]);
    const run = dryRun(files, "systemd/install.sh", {}, ["--dry-run"], ["req $(id) 'x'.txt"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("--requirement /opt/app/req\\ \\$\\(id\\)\\ \\'x\\'.txt");
    expect(existsSync(canary)).toBe(false);
  });

  it.each([
    ["description", (d: Record<string, any>) => (d["services"].api.description = "line\nExecStartPre=/bin/sh"), "/services/api/description"],
    ["a program argument", (d: Record<string, any>) => d["services"].api.build.command.push("a\nb"), "/services/api/build/command/3"],
    ["a secret's description", (d: Record<string, any>) => {
      d["services"].api.secrets = ["token"];
      d["secrets"] = { token: { description: "x\r\ny" } };
    }, "/secrets/token/description"],
    ["an environment value", (d: Record<string, any>) => (d["services"].api.environment = { MODE: "a\nEnvironment=B=1" }), "/services/api/environment/MODE"],
    ["the install folder", (d: Record<string, any>) => (d["targets"].systemd.installDir = "/opt/app\n/x"), "/targets/systemd/installDir"],
    ["an admin", (d: Record<string, any>) => {
      d["targets"].systemd.adminGroup = "ops";
      d["targets"].systemd.admins = ["alice\nbob"];
    }, "/targets/systemd/admins/0"],
    ["the requirements file", (d: Record<string, any>) => (d["services"].api.build.requirements = "r.txt\nrm -rf /"), "/services/api/build/requirements"],
  ])("a line break in %s is refused at validation", (_, mutate, pointer) => {
    const data = baseDescriptor();
    mutate(data);
    const problems = problemsOf(data);
    expect(problems.map((p) => p.pointer), JSON.stringify(problems)).toContain(pointer);
  });

  it.each([
    ["user", { user: "app;id" }, "/targets/systemd/user"],
    ["group", { group: "g$(id)" }, "/targets/systemd/group"],
    ["admin group", { adminGroup: "ops'x" }, "/targets/systemd/adminGroup"],
    ["install folder", { installDir: "/opt/$(id)" }, "/targets/systemd/installDir"],
    ["venv", { venv: "/opt/app/v\"x" }, "/targets/systemd/venv"],
  ])("shell and unit syntax in the %s is refused", (_, patch, pointer) => {
    const data = baseDescriptor();
    Object.assign(data["targets"].systemd, patch);
    const problems = problemsOf(data);
    expect(problems.map((p) => p.pointer), JSON.stringify(problems)).toContain(pointer);
  });
});
