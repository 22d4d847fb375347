// The bin's code cache (src/start.ts): where it lives, what it accepts, and that a missing,
// stale, corrupt or unsafe cache never changes what a command does, only how fast it starts.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bundleDigest,
  cacheFileName,
  cacheFolder,
  decodeCachedCode,
  encodeCachedCode,
  markUsed,
  privateFolder,
  runsPipeline,
} from "../src/start.js";
import { assertBuilt, copyExample, hashTree, REPO, runCli } from "./support/bin.js";

const made: string[] = [];
function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `create-deploy-${prefix}-`)));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const digestOf = (text: string | Buffer): Buffer => createHash("sha256").update(text).digest();

describe("where the cache lives", () => {
  it("follows each platform's place for caches, and CREATE_DEPLOY_CACHE_DIR first", () => {
    expect(cacheFolder({}, "linux", "/home/ada")).toBe("/home/ada/.cache/create-deploy");
    expect(cacheFolder({ XDG_CACHE_HOME: "/var/cache/ada" }, "linux", "/home/ada")).toBe("/var/cache/ada/create-deploy");
    // The XDG specification ignores a relative path.
    expect(cacheFolder({ XDG_CACHE_HOME: "cache" }, "linux", "/home/ada")).toBe("/home/ada/.cache/create-deploy");
    expect(cacheFolder({}, "darwin", "/Users/ada")).toBe("/Users/ada/Library/Caches/create-deploy");
    expect(cacheFolder({ LOCALAPPDATA: "C:\\Users\\ada\\AppData\\Local" }, "win32", "C:\\Users\\ada")).toContain("create-deploy");
    expect(cacheFolder({}, "win32", "C:\\Users\\ada")).toBeUndefined();
    expect(cacheFolder({}, "linux", "")).toBeUndefined();
    expect(cacheFolder({ CREATE_DEPLOY_CACHE_DIR: "/tmp/x", XDG_CACHE_HOME: "/var/cache" }, "linux", "/home/ada")).toBe("/tmp/x");
    // A relative choice is taken from the current folder once, not wherever it is used.
    expect(cacheFolder({ CREATE_DEPLOY_CACHE_DIR: "cache" }, "linux", "/home/ada")).toBe(join(process.cwd(), "cache"));
  });

  it("names the file after the bundle and the Node that compiled it", () => {
    const name = cacheFileName(digestOf("bundle"));
    expect(name).toMatch(/^cli-[0-9a-f]{16}-node\d+\.\d+\.\d+-\w+\.bin$/u);
    expect(name).toContain(process.versions.node);
    expect(cacheFileName(digestOf("other bundle"))).not.toBe(name);
  });

  it("keeps apart the caches of two installs of the same bundle", () => {
    const bytes = Buffer.from("bundle");
    const here = bundleDigest("/a/node_modules/create-deploy/dist/cli.cjs", bytes);
    expect(bundleDigest("/a/node_modules/create-deploy/dist/cli.cjs", Buffer.from("bundle"))).toEqual(here);
    expect(cacheFileName(bundleDigest("/b/node_modules/create-deploy/dist/cli.cjs", bytes))).not.toBe(cacheFileName(here));
    expect(cacheFileName(bundleDigest("/a/node_modules/create-deploy/dist/cli.cjs", Buffer.from("bundle 2")))).not.toBe(cacheFileName(here));
  });

  it("uses only a folder of this user that no one else can write to, below folders no one else can change", () => {
    const dir = tempDir("cache-folder");
    chmodSync(dir, 0o700);
    expect(privateFolder(dir)).toBe(dir);
    chmodSync(dir, 0o777);
    expect(privateFolder(dir)).toBeUndefined();
    chmodSync(dir, 0o770);
    expect(privateFolder(dir)).toBeUndefined();
    const file = join(dir, "file");
    writeFileSync(file, "");
    expect(privateFolder(file)).toBeUndefined();
    expect(privateFolder(join(dir, "missing"))).toBeUndefined();

    // A private folder inside one that others could rename it out of is not private:
    // someone could swap it for their own between the check and the read.
    const parent = tempDir("cache-parent");
    const inner = join(parent, "cache");
    mkdirSync(inner, { mode: 0o700 });
    chmodSync(parent, 0o777);
    expect(privateFolder(inner)).toBeUndefined();
    // A sticky folder such as /tmp lets no one move what they do not own.
    chmodSync(parent, 0o1777);
    expect(privateFolder(inner)).toBe(inner);
    // A link to it is followed once, and the real path is what is used from then on.
    const link = join(tempDir("cache-link"), "link");
    symlinkSync(inner, link);
    expect(privateFolder(link)).toBe(inner);
  });
});

