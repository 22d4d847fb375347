// The bin's first step: run the CLI bundle (dist/cli.cjs) with the code V8 compiled for it
// last time. Parsing and compiling the bundle is most of a cold start, and a command line
// starts cold every time. Node 22 keeps compiled code for modules itself
// (module.enableCompileCache); Node 20 only offers a script's cached data, which this uses
// on every version so that there is one path to test.
//
// The cache is an optimisation and never a reason to fail: anything unexpected about it
// (missing, stale, corrupt, written by another version of Node or of create-deploy, in a
// folder others could write to) means compiling from source, as without it.
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

/** What dist/cli.cjs exports (src/cli.ts). */
interface CliBundle {
  runFromProcess(options: { importModule: (specifier: string) => Promise<unknown> }): Promise<void>;
}

/** The first bytes of a cache file; the number changes whenever the layout does. */
const MAGIC = Buffer.from("create-deploy code cache 1\n", "latin1");
const DIGEST_BYTES = 32;
/** The magic, the bundle's digest, the code's own digest, the complete flag. */
const HEADER_BYTES = MAGIC.length + 2 * DIGEST_BYTES + 1;
/** Cache files kept per folder: one per installed version and Node version in use. */
const KEPT_FILES = 4;
/**
 * The commands that run the whole pipeline. V8 caches only the functions a run compiled,
 * so a cache written after `--help` would leave them to be compiled on every later run:
 * such a cache is replaced after the first of these.
 */
const PIPELINE_COMMANDS = new Set(["generate", "check", "diff"]);

export interface CacheLocation {
  folder: string;
  file: string;
}

export interface CachedCode {
  data: Buffer;
  /** Written after a run of the whole pipeline. */
  complete: boolean;
}

/**
 * The user's cache folder for create-deploy, as each platform keeps caches; undefined when
 * there is none to use. CREATE_DEPLOY_CACHE_DIR chooses another.
 */
