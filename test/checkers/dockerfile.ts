// Dockerfiles: dockerfile-utils' validator for syntax, then the project's policy on the
// parsed instructions (dockerfile-ast).
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { type CheckResult } from "./result.js";

export interface DockerfileOptions {
  /** The image runs a long-lived service, so it must declare a HEALTHCHECK. */
  service?: boolean;
}

const SECRET_WORDS = new Set(["PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "KEY", "APIKEY", "CREDENTIALS", "CREDENTIAL", "PRIVATE"]);

/**
 * A name that would carry a secret value into the image. Names that point at where a secret
 * lives (`..._FILE`, `..._PATH`, `..._DIR`) are fine: that is how secrets should be passed.
 */
export function looksSecret(name: string): boolean {
  const words = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  const last = words[words.length - 1];
  if (last === "FILE" || last === "PATH" || last === "DIR") return false;
  return words.some((word) => SECRET_WORDS.has(word) || /(PASSWORD|SECRET|TOKEN|APIKEY)/.test(word));
}

function lineOf(instruction: Instruction): number {
  return instruction.getRange().start.line + 1;
}

/** Exec form: a JSON array of strings, possibly continued over several lines. */
function isExecForm(instruction: Instruction): boolean {
  const raw = (instruction.getRawArgumentsContent() ?? "").replace(/\\\r?\n/g, " ").trim();
  if (!raw.startsWith("[")) return false;
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) && parsed.length > 0 && parsed.every((part) => typeof part === "string");
  } catch {
    return false;
  }
}

/** Substitutes `${NAME}` / `$NAME` from the ARGs declared before the first FROM. */
function expandInitialArgs(image: string, defaults: Map<string, string>): string {
  return image.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced?: string, bare?: string) => {
    const value = defaults.get(braced ?? bare ?? "");
    return value ?? whole;
  });
}

/** Why an image reference is not pinned, or null when it has a tag other than latest or a digest. */
function unpinnedReason(image: string): string | null {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return null;
  if (image.includes("$")) return `base image ${image} uses a variable without a default`;
  const lastPart = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastPart.indexOf(":");
  if (colon === -1) return `base image ${image} has no tag or digest`;
  if (lastPart.slice(colon + 1) === "latest") return `base image ${image} uses the latest tag`;
  return null;
}

function checkPolicy(content: string, options: DockerfileOptions): string[] {
  const findings: string[] = [];
  const dockerfile = DockerfileParser.parse(content);
  const instructions = dockerfile.getInstructions();
  const froms = dockerfile.getFROMs();
  const lastFrom = froms[froms.length - 1];
  if (!lastFrom) return ["no FROM instruction"];

  const argDefaults = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    const value = property?.getValue();
    if (property && value != null) argDefaults.set(property.getName(), value);
  }
  const stageNames = new Set<string>();
  for (const from of froms) {
    const image = expandInitialArgs(from.getImage() ?? "", argDefaults);
    if (image !== "scratch" && !stageNames.has(image.toLowerCase())) {
      const reason = unpinnedReason(image);
      if (reason) findings.push(`line ${lineOf(from)}: ${reason}`);
    }
    const stage = from.getBuildStage();
    if (stage) stageNames.add(stage.toLowerCase());
  }

  for (const instruction of instructions) {
    const keyword = instruction.getKeyword();
    if (keyword === "ADD") findings.push(`line ${lineOf(instruction)}: ADD used; use COPY`);
    if ((keyword === "CMD" || keyword === "ENTRYPOINT") && !isExecForm(instruction)) {
      findings.push(`line ${lineOf(instruction)}: ${keyword} in shell form; use the exec (JSON) form`);
    }
  }
  const declarations = new Set([...dockerfile.getInitialARGs(), ...dockerfile.getARGs(), ...dockerfile.getENVs()]);
  for (const declaration of declarations) {
    for (const property of declaration.getProperties()) {
      if (looksSecret(property.getName())) {
        findings.push(`line ${lineOf(declaration)}: ${declaration.getKeyword()} ${property.getName()} looks like a secret baked into the image`);
      }
    }
  }

  const finalStage = instructions.filter((instruction) => lineOf(instruction) >= lineOf(lastFrom));
  const users = finalStage.filter((instruction) => instruction.getKeyword() === "USER");
  const lastUser = users[users.length - 1];
  if (!lastUser) findings.push("final stage has no USER: the container would run as root");
  else {
    const line = lineOf(lastUser) - 1;
    const written = (lastUser.getArgumentsContent() ?? "").trim().split(":")[0] ?? "";
    const user = written.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced?: string, bare?: string) => {
      return dockerfile.resolveVariable(braced ?? bare ?? "", line) ?? whole;
    });
    if (user.includes("$")) findings.push(`line ${line + 1}: USER ${written} has no default value to check`);
    else if (user === "root" || user === "0") findings.push(`line ${line + 1}: final stage runs as root (USER ${written})`);
  }
  if (options.service) {
    const healthchecks = finalStage.filter((instruction) => instruction.getKeyword() === "HEALTHCHECK");
    const last = healthchecks[healthchecks.length - 1];
    if (!last) findings.push("final stage of a service image has no HEALTHCHECK");
    else if ((last.getArgumentsContent() ?? "").trim().toUpperCase() === "NONE") {
      findings.push(`line ${lineOf(last)}: HEALTHCHECK NONE in a service image`);
    }
  }
  return findings;
}

export async function checkDockerfile(content: string, options: DockerfileOptions = {}): Promise<CheckResult> {
  const tool = "dockerfile-utils + policy";
  const syntax = validate(content)
    // LSP severities: 1 error, 2 warning (3 information and 4 hint are advice).
    .filter((diagnostic) => diagnostic.severity === 1 || diagnostic.severity === 2)
    .map((diagnostic) => `line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
  return { tool, findings: [...syntax, ...checkPolicy(content, options)] };
}
