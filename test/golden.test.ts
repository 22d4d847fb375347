// Golden files: every example's generated output is committed beside its deploy.yaml,
// exactly as `create-deploy generate` leaves a repository. UPDATE_GOLDEN=1
// (npm run golden:update) rewrites them; otherwise a missing, extra or different file fails.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync, existsSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { buildFiles } from "../src/pipeline.js";
import { buildManifest, serializeManifest } from "../src/write/manifest.js";

const version = (JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string }).version;

const examplesDir = join(import.meta.dirname, "..", "examples");
const update = process.env.UPDATE_GOLDEN === "1";
const examples = readdirSync(examplesDir).filter((name) => existsSync(join(examplesDir, name, "deploy.yaml")));

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

describe("golden output of every example", () => {
  it("covers the four real deployments", () => {
    expect(examples).toEqual(expect.arrayContaining(["bids-flux", "dicom-pipeline", "genui", "mlops-api"]));
  });

  for (const name of examples) {
    it(name, async () => {
      const expectedDir = join(examplesDir, name);
      const result = await buildFiles(join(expectedDir, "deploy.yaml"), expectedDir);
      if (!result.ok) throw new Error(result.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.message}`).join("\n"));
      const manifest = serializeManifest(buildManifest({ version, descriptor: result.descriptorFile }, result.files));
      const produced = new Map<string, string>(result.files.map((f) => [f.path, f.content]));
      produced.set(".create-deploy/manifest.json", manifest);

      if (update) {
        for (const path of listFiles(expectedDir)) if (path !== "deploy.yaml") rmSync(join(expectedDir, path));
        for (const file of result.files) {
          const target = join(expectedDir, file.path);
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, file.content);
          if (file.executable) chmodSync(target, 0o755);
        }
        mkdirSync(join(expectedDir, ".create-deploy"), { recursive: true });
        writeFileSync(join(expectedDir, ".create-deploy", "manifest.json"), manifest);
      }

      const onDisk = listFiles(expectedDir).filter((path) => path !== "deploy.yaml");
      if (onDisk.length === 0) throw new Error(`no golden files in ${relative(process.cwd(), expectedDir)}: run npm run golden:update`);
      expect(onDisk, "the set of generated files").toEqual([...produced.keys()].sort());
      for (const [path, content] of produced) {
        expect(readFileSync(join(expectedDir, path), "utf8"), path).toBe(content);
      }
      for (const file of result.files.filter((f) => f.executable)) {
        expect(statSync(join(expectedDir, file.path)).mode & 0o111, `${file.path} is executable`).not.toBe(0);
      }
    });
  }
});