export function cacheFolder(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string | undefined {
  const chosen = env["CREATE_DEPLOY_CACHE_DIR"];
  if (chosen !== undefined && chosen !== "") return chosen;
  if (platform === "win32") {
    const local = env["LOCALAPPDATA"];
    return local === undefined || local === "" ? undefined : join(local, "create-deploy", "Cache");
  }
  if (home === "") return undefined;
  if (platform === "darwin") return join(home, "Library", "Caches", "create-deploy");
  const xdg = env["XDG_CACHE_HOME"];
  return join(xdg !== undefined && xdg.startsWith("/") ? xdg : join(home, ".cache"), "create-deploy");
}

/** The cache file of this bundle under this Node: its name carries both, so installs never share one. */
export function cacheFileName(digest: Buffer): string {
  return `cli-${digest.toString("hex").slice(0, 16)}-node${process.versions.node}-${process.arch}.bin`;
}

/**
 * V8 trusts the code it is given, so only a folder that no one else can write to is used:
 * owned by this user, writable by nobody else. (Windows has no such bits; its per-user
 * folder is private already.)
 */
export function isPrivateFolder(folder: string): boolean {
  try {
    const stats = lstatSync(folder);
    if (!stats.isDirectory()) return false;
    if (process.platform === "win32" || process.getuid === undefined) return true;
    return stats.uid === process.getuid() && (stats.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The cached code for the bundle with this digest, or undefined if there is none fit to use. */
export function readCachedCode(location: CacheLocation, digest: Buffer): CachedCode | undefined {
  if (!isPrivateFolder(location.folder)) return undefined;
  let bytes: Buffer;
  try {
    const stats = lstatSync(location.file);
    if (!stats.isFile() || (process.getuid !== undefined && stats.uid !== process.getuid())) return undefined;
    bytes = readFileSync(location.file);
  } catch {
    return undefined;
  }
  return decodeCachedCode(bytes, digest);
}

export function encodeCachedCode(code: CachedCode, digest: Buffer): Buffer {
  return Buffer.concat([MAGIC, digest, sha256(code.data), Buffer.from([code.complete ? 1 : 0]), code.data]);
}

/**
 * The cached code if the bytes are a cache file for exactly this bundle, whole. V8 checks
 * that cached code was made for a source of the same length by the same V8 with the same
 * flags, but a release build does not check the bytes themselves: a damaged file could
 * crash the process instead of being turned down, so its digest is checked here.
 */
export function decodeCachedCode(bytes: Buffer, digest: Buffer): CachedCode | undefined {
  if (bytes.length <= HEADER_BYTES) return undefined;
  let at = 0;
  const next = (length: number): Buffer => bytes.subarray(at, (at += length));
  if (!next(MAGIC.length).equals(MAGIC)) return undefined;
  if (!next(DIGEST_BYTES).equals(digest)) return undefined;
  const dataDigest = next(DIGEST_BYTES);
  const flag = next(1)[0];
  if (flag !== 0 && flag !== 1) return undefined;
  const data = bytes.subarray(at);
  if (!sha256(data).equals(dataDigest)) return undefined;
  return { data, complete: flag === 1 };
}

function sha256(bytes: Buffer): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/**
 * Writes the cache file beside its siblings, whole or not at all (a temporary file renamed
 * into place, so a concurrent run reads either the old file or the new one), and keeps the
 * newest few files of the folder.
 */
export function writeCachedCode(location: CacheLocation, code: CachedCode, digest: Buffer): void {
  mkdirSync(location.folder, { recursive: true, mode: 0o700 });
  if (!isPrivateFolder(location.folder)) return;
  const temp = join(location.folder, `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, encodeCachedCode(code, digest), { mode: 0o600, flag: "wx" });
    renameSync(temp, location.file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  pruneCacheFolder(location.folder);
}

function pruneCacheFolder(folder: string): void {
  const files = readdirSync(folder)
    .filter((name) => name.startsWith("cli-") && name.endsWith(".bin"))
    .map((name) => ({ path: join(folder, name), used: statSync(join(folder, name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const stale of files.slice(KEPT_FILES)) rmSync(stale.path, { force: true });
}

/** Whether these arguments run the whole pipeline (see PIPELINE_COMMANDS). */
export function runsPipeline(argv: readonly string[]): boolean {
  const command = argv.find((arg) => !arg.startsWith("-"));
  return command !== undefined && PIPELINE_COMMANDS.has(command) && !argv.includes("--help") && !argv.includes("-h");
}

/** Loads and runs dist/cli.cjs for this process, through the code cache when there is one. */
export async function start(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundle = join(here, "cli.cjs");
  const bytes = readFileSync(bundle);
  const digest = sha256(bytes);
  // The wrapper Node gives every CommonJS module, so the bundle runs as it would if required.
  const source = `(function (exports, require, module, __filename, __dirname) { ${bytes.toString("utf8")}\n})`;

  const env = process.env;
  const folder = env["NODE_DISABLE_COMPILE_CACHE"] === "1" ? undefined : cacheFolder(env, process.platform, safeHomedir());
  const location = folder === undefined ? undefined : { folder, file: join(folder, cacheFileName(digest)) };
  const cached = location === undefined ? undefined : readCachedCode(location, digest);

  const script = new vm.Script(source, { filename: bundle, ...(cached === undefined ? {} : { cachedData: cached.data }) });
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as CliBundle };
  wrapper.call(module.exports, module.exports, createRequire(bundle), module, bundle, here);
  await module.exports.runFromProcess({ importModule: (specifier) => import(specifier) });

  if (location === undefined) return;
  const complete = runsPipeline(process.argv.slice(2));
  const stale = cached === undefined || script.cachedDataRejected === true || (complete && !cached.complete);
  if (!stale) return;
  try {
    // After the run, so the functions it compiled on the way are in the cache too.
    writeCachedCode(location, { data: script.createCachedData(), complete }, digest);
  } catch {
    // A read-only or full disk only costs the next run its head start.
  }
}

function safeHomedir(): string {
  try {
    return homedir();
  } catch {
    return "";
  }
}
