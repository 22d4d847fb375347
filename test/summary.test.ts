// The review summary (`diff --summary`) on real before/after pairs: copies of the
// examples, edited the way pull requests edit them. Every flagged kind of change is
// found and worded; harmless changes are not flagged; the Markdown is prettier-clean;
// and the command line reads the previous descriptor from --base or from git.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { compareRenderings } from "../src/commands/summary.js";
import { kinds } from "../src/kinds/index.js";
import { parseDescriptor } from "../src/load.js";
import type { Descriptor } from "../src/model/descriptor.js";
import { planFiles } from "../src/plan.js";
import { renderFiles } from "../src/render/index.js";
import { compareDescriptors, isRootUser, summarizeChange, type FileChange } from "../src/summary.js";
import { validateDescriptor } from "../src/validate/index.js";
import { checkPrettierClean, expectClean } from "./checkers/index.js";
import { repoRoot } from "./checkers/paths.js";
import { assertBuilt, copyExample, runCli } from "./support/bin.js";

/** Descriptors as plain data, edited freely the way a pull request edits deploy.yaml. */
type Doc = Record<string, any>;

function exampleDocument(name: string): Doc {
  return parse(readFileSync(join(repoRoot, "examples", name, "deploy.yaml"), "utf8"), { version: "1.2" }) as Doc;
}

function validated(document: Doc): Descriptor {
  const result = validateDescriptor(parseDescriptor(stringify(document, { version: "1.2" }), "deploy.yaml"), "deploy.yaml", kinds);
  if (!result.descriptor) throw new Error(result.problems.map((p) => `${p.pointer}: ${p.message}`).join("\n"));
  return result.descriptor;
}

function render(d: Descriptor) {
  return renderFiles(planFiles(d), { descriptorFile: "deploy.yaml" });
}

interface Pair {
  before: Descriptor;
  after: Descriptor;
  files: FileChange[];
  markdown: string;
  attention: string[];
  other: string[];
}

/** An example, and the same example after `edit`: both validated, rendered and summarised. */
function change(example: string, edit: (d: Doc) => void): Pair {
  const original = exampleDocument(example);
  const edited = structuredClone(original);
  edit(edited);
  const before = validated(original);
  const after = validated(edited);
  const files = compareRenderings(render(before), render(after));
  const { attention, other } = compareDescriptors(before, after);
  return { before, after, files, markdown: summarizeChange(before, after, files), attention, other };
}

function only(items: string[], pattern: RegExp): string {
  const matching = items.filter((item) => pattern.test(item));
  expect(matching, `one item matching ${pattern} in:\n${items.join("\n")}`).toHaveLength(1);
  return matching[0] ?? "";
}

