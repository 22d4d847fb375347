import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RenderedFile } from "../src/render/index.js";
import {
  applyChanges,
  type ChangePlan,
  createInspector,
  formatPlan,
  inspectTarget,
  type Manifest,
  MANIFEST_PATH,
  parseManifest,
  planChanges,
  readCurrentState,
  resolveOutputRoot,
  serializeManifest,
  WriteError,
} from "../src/write/index.js";

const META = { version: "9.9.9", descriptor: "deploy.yaml" };

function sha(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function file(path: string, content: string, executable = false): RenderedFile {
  return { path, kind: "other", content, executable };
}

function bytes(text: string): Uint8Array {
  return Buffer.from(text, "utf8");
}

function manifestOf(entries: Record<string, string>): Manifest {
  return {
    generator: "create-deploy",
    version: "0.0.1",
    descriptor: "deploy.yaml",
    files: Object.entries(entries).map(([path, content]) => ({ path, kind: "other" as const, sha256: sha(content) })),
  };
}

/** Everything under a folder, symbolic links not followed: path → type, mode and content hash. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(rel: string): Promise<void> {
    for (const entry of await fs.readdir(join(dir, rel))) {
      const path = rel === "" ? entry : `${rel}/${entry}`;
      const absolute = join(dir, path);
      const stats = await fs.lstat(absolute);
      if (stats.isSymbolicLink()) out[path] = `link ${await fs.readlink(absolute)}`;
      else if (stats.isDirectory()) {
        out[path] = "dir";
        await walk(path);
      } else out[path] = `file ${(stats.mode & 0o777).toString(8)} ${sha(await fs.readFile(absolute, "utf8"))}`;
    }
  }
  await walk("");
  return out;
}

async function planFor(outDir: string, rendered: RenderedFile[]): Promise<ChangePlan> {
  const root = await resolveOutputRoot(outDir);
  const state = await readCurrentState(
    root,
    rendered.map((f) => f.path),
  );
  expect(state.manifestProblem).toBeUndefined();
  return planChanges(state, rendered, META);
}

async function generate(outDir: string, rendered: RenderedFile[], force = false) {
  return applyChanges(outDir, await planFor(outDir, rendered), { force });
}

let base: string;
beforeEach(async () => {
  base = await fs.realpath(await fs.mkdtemp(join(tmpdir(), "create-deploy-write-")));
});
afterEach(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

describe("planChanges", () => {
  it("classifies every path against the manifest and the disk", () => {
    const manifest = manifestOf({
      "update.txt": "old\n",
      "same.txt": "same\n",
      "remove.txt": "gone\n",
      "edited.txt": "generated\n",
      "edited-obsolete.txt": "generated\n",
      "deleted-obsolete.txt": "x\n",
    });
    const filesOnDisk = new Map<string, Uint8Array | undefined>([
      ["update.txt", bytes("old\n")],
      ["same.txt", bytes("same\n")],
      ["remove.txt", bytes("gone\n")],
      ["edited.txt", bytes("generated\nplus a line of mine\n")],
      ["edited-obsolete.txt", bytes("changed\n")],
      ["foreign.txt", bytes("mine\n")],
      ["adopted.txt", bytes("adopt\n")],
    ]);
    const rendered = [
      file("create.txt", "new\n"),
      file("update.txt", "new\n"),
      file("same.txt", "same\n"),
      file("edited.txt", "generated again\n"),
      file("foreign.txt", "generated\n"),
      file("adopted.txt", "adopt\n"),
    ];
    const plan = planChanges({ manifest, filesOnDisk }, rendered, META);
    expect(plan.changes.map((c) => [c.path, c.action])).toEqual([
      ["adopted.txt", "unchanged"],
      ["create.txt", "create"],
      ["edited-obsolete.txt", "hand-edited"],
      ["edited.txt", "hand-edited"],
      ["foreign.txt", "conflict"],
      ["remove.txt", "remove"],
      ["same.txt", "unchanged"],
      ["update.txt", "update"],
    ]);
    expect(formatPlan(plan)).toEqual([
      "keep    adopted.txt",
      "create  create.txt",
      "edited  edited-obsolete.txt",
      "edited  edited.txt",
      "edited  foreign.txt",
      "remove  remove.txt",
      "keep    same.txt",
      "update  update.txt",
    ]);
    expect(plan.manifest.files.map((f) => f.path)).toEqual(rendered.map((f) => f.path).sort());
    expect(plan.manifestChanged).toBe(true);
  });

  it("treats a manifest identical to the new one as unchanged", () => {
    const rendered = [file("b.txt", "b\n"), file("a.txt", "a\n")];
    const first = planChanges({ filesOnDisk: new Map() }, rendered, META);
    const again = planChanges({ manifest: first.manifest, filesOnDisk: new Map() }, rendered, META);
    expect(again.manifestChanged).toBe(false);
  });

  it("refuses generated paths that would leave the output folder", () => {
    for (const path of ["../x", "/etc/passwd", "a/../../x", "a//b", "./a", "a\\b", ".create-deploy/manifest.json"]) {
      expect(() => planChanges({ filesOnDisk: new Map() }, [file(path, "x\n")], META), path).toThrow(WriteError);
    }
  });
});

describe("manifest", () => {
  it("is the contract's JSON: fixed key order, files sorted by path, 2 spaces, final newline", () => {
    const rendered: RenderedFile[] = [
      { path: "compose.yaml", kind: "compose", content: "services: {}\n", executable: false },
      { path: "bin/install.sh", kind: "shell", content: "#!/bin/sh\n", executable: true },
    ];
    const plan = planChanges({ filesOnDisk: new Map() }, rendered, { version: "1.2.3", descriptor: "deploy.yaml" });
    const text = serializeManifest(plan.manifest);
    const expected =
      JSON.stringify(
        {
          generator: "create-deploy",
          version: "1.2.3",
          descriptor: "deploy.yaml",
          files: [
            { path: "bin/install.sh", kind: "shell", sha256: sha("#!/bin/sh\n") },
            { path: "compose.yaml", kind: "compose", sha256: sha("services: {}\n") },
          ],
        },
        null,
        2,
      ) + "\n";
    expect(text).toBe(expected);
    expect(text.startsWith('{\n  "generator": "create-deploy",\n  "version": "1.2.3",')).toBe(true);
    const parsed = parseManifest(text);
    expect(parsed.ok && serializeManifest(parsed.manifest)).toBe(text);
  });

  it("distrusts a tampered manifest", () => {
    const good = manifestOf({ "a.txt": "a\n" });
    const variants: unknown[] = [
      { ...good, files: [{ path: "../outside.txt", kind: "other", sha256: sha("x") }] },
      { ...good, files: [{ path: "/etc/passwd", kind: "other", sha256: sha("x") }] },
      { ...good, files: [{ path: "a.txt", kind: "binary", sha256: sha("x") }] },
      { ...good, files: [{ path: "a.txt", kind: "other", sha256: "abc" }] },
      { ...good, files: [...good.files, ...good.files] },
      { ...good, generator: "someone-else" },
      [],
    ];
    for (const variant of variants) {
      expect(parseManifest(JSON.stringify(variant)).ok, JSON.stringify(variant)).toBe(false);
    }
    expect(parseManifest("{not json").ok).toBe(false);
  });
});

describe("applyChanges", () => {
  it("writes files with their modes, the manifest last, and nothing on a second run", async () => {
    const rendered = [file("docs/DEPLOY.md", "# Deploy\n"), file("scripts/install.sh", "#!/bin/sh\n", true)];
    const result = await generate(base, rendered);
    expect(result.ok).toBe(true);
    const snap = await snapshot(base);
    expect(snap["docs/DEPLOY.md"]).toBe(`file 644 ${sha("# Deploy\n")}`);
    expect(snap["scripts/install.sh"]).toBe(`file 755 ${sha("#!/bin/sh\n")}`);
    const manifest = await fs.readFile(join(base, MANIFEST_PATH), "utf8");
    const parsed = parseManifest(manifest);
    expect(parsed.ok && parsed.manifest.files.map((f) => f.path)).toEqual(["docs/DEPLOY.md", "scripts/install.sh"]);
    expect(Object.keys(snap).filter((p) => p.includes("create-deploy-"))).toEqual([]);

    const plan = await planFor(base, rendered);
    expect(plan.changes.every((c) => c.action === "unchanged")).toBe(true);
    expect(plan.manifestChanged).toBe(false);
    const again = await applyChanges(base, plan, { force: false });
    expect(again.ok && again.applied).toEqual([]);
    expect(await snapshot(base)).toEqual(snap);
  });

  it("refuses to overwrite or delete a hand-edited file, unless forced", async () => {
    await generate(base, [file("a.txt", "a\n"), file("old.txt", "old\n")]);
    await fs.writeFile(join(base, "a.txt"), "a\nmy line\n");
    await fs.writeFile(join(base, "old.txt"), "old\nmy line\n");
    await fs.writeFile(join(base, "mine.txt"), "mine\n");
    const before = await snapshot(base);
    const next = [file("a.txt", "a2\n"), file("mine.txt", "generated\n")];

    const refused = await generate(base, next);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.blocked.map((c) => c.path)).toEqual(["a.txt", "mine.txt", "old.txt"]);
    expect(await snapshot(base)).toEqual(before);

    const forced = await generate(base, next, true);
    expect(forced.ok).toBe(true);
    expect(await fs.readFile(join(base, "a.txt"), "utf8")).toBe("a2\n");
    expect(await fs.readFile(join(base, "mine.txt"), "utf8")).toBe("generated\n");
    await expect(fs.access(join(base, "old.txt"))).rejects.toThrow();
  });

  it("removes files no longer generated and the folders they leave empty, never the output folder", async () => {
    const out = join(base, "out");
    await generate(out, [file("a/b/c.txt", "c\n"), file("a/keep.txt", "k\n"), file("top.txt", "t\n")]);
    await generate(out, [file("a/keep.txt", "k\n")]);
    expect(await snapshot(out)).toEqual({
      ".create-deploy": "dir",
      ".create-deploy/manifest.json": expect.stringMatching(/^file 644 /) as unknown as string,
      a: "dir",
      "a/keep.txt": `file 644 ${sha("k\n")}`,
    });
    await generate(out, []);
    expect(Object.keys(await snapshot(out))).toEqual([".create-deploy", ".create-deploy/manifest.json"]);
  });

  it("lets a folder replace a file that is going away", async () => {
    await generate(base, [file("docker", "was a file\n")]);
    const result = await generate(base, [file("docker/Dockerfile", "FROM scratch\n")]);
    expect(result.ok).toBe(true);
    expect(await fs.readFile(join(base, "docker/Dockerfile"), "utf8")).toBe("FROM scratch\n");
  });

  it("refuses, before any change, a file standing where a folder must go", async () => {
    await fs.writeFile(join(base, "docker"), "mine\n");
    const before = await snapshot(base);
    const error = await generate(base, [file("a.txt", "a\n"), file("docker/Dockerfile", "FROM scratch\n")]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).message).toBe("cannot write docker/Dockerfile: docker is a file, not a folder");
    expect(await snapshot(base)).toEqual(before);
  });

  it("rolls back every rename when a later step fails", async () => {
    await generate(base, [file("a.txt", "a\n"), file("gone.txt", "gone\n"), file("z.txt", "z\n")]);
    const before = await snapshot(base);
    const plan = await planFor(base, [file("a.txt", "a2\n"), file("new/b.txt", "b\n"), file("z.txt", "z2\n")]);
    let renames = 0;
    const failing = await applyChanges(base, plan, {
      force: false,
      ops: {
        rename: async (from, to) => {
          // Fail putting z.txt in place, after gone.txt and the old z.txt were moved aside
          // and a.txt and new/b.txt were put in place.
          if (from.endsWith(".create-deploy-tmp") && to.endsWith("/z.txt"))
            throw Object.assign(new Error("disk on fire"), { code: "EIO" });
          renames++;
          await fs.rename(from, to);
        },
      },
    }).catch((error: unknown) => error);
    expect(failing).toBeInstanceOf(WriteError);
    expect((failing as WriteError).message).toMatch(/could not write z\.txt: EIO; nothing was changed/);
    expect(renames).toBeGreaterThanOrEqual(3);
    expect(await snapshot(base)).toEqual(before);
  });

  it("leaves everything as it was when staging a file fails", async () => {
    await generate(base, [file("a.txt", "a\n")]);
    const before = await snapshot(base);
    // The target name fits the file system; its temporary sibling's longer name does not.
    const long = "n".repeat(240);
    const error = await generate(base, [file("a.txt", "a2\n"), file(`new/${long}`, "x\n")]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).message).toMatch(/ENAMETOOLONG; nothing was changed/);
    expect(await snapshot(base)).toEqual(before);
  });
});

describe("path safety", () => {
  it("refuses an output folder that is a symbolic link leading out of its folder", async () => {
    const repo = join(base, "repo");
    const outside = join(base, "outside");
    await fs.mkdir(repo);
    await fs.mkdir(outside);
    await fs.symlink(outside, join(repo, "out"));
    await expect(resolveOutputRoot(join(repo, "out"), { cwd: repo })).rejects.toThrow(/out.*outside.*symbolic link/);
    const plan = planChanges({ filesOnDisk: new Map() }, [file("a.txt", "a\n")], META);
    await expect(applyChanges(join(repo, "out"), plan, { force: false, cwd: repo })).rejects.toThrow(WriteError);
    await expect(applyChanges(join(repo, "out"), plan, { force: true })).rejects.toThrow(WriteError);
    expect(await fs.readdir(outside)).toEqual([]);
  });

  it("refuses an output folder reached through a linked folder that leaves the current folder", async () => {
    const repo = join(base, "repo");
    const outside = join(base, "outside");
    await fs.mkdir(repo);
    await fs.mkdir(join(outside, "deploy"), { recursive: true });
    await fs.symlink(outside, join(repo, "infra"));
    await expect(resolveOutputRoot(join(repo, "infra", "deploy"), { cwd: repo })).rejects.toThrow(WriteError);
  });

  it("accepts a linked output folder that stays inside the current folder", async () => {
    const repo = join(base, "repo");
    await fs.mkdir(join(repo, "real-out"), { recursive: true });
    await fs.symlink(join(repo, "real-out"), join(repo, "out"));
    const root = await resolveOutputRoot(join(repo, "out"), { cwd: repo });
    expect(root.real).toBe(join(repo, "real-out"));
  });

  it("refuses a linked subfolder that leads out, before writing anything", async () => {
    const outside = join(base, "outside");
    const out = join(base, "out");
    await fs.mkdir(outside);
    await fs.mkdir(out);
    await fs.symlink(outside, join(out, "sub"));
    const plan = planChanges({ filesOnDisk: new Map() }, [file("a.txt", "a\n"), file("sub/b.txt", "b\n")], META);
    await expect(applyChanges(out, plan, { force: true })).rejects.toThrow(/sub leads to .*outside the output folder/);
    await expect(readCurrentState(await resolveOutputRoot(out), ["sub/b.txt"])).rejects.toThrow(WriteError);
    expect(await fs.readdir(outside)).toEqual([]);
    expect(await fs.readdir(out)).toEqual(["sub"]);
  });

  it("inspects many paths through shared folders as each path alone would be inspected", async () => {
    const out = join(base, "out");
    const outside = join(base, "outside");
    await fs.mkdir(join(out, "real", "deep"), { recursive: true });
    await fs.mkdir(outside);
    await fs.writeFile(join(out, "real", "deep", "x.txt"), "x\n");
    await fs.writeFile(join(out, "plain"), "a file, not a folder\n");
    await fs.symlink(join(out, "real"), join(out, "inner")); // a link that stays inside
    await fs.symlink(outside, join(out, "real", "away")); // a link below it that leads out
    const root = await resolveOutputRoot(out);
    const inspect = createInspector(root);
    const paths = ["inner/deep/x.txt", "inner/deep/y.txt", "plain/z.txt", "missing/a/b.txt", "real/deep/x.txt"];
    for (const path of paths) {
      const together = inspect(path);
      expect(together).toEqual(await inspectTarget(root, path));
      expect(together.exists).toBe(path.endsWith("x.txt"));
    }
    for (const path of ["inner/away/f.txt", "real/away/g.txt"]) {
      expect(() => inspect(path)).toThrow(new RegExp(`away leads to .*outside the output folder.*refusing to touch ${path}`));
      await expect(inspectTarget(root, path)).rejects.toThrow(/away leads to/);
    }
  });

  it("never writes through a symbolic link at the file itself", async () => {
    const outside = join(base, "outside.txt");
    const out = join(base, "out");
    await fs.writeFile(outside, "precious\n");
    await fs.mkdir(out);
    await fs.symlink(outside, join(out, "a.txt"));
    await expect(readCurrentState(await resolveOutputRoot(out), ["a.txt"])).rejects.toThrow(
      /a\.txt is a symbolic link/,
    );
    const plan = planChanges({ filesOnDisk: new Map() }, [file("a.txt", "a\n")], META);
    await expect(applyChanges(out, plan, { force: true })).rejects.toThrow(/a\.txt is a symbolic link/);
    expect(await fs.readFile(outside, "utf8")).toBe("precious\n");
  });

  it("never deletes outside the output folder on the word of a tampered manifest", async () => {
    const out = join(base, "out");
    const victim = join(base, "victim.txt");
    await fs.writeFile(victim, "keep me\n");
    await fs.mkdir(join(out, ".create-deploy"), { recursive: true });
    const tampered = { ...manifestOf({}), files: [{ path: "../victim.txt", kind: "other", sha256: sha("keep me\n") }] };
    await fs.writeFile(join(out, MANIFEST_PATH), JSON.stringify(tampered));
    const state = await readCurrentState(await resolveOutputRoot(out), []);
    expect(state.manifestProblem).toMatch(/\.\.\/victim\.txt.*goes up/);
    expect(state.manifest).toBeUndefined();

    // A well-formed record pointing through a linked folder is refused on disk instead.
    await fs.symlink(base, join(out, "up"));
    await fs.writeFile(
      join(out, MANIFEST_PATH),
      JSON.stringify({
        ...manifestOf({}),
        files: [{ path: "up/victim.txt", kind: "other", sha256: sha("keep me\n") }],
      }),
    );
    await expect(readCurrentState(await resolveOutputRoot(out), [])).rejects.toThrow(/up leads to/);
    const forged = planChanges(
      {
        manifest: manifestOf({ "up/victim.txt": "keep me\n" }),
        filesOnDisk: new Map([["up/victim.txt", bytes("keep me\n")]]),
      },
      [],
      META,
    );
    expect(forged.changes.map((c) => c.action)).toEqual(["remove"]);
    await expect(applyChanges(out, forged, { force: true })).rejects.toThrow(WriteError);
    expect(await fs.readFile(victim, "utf8")).toBe("keep me\n");
  });
});
