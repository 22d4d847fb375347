// What the repository says about itself, read from its files the way `docker init` does:
// the project's name, its language, how it starts, and where it is hosted. Everything here
// only proposes defaults; the person (or a flag) has the last word.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { type Runtime, type Shape, toIdentifier } from "./answers.js";

export interface Project {
  /** Default project name: package.json, pyproject.toml, else the folder's name. */
  name: string;
  runtime: Runtime;
  /** Language version asked for by the repository (.python-version, engines.node, .nvmrc). */
  version?: string;
  /** Python: the requirements file the image installs from, when there is one. */
  requirements?: string;
  /** Python distribution names the repository depends on, lower-case. */
  pythonPackages: string[];
  /** Files at the top of the repository. */
  files: string[];
  /** The GitHub owner of the `origin` remote, for image names. */
  githubOwner?: string;
}

function readText(path: string): string | undefined {
  try {
    return statSync(path).isFile() ? readFileSync(path, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

function readPackageJson(dir: string): Record<string, unknown> | undefined {
  const text = readText(join(dir, "package.json"));
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The value of `key = "…"` inside the `[section]` of a TOML file; enough for pyproject's name. */
function tomlString(text: string, section: string, key: string): string | undefined {
  let inSection = false;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      inSection = header[1]?.trim() === section;
      continue;
    }
    if (!inSection) continue;
    const match = new RegExp(`^\\s*${key}\\s*=\\s*["']([^"']*)["']`).exec(line);
    if (match) return match[1];
  }
  return undefined;
}

/** Distribution names in requirements lines (`flask>=3`, `uvicorn[standard]==0.30`). */
function requirementNames(text: string): string[] {
  const names: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "" || line.startsWith("-")) continue;
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line);
    if (match?.[1]) names.push(match[1].toLowerCase().replace(/_/g, "-"));
  }
  return names;
}