describe("the cache file", () => {
  const digest = digestOf("bundle");
  const data = Buffer.from("compiled code");

  it("reads back what was written, with whether a whole pipeline run made it", () => {
    for (const complete of [true, false]) {
      const decoded = decodeCachedCode(encodeCachedCode({ data, complete }, digest), digest);
      expect(decoded?.complete).toBe(complete);
      expect(decoded?.data.equals(data)).toBe(true);
    }
  });

  it("is refused for another bundle, another layout, a torn write, a damaged byte or no code at all", () => {
    const bytes = encodeCachedCode({ data, complete: true }, digest);
    const damaged = Buffer.from(bytes);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 1, damaged.length - 1);
    expect(decodeCachedCode(damaged, digest)).toBeUndefined();
    expect(decodeCachedCode(bytes.subarray(0, bytes.length - 1), digest)).toBeUndefined();
    expect(decodeCachedCode(bytes, digestOf("another bundle"))).toBeUndefined();
    expect(decodeCachedCode(Buffer.concat([Buffer.from("x"), bytes.subarray(1)]), digest)).toBeUndefined();
    expect(decodeCachedCode(bytes.subarray(0, 20), digest)).toBeUndefined();
    expect(decodeCachedCode(bytes.subarray(0, bytes.length - data.length), digest)).toBeUndefined();
    const badFlag = Buffer.from(bytes);
    badFlag[bytes.length - data.length - 1] = 7;
    expect(decodeCachedCode(badFlag, digest)).toBeUndefined();
    expect(decodeCachedCode(Buffer.alloc(0), digest)).toBeUndefined();
  });

  it("counts generate, check and diff as whole pipeline runs, not help or version", () => {
    expect(runsPipeline(["generate"])).toBe(true);
    expect(runsPipeline(["--config", "x.yaml", "check"])).toBe(true);
    expect(runsPipeline(["diff", "--summary"])).toBe(true);
    expect(runsPipeline(["generate", "--help"])).toBe(false);
    expect(runsPipeline(["--version"])).toBe(false);
    expect(runsPipeline(["validate"])).toBe(false);
    expect(runsPipeline([])).toBe(false);
  });
});

