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
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
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
  /** When the file was last written or marked as used (ms since the epoch), when read from one. */
  touched?: number;
}

/** The sticky bit of a folder's mode: only an entry's owner may move or delete it. */
const STICKY = 0o1000;
/** A cache file in use is marked at most once a day, so pruning keeps the ones in use. */
const TOUCH_EVERY_MS = 24 * 60 * 60 * 1000;
/** A temporary file this old was left by a run that was killed before renaming it. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * The user's cache folder for create-deploy, as each platform keeps caches; undefined when
 * there is none to use. CREATE_DEPLOY_CACHE_DIR chooses another.
 */
export function cacheFolder(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string | undefined {
  const chosen = env["CREATE_DEPLOY_CACHE_DIR"];
  if (chosen !== undefined && chosen !== "") return resolve(chosen);
  if (platform === "win32") {
    const local = env["LOCALAPPDATA"];
    return local === undefined || local === "" ? undefined : join(local, "create-deploy", "Cache");
  }
  if (home === "") return undefined;
  if (platform === "darwin") return join(home, "Library", "Caches", "create-deploy");
  const xdg = env["XDG_CACHE_HOME"];
  return join(xdg !== undefined && xdg.startsWith("/") ? xdg : join(home, ".cache"), "create-deploy");
}

/**
 * What a cache file belongs to: the bundle's bytes and the place it was run from. V8 keeps
 * the file name a script had when its cache was made, so two installs of one version
 * sharing a cache would have one's stack traces name the other's files.
 */
export function bundleDigest(path: string, bytes: Buffer): Buffer {
  return createHash("sha256").update(path).update("\0").update(bytes).digest();
}

/** The cache file of this bundle (see bundleDigest) under this Node: its name carries both. */
export function cacheFileName(digest: Buffer): string {
  return `cli-${digest.toString("hex").slice(0, 16)}-node${process.versions.node}-${process.arch}.bin`;
}

/**
 * The real path of the cache folder if it is safe to run code from, else undefined. V8
 * trusts the code it is given, so the folder must be one no one else could have put or
 * swapped a file in: this user's, writable by nobody else, below folders that are this
 * user's or root's and writable by nobody else unless sticky (as /tmp is, which stops
 * others from moving what they do not own). These are OpenSSH's checks for ~/.ssh. The
 * real path is returned so that no link along the way can be changed afterwards.
 * (Windows has no such bits; the per-user folder it uses is private already.)
 */
export function privateFolder(folder: string): string | undefined {
  try {
    const real = realpathSync.native(folder);
    const stats = statSync(real);
    if (!stats.isDirectory()) return undefined;
    if (process.platform === "win32" || process.getuid === undefined) return real;
    const uid = process.getuid();
    if (stats.uid !== uid || (stats.mode & 0o022) !== 0) return undefined;
    for (let dir = dirname(real); ; dir = dirname(dir)) {
      const above = statSync(dir);
      if (above.uid !== uid && above.uid !== 0) return undefined;
      if ((above.mode & 0o022) !== 0 && (above.mode & STICKY) === 0) return undefined;
      if (dirname(dir) === dir) return real;
    }
  } catch {
    return undefined;
  }
}

/** The cached code for the bundle with this digest, or undefined if there is none fit to use. */
export function readCachedCode(location: CacheLocation, digest: Buffer): CachedCode | undefined {
  const folder = privateFolder(location.folder);
  if (folder === undefined) return undefined;
  let bytes: Buffer;
  let touched: number;
  try {
    // One open file, checked and read: no name is looked up twice.
    const fd = openSync(join(folder, basename(location.file)), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile() || (process.getuid !== undefined && stats.uid !== process.getuid())) return undefined;
      touched = stats.mtimeMs;
      bytes = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const code = decodeCachedCode(bytes, digest);
  return code === undefined ? undefined : { ...code, touched };
}

/** Marks a cache file as used (see TOUCH_EVERY_MS); a failure only costs it its place. */
export function markUsed(location: CacheLocation, code: CachedCode, now = Date.now()): void {
  if (code.touched === undefined || now - code.touched < TOUCH_EVERY_MS) return;
  const folder = privateFolder(location.folder);
  if (folder === undefined) return;
  try {
    utimesSync(join(folder, basename(location.file)), new Date(now), new Date(now));
  } catch {
    // Read-only or gone: nothing to keep.
  }
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
  const folder = privateFolder(location.folder);
  if (folder === undefined) return;
  const temp = join(folder, `.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, encodeCachedCode(code, digest), { mode: 0o600, flag: "wx" });
    renameSync(temp, join(folder, basename(location.file)));
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  pruneCacheFolder(folder);
}

/** Keeps the most recently used cache files, and drops temporary files a killed run left. */
function pruneCacheFolder(folder: string, now = Date.now()): void {
  const entries = readdirSync(folder).flatMap((name) => {
    try {
      return [{ name, path: join(folder, name), used: lstatSync(join(folder, name)).mtimeMs }];
    } catch {
      return []; // Renamed or removed by another run meanwhile.
    }
  });
  const caches = entries.filter((e) => e.name.startsWith("cli-") && e.name.endsWith(".bin")).sort((a, b) => b.used - a.used);
  for (const stale of caches.slice(KEPT_FILES)) rmSync(stale.path, { force: true });
  for (const temp of entries.filter((e) => e.name.startsWith(".") && e.name.endsWith(".tmp") && now - e.used > STALE_TEMP_MS)) {
    rmSync(temp.path, { force: true });
  }
}

/** Whether these arguments run the whole pipeline (see PIPELINE_COMMANDS). */
export function runsPipeline(argv: readonly string[]): boolean {
  return argv.some((arg) => PIPELINE_COMMANDS.has(arg)) && !argv.includes("--help") && !argv.includes("-h");
}

/** Loads and runs dist/cli.cjs for this process, through the code cache when there is one. */
export async function start(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundle = join(here, "cli.cjs");
  const bytes = readFileSync(bundle);
  const digest = bundleDigest(bundle, bytes);
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
  if (!stale) {
    markUsed(location, cached);
    return;
  }
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