/** Dependencies listed in pyproject.toml (`dependencies = [ "fastapi>=0.110", … ]`). */
function pyprojectDependencies(text: string): string[] {
  // Up to the `]` that closes the list, not one inside a quoted "pkg[extra]".
  const block = /^\s*dependencies\s*=\s*\[((?:[^\]"']|"[^"]*"|'[^']*')*)\]/m.exec(text);
  if (!block?.[1]) return [];
  const quoted = [...block[1].matchAll(/["']([^"']+)["']/g)].map((m) => m[1] ?? "");
  return requirementNames(quoted.join("\n"));
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function githubOwnerOf(dir: string): string | undefined {
  const config = readText(join(dir, ".git", "config"));
  if (config === undefined) return undefined;
  const match = /url\s*=\s*(?:https:\/\/github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([A-Za-z0-9-]+)\//.exec(config);
  return match?.[1] === undefined ? undefined : toIdentifier(match[1]);
}

function majorOf(range: string): string | undefined {
  return /(\d+)/.exec(range)?.[1];
}

export function detectProject(dir: string): Project {
  const files = listFiles(dir);
  const pkg = readPackageJson(dir);
  const pyproject = readText(join(dir, "pyproject.toml"));
  const requirements = files.includes("requirements.txt") ? "requirements.txt" : undefined;
  const pythonPackages = [
    ...(requirements === undefined ? [] : requirementNames(readText(join(dir, requirements)) ?? "")),
    ...(pyproject === undefined ? [] : pyprojectDependencies(pyproject)),
  ];

  const isPython =
    pyproject !== undefined || requirements !== undefined || ["setup.py", "Pipfile", "manage.py"].some((f) => files.includes(f));
  const runtime: Runtime = isPython ? "python" : pkg !== undefined ? "node" : "image";

  const nameCandidates = [
    typeof pkg?.name === "string" ? pkg.name : undefined,
    pyproject === undefined ? undefined : (tomlString(pyproject, "project", "name") ?? tomlString(pyproject, "tool.poetry", "name")),
    basename(dir),
  ];
  const name = nameCandidates.map((c) => (c === undefined ? undefined : toIdentifier(c))).find((c) => c !== undefined) ?? "app";

  let version: string | undefined;
  if (runtime === "python") {
    const pinned = readText(join(dir, ".python-version"))?.trim();
    const match = pinned === undefined ? undefined : /^(\d+\.\d+)/.exec(pinned);
    version = match?.[1];
  } else if (runtime === "node") {
    const engines = pkg?.engines as { node?: unknown } | undefined;
    const nvmrc = readText(join(dir, ".nvmrc"))?.trim();
    version = typeof engines?.node === "string" ? majorOf(engines.node) : nvmrc === undefined ? undefined : majorOf(nvmrc);
  }

  const owner = githubOwnerOf(dir);
  return {
    name,
    runtime,
    ...(version === undefined ? {} : { version }),
    ...(requirements === undefined ? {} : { requirements }),
    pythonPackages: [...new Set(pythonPackages)],
    files,
    ...(owner === undefined ? {} : { githubOwner: owner }),
  };
}

export const DEFAULT_PORTS: Record<Runtime, number> = { python: 8000, node: 3000, image: 8080 };

/** The Python module holding the app object: app.py, main.py, else the project's package. */
function pythonModule(project: Project): string {
  for (const candidate of ["app", "main", "server", "wsgi", "asgi"]) {
    if (project.files.includes(`${candidate}.py`)) return candidate;
  }
  return project.name.replace(/-/g, "_");
}

/** The Django project folder: the one holding wsgi.py beside manage.py. */
function djangoProject(dir: string, project: Project): string | undefined {
  if (!project.files.includes("manage.py")) return undefined;
  return project.files.find((f) => existsSync(join(dir, f, "wsgi.py")));
}

export interface StartGuess {
  command: string[];
  /** Something the person should know about the guess (a server missing from the requirements). */
  note?: string;
}

/** How the program starts, guessed from its files and dependencies. */
export function guessCommand(dir: string, project: Project, runtime: Runtime, shape: Shape, name: string, port: number | undefined): StartGuess {
  const listen = String(port ?? DEFAULT_PORTS[runtime]);
  if (runtime === "python") {
    const has = (p: string): boolean => project.pythonPackages.includes(p);
    const module = pythonModule(project);
    const django = djangoProject(dir, project);
    if (django !== undefined || has("django")) {
      const wsgi = `${django ?? project.name.replace(/-/g, "_")}.wsgi:application`;
      return {
        command: ["gunicorn", wsgi, "--bind", `0.0.0.0:${listen}`],
        ...(has("gunicorn") ? {} : { note: "add gunicorn to your requirements: the command runs it" }),
      };
    }
    if (has("fastapi") || has("starlette") || has("uvicorn")) {
      return {
        command: ["uvicorn", `${module}:app`, "--host", "0.0.0.0", "--port", listen],
        ...(has("uvicorn") || has("fastapi") ? {} : { note: "add uvicorn to your requirements: the command runs it" }),
      };
    }
    if (has("flask") || has("gunicorn")) {
      return {
        command: ["gunicorn", `${module}:app`, "--bind", `0.0.0.0:${listen}`],
        ...(has("gunicorn") ? {} : { note: "add gunicorn to your requirements: the command runs it" }),
      };
    }
    return { command: project.files.includes(`${module}.py`) ? ["python", `${module}.py`] : ["python", "-m", module] };
  }
  if (runtime === "node") {
    const entry = ["server.js", "index.js", "app.js", "main.js"].find((f) => project.files.includes(f));
    return { command: ["node", entry ?? "index.js"] };
  }
  // A program on a plain base image: a start script in the repository, or a binary under systemd.
  if (shape === "systemd") return { command: [`/opt/${name}/bin/${name}`] };
  return { command: ["./start.sh"] };
}
