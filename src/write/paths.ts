// Output paths are data from the descriptor (through the kinds) and from the manifest on
// disk, which anyone can edit. Both pass the same syntactic gate before any IO touches them.

/** Where the writer keeps its record of what it wrote, relative to the output folder. */
export const MANIFEST_DIR = ".create-deploy";
export const MANIFEST_PATH = `${MANIFEST_DIR}/manifest.json`;

/**
 * Why `path` may not be used as an output path, or undefined when it may.
 * Accepted: relative, forward slashes, no empty, `.` or `..` segments, no control characters,
 * and nothing inside the writer's own folder.
 */
export function checkOutputPath(path: string): string | undefined {
  if (path === "") return "is empty";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/u.test(path)) return "contains a control character";
  if (path.includes("\\")) return "contains a backslash (use forward slashes)";
  if (path.startsWith("/") || /^[A-Za-z]:/u.test(path)) return "is absolute";
  const segments = path.split("/");
  if (segments.some((s) => s === "..")) return "goes up with ..";
  if (segments.some((s) => s === "" || s === ".")) return "has an empty or . segment";
  if (segments[0] === MANIFEST_DIR) return `is inside ${MANIFEST_DIR}/, which create-deploy keeps for itself`;
  return undefined;
}

/** The parent folders of an output path, shallowest first: "a/b/c" → ["a", "a/b"]. */
export function parentFolders(path: string): string[] {
  const segments = path.split("/");
  const folders: string[] = [];
  for (let i = 1; i < segments.length; i++) folders.push(segments.slice(0, i).join("/"));
  return folders;
}
