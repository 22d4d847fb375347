// Nothing is read or written outside the output folder, judged by real paths: a symbolic
// link anywhere between the output folder and a file must not lead out of it, and the
// file itself is never a link (writing through one would land wherever it points).
// The calls are synchronous on purpose: the command does one thing at a time, and a cold
// process pays more for each trip through the thread pool than for the system call itself.
import { closeSync, constants, lstatSync, openSync, readFileSync, realpathSync, type Stats, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { WriteError } from "./errors.js";

export interface OutputRoot {
  /** The output folder as messages name it: relative to the current folder when inside it. */
  shown: string;
  /** Its real path (symbolic links resolved); every file operation goes through it. */
  real: string;
  exists: boolean;
}

/** Whether `child` is `parent` or inside it (both absolute). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}

/** The real path of `path`, resolving the deepest folder that exists and appending the rest. */
async function realpathOfDeepest(path: string): Promise<{ real: string; exists: boolean }> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = realpathSync.native(current);
      return { real: join(real, ...missing.reverse()), exists: missing.length === 0 };
    } catch (error) {
      const code = errorCode(error);
      if (code !== "ENOENT" && code !== "ENOTDIR") throw error;
      const parent = dirname(current);
      if (parent === current) throw error;
      missing.push(basename(current));
      current = parent;
    }
  }
}

/**
 * Resolves the output folder and refuses one that symbolic links carry out of its boundary:
 * the current folder when the output folder lies inside it (so `--out deploy` cannot be a
 * link to somewhere else), its own parent folder otherwise.
 */
export async function resolveOutputRoot(outDir: string, options: { cwd?: string } = {}): Promise<OutputRoot> {
  const absolute = resolve(outDir);
  const cwd = options.cwd === undefined ? undefined : resolve(options.cwd);
  const insideCwd = cwd !== undefined && isInside(absolute, cwd);
  const boundary = insideCwd ? cwd : dirname(absolute);
  const shown = insideCwd ? relative(cwd, absolute).split(sep).join("/") || "." : outDir;
  const realBoundary = (await realpathOfDeepest(boundary)).real;
  const { real, exists } = await realpathOfDeepest(absolute);
  if (!isInside(real, realBoundary)) {
    throw new WriteError(
      `output folder ${shown} resolves to ${real}, outside ${insideCwd ? "the current folder" : boundary}: ` +
        "a symbolic link leads out of it; refusing to use it",
    );
  }
  if (exists && !statSync(real).isDirectory()) {
    throw new WriteError(`output folder ${shown} is not a folder`);
  }
  return { shown, real, exists };
}

export interface TargetState {
  /** Absolute path under the real output folder. */
  absolute: string;
  /** A regular file is there now. */
  exists: boolean;
}

/**
 * Checks one output path (already syntactically valid) against the file system: every
 * existing parent folder must really be inside the output folder, and the path itself must
 * be absent or a regular file — never a symbolic link, a folder or a device.
 */
export async function inspectTarget(root: OutputRoot, path: string): Promise<TargetState> {
  return createInspector(root)(path);
}

/**
 * inspectTarget for many paths under one output folder. Generated files share a few
 * folders, so each folder is looked at once, not once for every file inside it; within one
 * command nothing else changes the folder between the checks and the writes that follow.
 */
export function createInspector(root: OutputRoot): (path: string) => TargetState {
  // A folder's path → what is there: its real path, null when it is missing (and so is
  // everything below it), or the place outside the output folder it leads to.
  const folders = new Map<string, FolderState>();
  const resolveFolder = (folder: string): FolderState => {
    const known = folders.get(folder);
    if (known !== undefined) return known;
    const slash = folder.lastIndexOf("/");
    const parent = slash === -1 ? { real: root.real } : resolveFolder(folder.slice(0, slash));
    let state: FolderState = parent;
    if (parent !== null && "real" in parent) {
      // The real path of a folder is its parent's real path plus its name, unless it is a
      // symbolic link, which alone needs resolving.
      const candidate = join(parent.real, folder.slice(slash + 1));
      const stats = lstatIfPresent(candidate);
      const real = stats === undefined ? undefined : stats.isSymbolicLink() ? realpathSync.native(candidate) : candidate;
      state = real === undefined ? null : isInside(real, root.real) ? { real } : { folder, outside: real };
    }
    folders.set(folder, state);
    return state;
  };

  return (path) => {
    const absolute = join(root.real, ...path.split("/"));
    const slash = path.lastIndexOf("/");
    if (slash !== -1) {
      const folder = resolveFolder(path.slice(0, slash));
      if (folder === null) return { absolute, exists: false };
      if ("outside" in folder) {
        throw new WriteError(
          `${folder.folder} leads to ${folder.outside}, outside the output folder ${root.shown} (symbolic link); ` +
            `refusing to touch ${path}`,
          path,
        );
      }
    }
    const stats = lstatIfPresent(absolute);
    if (stats === undefined) return { absolute, exists: false };
    if (stats.isSymbolicLink()) {
      throw new WriteError(`${path} is a symbolic link; refusing to read or write through it`, path);
    }
    if (stats.isDirectory()) throw new WriteError(`${path} is a folder where a file belongs`, path);
    if (!stats.isFile()) throw new WriteError(`${path} is not a regular file`, path);
    return { absolute, exists: true };
  };
}

type FolderState = { real: string } | { folder: string; outside: string } | null;

/**
 * lstat, or undefined when nothing is there (also when a file stands where a folder on the
 * way should be). Absence is the usual answer here, and answering it without an exception
 * spares building an error and its stack for every file a first run creates.
 */
function lstatIfPresent(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if (errorCode(error) === "ENOTDIR") return undefined;
    throw error;
  }
}

/** Reads a file inspectTarget approved, refusing a link swapped in meanwhile. */
export async function readTarget(target: TargetState): Promise<Uint8Array> {
  const fd = openSync(target.absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
