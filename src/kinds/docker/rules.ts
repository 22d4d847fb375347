// Rules only the Dockerfile cares about: a pinned base image, build args that are not
// secrets, paths and build commands that survive being written into a Dockerfile, and a
// way to probe health with what the image contains.
import type { Build, Descriptor, Service } from "../../model/descriptor.js";
import { listServices } from "../../model/derive.js";
import { joinPointer, quote } from "../../problems.js";
import type { RuleProblem } from "../types.js";
import { APP_USER, NODE_USER, baseImageOf, imageUserOf, listBuiltServices, needsHealthcheck, splitImageReference } from "./image.js";

type Segment = string | number;

function problem(segments: readonly Segment[], message: string, hint?: string): RuleProblem {
  return { pointer: joinPointer(segments), message, ...(hint === undefined ? {} : { hint }) };
}

const SECRET_WORDS = new Set(["PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "KEY", "APIKEY", "CREDENTIAL", "CREDENTIALS", "PRIVATE", "AUTH"]);

/**
 * A name that would carry a secret value into the image history. Names saying where a secret
 * lives (`…_FILE`, `…_PATH`, `…_DIR`) are fine: that is how a secret should be passed.
 */
export function looksSecretName(name: string): boolean {
  const words = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  const last = words[words.length - 1];
  if (last === "FILE" || last === "PATH" || last === "DIR") return false;
  return words.some((word) => SECRET_WORDS.has(word) || /(PASSWORD|SECRET|TOKEN|APIKEY)/.test(word));
}

/**
 * Paths go unquoted into COPY and `--mount=…,source=` (comma-separated options), where
 * spaces, quotes, `$`, `,` and `=` would change the meaning; plain characters only.
 */
const PLAIN_PATH = /^(?!-)[A-Za-z0-9._@+/-]+$/;

function checkPath(path: string, at: Segment[]): RuleProblem[] {
  if (PLAIN_PATH.test(path)) return [];
  return [
    problem(
      at,
      `${quote(path)} cannot be written into a Dockerfile as is: use letters, digits and . _ - + @ / only, not starting with -`,
      "rename the file or folder, or copy its parent folder instead",
    ),
  ];
}

/** A RUN line is a shell command on one Dockerfile line; these would make it something else. */
function runLineProblem(line: string): [string, string] | undefined {
  if (line.trim() === "") return ["is empty", "remove it"];
  if (/^\s*#/.test(line)) return ["starts with #, so the Dockerfile would read it as a comment", "remove it, or write the command without the comment"];
  if (/^\s*-/.test(line)) return ["starts with -, which RUN would read as one of its own flags", "start with the command name"];
  if (/^\s*\\/.test(line)) return ["starts with \\, which Dockerfile tools read as part of a line continuation", "start with the command name"];
  if (/\\\s*$/.test(line)) return ["ends with \\, which would join the next Dockerfile instruction to this command", "write the whole command on one line"];
  if (/(?:^|\s)[0-9]*<<(?!<)/.test(line)) {
    return ["contains a here-document (<<WORD), which would swallow the following Dockerfile lines", "put the commands in a script in the build context, copy it and run it"];
  }
  return undefined;
}

/**
 * Dockerfile linters (dockerfile-utils, which editors run) read an ARG or LABEL value that
 * starts with a quote as an unterminated quoted string, however it is escaped.
 */
function startsWithQuote(value: string): boolean {
  return /^['"]/.test(value);
}

/** The same linters read `${NAME:…}` inside a HEALTHCHECK command as a Dockerfile variable, and refuse modifiers other than :- :+ :?. */
const HEALTHCHECK_VARIABLE = /\$\{[^}:\s]*:(?![-+?])/;

function quoteProblem(at: Segment[], what: string): RuleProblem {
  return problem(at, `${what} starts with a quote, which Dockerfile linters misread as an unterminated string`, "drop the leading quote (YAML already delimits the value), or reword it");
}

/** The user names an image has: the account it creates or ships, and Debian's system accounts. */
const DEBIAN_USERS = ["root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data", "backup", "list", "irc", "_apt", "nobody"];

function imageUsers(build: Build): string[] | undefined {
  if (build.base !== undefined) return undefined;
  if (build.runtime === "python") return [APP_USER, ...DEBIAN_USERS];
  if (build.runtime === "node") return [NODE_USER, ...DEBIAN_USERS];
  return undefined;
}

function checkBase(name: string, build: Build): RuleProblem[] {
  const at = ["services", name, "build"];
  if (build.runtime === "generic" && build.base === undefined) {
    return [problem(at, "the generic runtime needs a base image", "add build.base with a pinned tag, e.g. debian:bookworm-slim")];
  }
  const base = baseImageOf(build);
  if (build.base === undefined || base === undefined) return [];
  const { tag, digest } = splitImageReference(base);
  const found: RuleProblem[] = [];
  if (digest !== undefined && build.digest !== undefined) {
    found.push(problem([...at, "digest"], "the base image already carries a digest", "give the digest in one place: build.digest or build.base"));
  }
  const pinned = digest !== undefined || build.digest !== undefined;
  if (tag === undefined && !pinned) {
    found.push(problem([...at, "base"], `base image ${quote(base)} has no tag, so it means :latest and changes under you`, "pin a version tag, e.g. debian:bookworm-slim, and optionally build.digest"));
  } else if (tag === "latest") {
    found.push(problem([...at, "base"], `base image ${quote(base)} uses the latest tag, which changes under you`, "pin a version tag, and optionally build.digest"));
  }
  return found;
}

function checkBuild(name: string, service: Service & { build: Build }): RuleProblem[] {
  const build = service.build;
  const at = ["services", name, "build"];
  const found: RuleProblem[] = [...checkBase(name, build)];
  for (const [key, value] of Object.entries(build.args ?? {})) {
    if (startsWithQuote(value)) found.push(quoteProblem([...at, "args", key], "the build arg value"));
    if (looksSecretName(key)) {
      found.push(
        problem([...at, "args", key], `build arg ${key} looks like a secret; build args are recorded in the image history`, "declare it under secrets and list it in build.secrets: it is mounted only while the install step runs"),
      );
    }
  }
  if (build.context !== undefined) found.push(...checkPath(build.context, [...at, "context"]));
  if (build.requirements !== undefined && build.runtime === "python") found.push(...checkPath(build.requirements, [...at, "requirements"]));
  (build.copy ?? []).forEach((path, index) => found.push(...checkPath(path, [...at, "copy", index])));
  (build.run ?? []).forEach((line, index) => {
    const reason = runLineProblem(line);
    if (reason) found.push(problem([...at, "run", index], `build command ${reason[0]}`, reason[1]));
  });
  (service.healthcheck?.command ?? []).forEach((arg, index) => {
    if (HEALTHCHECK_VARIABLE.test(arg)) {
      found.push(
        problem(
          ["services", name, "healthcheck", "command", index],
          "${NAME:…} other than ${NAME:-…}, ${NAME:+…} or ${NAME:?…} in a HEALTHCHECK is misread as a Dockerfile variable by Dockerfile linters",
          "use ${NAME:-default}, or put the check in a script inside the image",
        ),
      );
    }
  });
  // The image policy asks every service image that listens (EXPOSE) for a HEALTHCHECK;
  // refuse the two shapes that would listen without one, rather than write such an image.
  const ports = service.ports ?? [];
  if (service.type === "job" && ports.length > 0) {
    found.push(problem(["services", name, "ports"], "a job runs to completion and serves nothing, so it has no ports", "remove ports, or make it a worker or web service"));
  } else if (ports.length > 0 && !service.healthcheck && !ports.some((p) => (p.protocol ?? "tcp") === "tcp")) {
    found.push(problem(["services", name], "this service listens on UDP only, which create-deploy cannot probe for a health check", "add healthcheck.command with a check the image can run"));
  }
  if (build.runtime === "generic") {
    for (const key of ["systemPackages", "buildPackages"] as const) {
      if (build[key] !== undefined) {
        found.push(problem([...at, key], `the generic runtime does not know how its base image installs packages`, "install them with a build.run command (apt-get, apk, …)"));
      }
    }
    if ((build.secrets ?? []).length > 0 && (build.run ?? []).length === 0) {
      found.push(problem([...at, "secrets"], "no build step uses these secrets: the generic runtime mounts them into build.run commands only", "add the build.run commands that need them, or drop build.secrets"));
    }
    const check = service.healthcheck;
    if (check?.http || check?.tcp) {
      found.push(
        problem(
          ["services", name, "healthcheck", check.http ? "http" : "tcp"],
          "a generic image has no known HTTP or TCP client to probe with",
          "give healthcheck.command with a tool the base image has, e.g. [wget, -q, --spider, http://127.0.0.1:8080/health]",
        ),
      );
    } else if (!check && needsHealthcheck(service)) {
      found.push(problem(["services", name], "a service image needs a health check, and a generic image has no known client to derive one from", "add healthcheck.command"));
    }
  }
  return found;
}

/** Services running a built image by a user name must find that name in the image. */
function checkImageUsers(d: Descriptor): RuleProblem[] {
  const found: RuleProblem[] = [];
  for (const [name, service] of listServices(d)) {
    const source = service.imageOf !== undefined ? d.services[service.imageOf] : service;
    if (!source?.build || service.user === undefined || service.user === "host") continue;
    const userName = service.user.split(":")[0] ?? "";
    if (/^[0-9]+$/.test(userName)) continue;
    const known = imageUsers(source.build);
    if (known === undefined || known.includes(userName)) continue;
    const own = imageUserOf(source.build.runtime, source);
    found.push(
      problem(
        ["services", name, "user"],
        `the built image has no user ${quote(userName)}; its own user is ${own.name} (uid ${own.uid})`,
        `use ${own.name}, or a numeric "uid:gid"`,
      ),
    );
  }
  return found;
}

/** The image description label comes from the service's description, else the deployment's. */
function checkDescriptions(d: Descriptor): RuleProblem[] {
  const found: RuleProblem[] = [];
  let deploymentUsed = false;
  for (const [name, service] of listBuiltServices(d)) {
    if (service.description === undefined) deploymentUsed = true;
    else if (startsWithQuote(service.description)) found.push(quoteProblem(["services", name, "description"], "the description (the image's description label)"));
  }
  if (deploymentUsed && d.description !== undefined && startsWithQuote(d.description)) {
    found.push(quoteProblem(["description"], "the description (the image's description label)"));
  }
  return found;
}

export function checkDockerBuilds(d: Descriptor): RuleProblem[] {
  return [...listBuiltServices(d).flatMap(([name, service]) => checkBuild(name, service)), ...checkImageUsers(d), ...checkDescriptions(d)];
}