describe("flagged changes", () => {
  it("a port that became public", () => {
    const pair = change("genui", (d) => {
      d.services.web.ports[0].exposure = "public";
    });
    const item = only(pair.attention, /port `8000\/tcp` is public/);
    expect(item).toContain("`web`");
    expect(item).toContain("was internal");
    expect(pair.markdown).toContain("### Needs attention");
  });

  it("a database port made public with allowPublic", () => {
    const pair = change("genui", (d) => {
      d.services.db.ports[0].exposure = "public";
      d.services.db.ports[0].allowPublic = true;
    });
    expect(only(pair.attention, /`db` port `5432\/tcp` is public/)).toContain("was cluster");
    only(pair.attention, /allowPublic/);
  });

  it("a data store newly reachable from the cluster network", () => {
    const pair = change("bids-flux", (d) => {
      d.services.db.ports = [{ port: 5432, exposure: "cluster" }];
    });
    expect(only(pair.attention, /`db` port `5432\/tcp` of a database is reachable from the cluster network/)).toContain("(new)");
  });

  it("a service that now runs as root", () => {
    const pair = change("genui", (d) => {
      d.services.redis.user = "root";
    });
    expect(only(pair.attention, /`redis` runs as root/)).toContain("was `redis`");
    const numeric = change("bids-flux", (d) => {
      d.services.api.user = "0:0";
    });
    only(numeric.attention, /`api` runs as root.*user `0:0`/);
  });

  it("a service whose image chooses its user now", () => {
    const pair = change("genui", (d) => {
      delete d.services.db.user;
    });
    expect(only(pair.attention, /`db` no longer sets a user/)).toContain("root for many images");
  });

  it("privileged, added capabilities, a lost read-only root and a host-control mount", () => {
    const pair = change("genui", (d) => {
      d.services["worker-gpu"].privileged = true;
      d.services.nginx.capAdd = ["NET_ADMIN"];
      d.services.nginx.readOnly = false;
      d.services.worker.mounts.push({ hostPath: "/var/run/docker.sock", target: "/var/run/docker.sock" });
    });
    only(pair.attention, /`worker-gpu` runs privileged/);
    only(pair.attention, /`nginx` gains the capability `NET_ADMIN`/);
    only(pair.attention, /`nginx` no longer has a read-only root filesystem/);
    only(pair.attention, /`worker` mounts the host's `\/var\/run\/docker.sock`/);
  });

  it("a secret added, and one removed", () => {
    const added = change("genui", (d) => {
      d.secrets["smtp-password"] = { description: "SMTP relay password", generate: false };
      d.services.web.secrets.push("smtp-password");
    });
    expect(only(added.attention, /Secret `smtp-password` added/)).toContain("its value must be provided");
    only(added.other, /`web` now reads the secret `smtp-password`/);
    expect(added.files.map((f) => f.path)).toEqual(expect.arrayContaining(["compose.yaml", "env/secrets.env.example", "DEPLOY.md"]));

    const removed = change("bids-flux", (d) => {
      delete d.secrets["mercure-subscriber-jwt"];
      d.services.mercure.secrets = d.services.mercure.secrets.filter((s: { source: string }) => s.source !== "mercure-subscriber-jwt");
    });
    only(removed.attention, /Secret `mercure-subscriber-jwt` removed/);
    only(removed.other, /`mercure` no longer reads the secret `mercure-subscriber-jwt`/);
  });

  it("a firewall rule opened", () => {
    const pair = change("dicom-pipeline", (d) => {
      d.targets.firewall.adminCidr.push("10.30.0.0/16");
    });
    expect(only(pair.attention, /Firewall opens `22\/tcp` on the host to `10.30.0.0\/16`/)).toContain("SSH");
    expect(pair.files).toEqual(expect.arrayContaining([expect.objectContaining({ change: "update", kind: "shell" })]));
  });

  it("a cluster port made public opens the firewall to anywhere on the node running it", () => {
    const pair = change("bids-flux", (d) => {
      d.services.api.ports[0].exposure = "public";
    });
    only(pair.attention, /`api` port `8000\/tcp` is public/);
    only(pair.attention, /Firewall opens `8000\/tcp` on `data-server` to anywhere/);
    expect(pair.files.filter((f) => f.kind === "nftables").map((f) => f.path)).toEqual(["firewall/data-server.nft"]);
  });

  it("the firewall target removed", () => {
    const pair = change("genui", (d) => {
      delete d.targets.firewall;
    });
    only(pair.attention, /firewall rules are no longer generated/);
    expect(pair.files.filter((f) => f.change === "remove").length).toBeGreaterThan(0);
  });

  it("an image tag unpinned", () => {
    const latest = change("genui", (d) => {
      d.services.redis.image = "redis:latest";
    });
    expect(only(latest.attention, /`redis` image `redis:latest` is not pinned/)).toContain("was `redis:7.4-alpine`");
    const bare = change("bids-flux", (d) => {
      d.services.mercure.image = "dunglas/mercure";
    });
    only(bare.attention, /`mercure` image `dunglas\/mercure` is not pinned/);
  });

  it("an image or base image no longer pinned by digest", () => {
    const digest = `sha256:${"c".repeat(64)}`;
    const base = exampleDocument("mlops-api");
    base.services.api.build.digest = digest;
    const before = validated(base);
    const after = validated(exampleDocument("mlops-api"));
    only(compareDescriptors(before, after).attention, /`api` base image `python:3.12-slim-bookworm` is no longer pinned by digest/);

    const pinned = exampleDocument("genui");
    pinned.services.db.image = `postgres:16.4-bookworm@${digest}`;
    only(compareDescriptors(validated(pinned), validated(exampleDocument("genui"))).attention, /`db` image `postgres:16.4-bookworm` is no longer pinned by digest/);
  });
});

describe("changes that need no special attention", () => {
  it("a pinned tag bumped, a port narrowed, a replica added, a variable changed", () => {
    const pair = change("bids-flux", (d) => {
      d.services.db.image = "postgres:16.5-bookworm";
      d.services.api.ports[0] = { port: 8000, exposure: "internal" };
      d.services.api.replicas = 3;
      d.services.api.environment.DB_NAME = "catalogue";
    });
    expect(pair.attention).toEqual([]);
    only(pair.other, /`db` image `postgres:16.4-bookworm` → `postgres:16.5-bookworm`/);
    only(pair.other, /`api` port `8000\/tcp` is now internal \(was cluster\)/);
    only(pair.other, /`api` replicas 2 → 3/);
    only(pair.other, /`api` environment: changed `DB_NAME`/);
    expect(pair.markdown).toContain("Nothing that needs special attention");
  });

  it("a closed firewall rule is reported, not flagged", () => {
    const pair = change("dicom-pipeline", (d) => {
      d.services.pipeline.ports[0].exposure = "local";
    });
    expect(pair.attention).toEqual([]);
    only(pair.other, /Firewall closes `104\/tcp` on the host to `10.20.0.0\/16`/);
  });

  it("no change at all", () => {
    const pair = change("mlops-api", () => undefined);
    expect(pair.files).toEqual([]);
    expect(pair.markdown).toBe("## Deployment change: `mlops-api`\n\nNo change to the deployment.\n");
  });

  it("tells which root users are root", () => {
    for (const user of ["root", "0", "0:0", "root:root"]) expect(isRootUser(user), user).toBe(true);
    for (const user of [undefined, "10001:0", "postgres", "host", "1000"]) expect(isRootUser(user), String(user)).toBe(false);
  });
});

describe("the summary text", () => {
  it("lists services added and removed, and the files they add and remove", () => {
    const pair = change("genui", (d) => {
      d.services.flower = { type: "web", roles: ["worker"], image: "mher/flower:2.0", ports: [{ port: 5555, exposure: "local" }], networks: ["backend"] };
      delete d.services.worker;
    });
    only(pair.other, /Service `flower` added \(`mher\/flower:2.0`\)/);
    only(pair.other, /Service `worker` removed/);
    expect(pair.markdown).toMatch(/### Generated files \(\d+ files\)/);
    expect(pair.markdown).toMatch(/\| `compose\.yaml`\s+\| changed \| compose/);
  });

  it("describes a new descriptor with its risks still flagged", () => {
    const after = validated(exampleDocument("mlops-api"));
    const files = compareRenderings([], render(after));
    const markdown = summarizeChange(undefined, after, files);
    expect(markdown).toContain("`deploy.yaml` is new");
    expect(markdown).toMatch(/`api` port `8080\/tcp` is public\*\* \(new service\)/);
    expect(files.every((f) => f.change === "create")).toBe(true);
  });

  it("compares files only when the previous descriptor is unknown", () => {
    const after = validated(exampleDocument("mlops-api"));
    const markdown = summarizeChange(undefined, after, [{ path: "compose.yaml", kind: "compose", change: "update" }], { baseUnknown: "not in a git repository" });
    expect(markdown).toContain("The previous descriptor is not known (not in a git repository)");
    expect(markdown).not.toContain("Needs attention");
    expect(markdown).toContain("| `compose.yaml` | changed | compose |");
  });

  it("is prettier-clean Markdown", async () => {
    const pairs = [
      change("genui", (d) => {
        d.services.web.ports[0].exposure = "public";
        d.services.redis.image = "redis";
        d.secrets["x-key"] = {};
        d.services.web.secrets.push("x-key");
      }),
      change("bids-flux", (d) => {
        d.services.db.image = "postgres:16.5-bookworm";
      }),
      change("mlops-api", () => undefined),
    ];
    for (const pair of pairs) expectClean(await checkPrettierClean("summary.md", pair.markdown), pair.after.name);
  });
});

describe("create-deploy diff --summary", () => {
  beforeAll(() => assertBuilt());

  function git(dir: string, ...args: string[]): void {
    const run = spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: dir, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
  }

  function editDescriptor(dir: string, edit: (d: Doc) => void): void {
    const document = parse(readFileSync(join(dir, "deploy.yaml"), "utf8"), { version: "1.2" }) as Doc;
    edit(document);
    writeFileSync(join(dir, "deploy.yaml"), stringify(document, { version: "1.2" }));
  }

  it("compares with --base FILE, and an empty --base means there was none", async () => {
    const dir = await copyExample("genui");
    expect((await runCli(["generate"], dir)).code).toBe(0);
    writeFileSync(join(dir, "base.yaml"), readFileSync(join(dir, "deploy.yaml")));
    editDescriptor(dir, (d) => {
      d.services.redis.user = "root";
    });
    const run = await runCli(["diff", "--summary", "--base", "base.yaml"], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("**`redis` runs as root**");
    expect(run.stdout).toMatch(/\| `compose\.yaml`\s+\| changed \| compose/);

    writeFileSync(join(dir, "empty.yaml"), "");
    const fresh = await runCli(["diff", "--summary", "--base", "empty.yaml"], dir);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toContain("`deploy.yaml` is new");

    expect(await runCli(["diff", "--summary", "--base", "missing.yaml"], dir)).toMatchObject({ code: 1, stderr: expect.stringContaining("missing.yaml: file not found") });
    expect(await runCli(["diff", "--base", "base.yaml"], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining("--base is only read with --summary") });
  });

  it("takes the previous descriptor from git HEAD by default", async () => {
    const dir = await copyExample("mlops-api");
    expect((await runCli(["generate"], dir)).code).toBe(0);
    git(dir, "init", "-q");
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "first");
    editDescriptor(dir, (d) => {
      d.secrets = { "model-token": { description: "Token of the model store" } };
      d.services.api.secrets = ["model-token"];
    });
    const run = await runCli(["diff", "--summary"], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("**Secret `model-token` added**");
  });

  it("outside git and without --base, lists what generate would change", async () => {
    const dir = await copyExample("mlops-api");
    const run = await runCli(["diff", "--summary"], dir);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("not in a git repository");
    expect(run.stdout).toContain("The previous descriptor is not known");
    expect(run.stdout).toMatch(/\| `compose\.yaml`\s+\| added\s+\| compose/);
  });
});