describe("the bin with its cache", () => {
  beforeAll(assertBuilt);

  const cacheFiles = (folder: string): string[] =>
    existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith(".bin")) : [];
  const onlyCacheFile = (folder: string): string => {
    const files = cacheFiles(folder);
    expect(files).toHaveLength(1);
    return join(folder, files[0]!);
  };
  const flagOf = (file: string): number => {
    const bytes = readFileSync(file);
    return bytes[Buffer.from("create-deploy code cache 1\n").length + 64]!;
  };

  it("writes the cache after the first run, completes it after a generate, then leaves it alone", async () => {
    const cache = join(tempDir("bin-cache"), "nested", "cache");
    const env = { CREATE_DEPLOY_CACHE_DIR: cache };
    const dir = await copyExample("genui");
    made.push(dir);

    const version = await runCli(["--version"], dir, env);
    expect(version.code).toBe(0);
    const file = onlyCacheFile(cache);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(flagOf(file)).toBe(0);

    expect((await runCli(["generate"], dir, env)).code).toBe(0);
    expect(onlyCacheFile(cache)).toBe(file);
    expect(flagOf(file)).toBe(1);
    const written = statSync(file);

    const check = await runCli(["check"], dir, env);
    expect(check.code, check.stderr).toBe(0);
    expect((await runCli(["--help"], dir, env)).code).toBe(0);
    const after = statSync(file);
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it("gives the same output with a fresh cache, a used one and none", async () => {
    const cache = tempDir("bin-same");
    const outputs = [];
    const envs: Record<string, string>[] = [{ CREATE_DEPLOY_CACHE_DIR: cache }, { CREATE_DEPLOY_CACHE_DIR: cache }, { NODE_DISABLE_COMPILE_CACHE: "1" }];
    for (const env of envs) {
      const dir = await copyExample("bids-flux");
      made.push(dir);
      const run = await runCli(["generate"], dir, env);
      expect(run.code, run.stderr).toBe(0);
      outputs.push({ stdout: run.stdout, stderr: run.stderr, tree: await hashTree(dir) });
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
  });

  it("replaces a corrupt cache and runs as if there were none", async () => {
    const cache = tempDir("bin-corrupt");
    chmodSync(cache, 0o700);
    const dir = await copyExample("mlops-api");
    made.push(dir);
    expect((await runCli(["generate", "--dry-run"], dir, { CREATE_DEPLOY_CACHE_DIR: cache })).code).toBe(0);
    const file = onlyCacheFile(cache);
    // A whole, well-formed file for this bundle whose code V8 cannot use: V8 itself must turn it down.
    const bundle = join(REPO, "dist", "cli.cjs");
    const digest = bundleDigest(bundle, readFileSync(bundle));
    const garbage = encodeCachedCode({ data: Buffer.alloc(statSync(file).size, 0xa5), complete: true }, digest);
    expect(decodeCachedCode(garbage, digest)).toBeDefined();
    writeFileSync(file, garbage);
    const run = await runCli(["generate"], dir, { CREATE_DEPLOY_CACHE_DIR: cache });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(readFileSync(onlyCacheFile(cache)).equals(garbage)).toBe(false);
    expect(flagOf(file)).toBe(1);
  });

  it("neither reads nor writes a cache in a folder others can write to, or when caching is off", async () => {
    const shared = tempDir("bin-shared");
    chmodSync(shared, 0o777);
    const dir = await copyExample("genui");
    made.push(dir);
    const run = await runCli(["validate"], dir, { CREATE_DEPLOY_CACHE_DIR: shared });
    expect(run.code, run.stderr).toBe(0);
    expect(cacheFiles(shared)).toEqual([]);

    const off = join(tempDir("bin-off"), "cache");
    expect((await runCli(["validate"], dir, { CREATE_DEPLOY_CACHE_DIR: off, NODE_DISABLE_COMPILE_CACHE: "1" })).code).toBe(0);
    expect(existsSync(off)).toBe(false);
  });

  it("still runs, with the command's own exit code, when the cache cannot be written", async () => {
    const blocked = join(tempDir("bin-blocked"), "not-a-folder");
    writeFileSync(blocked, "a file where the cache folder would go");
    const dir = await copyExample("genui");
    made.push(dir);
    const ok = await runCli(["generate"], dir, { CREATE_DEPLOY_CACHE_DIR: blocked });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe("");
    const bad = await runCli(["generate", "--config", "missing.yaml"], dir, { CREATE_DEPLOY_CACHE_DIR: blocked });
    expect(bad.code).toBe(1);
    expect(readFileSync(blocked, "utf8")).toBe("a file where the cache folder would go");
  });

  it("marks a cache file in use at most once a day, so pruning keeps it", () => {
    const cache = tempDir("bin-touch");
    chmodSync(cache, 0o700);
    const file = join(cache, "cli-0000000000000000-node0.0.0-x64.bin");
    writeFileSync(file, "x");
    const old = new Date(Date.UTC(2020, 0, 1));
    utimesSync(file, old, old);
    const location = { folder: cache, file };
    const now = Date.UTC(2020, 0, 1, 12);
    markUsed(location, { data: Buffer.alloc(0), complete: true, touched: old.getTime() }, now);
    expect(statSync(file).mtimeMs).toBe(old.getTime());
    markUsed(location, { data: Buffer.alloc(0), complete: true, touched: old.getTime() }, Date.UTC(2020, 0, 3));
    expect(statSync(file).mtimeMs).toBe(Date.UTC(2020, 0, 3));
  });

  it("keeps the newest few cache files of a folder", async () => {
    const cache = tempDir("bin-prune");
    chmodSync(cache, 0o700);
    for (let i = 0; i < 6; i++) {
      const old = join(cache, `cli-${String(i).repeat(16)}-node0.0.${i}-x64.bin`);
      writeFileSync(old, "old");
      const when = new Date(Date.UTC(2020, 0, 1 + i));
      utimesSync(old, when, when);
    }
    // A temporary file of a run killed before its rename, and one of a run going on now.
    const leftover = join(cache, ".0123456789ab.tmp");
    writeFileSync(leftover, "partial");
    utimesSync(leftover, new Date(Date.UTC(2020, 0, 1)), new Date(Date.UTC(2020, 0, 1)));
    const current = join(cache, ".ba9876543210.tmp");
    writeFileSync(current, "being written");
    const dir = await copyExample("genui");
    made.push(dir);
    expect((await runCli(["--version"], dir, { CREATE_DEPLOY_CACHE_DIR: cache })).code).toBe(0);
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(current)).toBe(true);
    const left = cacheFiles(cache).sort();
    expect(left).toHaveLength(4);
    expect(left.filter((name) => name.includes(process.versions.node))).toHaveLength(1);
    // The three newest of the old ones stay; the oldest three go.
    expect(left.filter((name) => /node0\.0\.[345]/u.test(name))).toHaveLength(3);
  });
});
