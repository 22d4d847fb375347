// Cold-start benchmark of `create-deploy generate`: every run is a new node process
// writing into an empty folder, as a user or CI meets it. Prints median wall time and
// peak memory per case beside `node -e 0` measured in the same run.
//   npm run bench                      (builds first)
//   node bench/generate.mjs --runs 21
//   node bench/generate.mjs --only genui,100 --bin /elsewhere/bin/create-deploy.js
//   node bench/generate.mjs --dir /path/on/another/disk   (default: the system's temp folder)
// The cases take turns, round after round, so a machine that gets busier halfway through
// slows every case alike and the ratios to `node -e 0` stay comparable.
import { spawnSync } from "node:child_process";
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    only: { type: "string" },
    bin: { type: "string" },
    dir: { type: "string" },
  },
});
const workDir = values.dir === undefined ? tmpdir() : resolve(values.dir);
const runs = Number.parseInt(values.runs, 10);
if (!Number.isInteger(runs) || runs < 3) {
  console.error(`--runs must be a whole number of at least 3, not ${JSON.stringify(values.runs)}`);
  process.exit(2);
}
const bin = values.bin === undefined ? join(root, "bin", "create-deploy.js") : resolve(values.bin);
const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

if (values.bin === undefined && !existsSync(join(root, "dist", "cli.cjs"))) {
  console.error("dist/cli.cjs is missing: run `npm run build` first (npm run bench does).");
  process.exit(1);
}

/**
 * A descriptor of n services in the shape real ones have: web services built from source
 * with a published port and an HTTP health check, workers, databases and caches, each with
 * its own and a shared variable and a shared secret, two environments.
 */
function syntheticDescriptor(n) {
  const lines = ["name: synthetic", "description: Synthetic descriptor for the benchmark", "services:"];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    const kind = i % 4;
    lines.push(`  ${name}:`);
    if (kind === 0) {
      lines.push("    type: web", "    build:", "      runtime: python", '      version: "3.12"', "      command: [gunicorn, app.wsgi, --bind, 0.0.0.0:8000]");
      lines.push("    ports:", "      - port: 8000", `        published: ${10000 + i}`, "        exposure: local");
      lines.push("    healthcheck:", "      http: { path: /health, port: 8000 }");
    } else if (kind === 1) {
      lines.push("    type: worker", "    image: ghcr.io/acme/worker:1.4.2", "    command: [celery, -A, app, worker]");
    } else if (kind === 2) {
      lines.push("    type: database", "    image: postgres:16.4-bookworm", "    user: postgres");
      lines.push("    healthcheck:", "      command: [pg_isready]");
    } else {
      lines.push("    type: cache", "    image: redis:7.4-alpine", "    user: redis");
    }
    lines.push("    environment:", "      LOG_LEVEL: info", `      SERVICE_${i}_MODE: fast`);
    lines.push("    secrets: [shared-key]");
  }
  lines.push("secrets:", "  shared-key:", "    description: A key every service reads");
  lines.push("environments:", "  prod:", "    values:", "      LOG_LEVEL: warning", "  debug:", "    values:", "      LOG_LEVEL: debug");
  lines.push("targets:", "  env: {}", "  docs: {}", "  docker: {}", "  compose: {}");
  return `${lines.join("\n")}\n`;
}

/**
 * One run: wall time in ms, peak resident memory in kB and CPU time (user + system) in ms;
 * the last two are NaN without /usr/bin/time. On a shared machine the CPU time moves less
 * than the wall time, which also counts the time other work held the processor.
 */
function measure(command, args) {
  const argv = timeBin ? ["-f", "%M %U %S", command, ...args] : args;
  const start = process.hrtime.bigint();
  const result = spawnSync(timeBin ?? command, argv, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error !== undefined) throw result.error;
  // Ctrl-C stopped the run (through /usr/bin/time, as its exit status 130).
  if (result.signal === "SIGINT" || result.status === 130) throw new Interrupted();
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}:\n${result.stderr}`);
  const [peak, user, system] = timeBin ? result.stderr.trim().split("\n").at(-1).split(" ").map(Number) : [];
  return { ms, peakKb: peak ?? Number.NaN, cpuMs: user === undefined ? Number.NaN : (user + system) * 1000 };
}

class Interrupted extends Error {}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A case prepares one run (a fresh folder) and checks what the run left there. */
function generateCase(label, writeConfig) {
  return {
    label,
    prepare() {
      const dir = mkdtempSync(join(workDir, "create-deploy-bench-"));
      const config = join(dir, "deploy.yaml");
      const out = join(dir, "out");
      writeConfig(config);
      return {
        command: process.execPath,
        args: [bin, "generate", "--config", config, "--out", out],
        verify() {
          // A run that wrote nothing would be fast for the wrong reason.
          if (!existsSync(join(out, ".create-deploy", "manifest.json")) || readdirSync(out).length < 2) {
            throw new Error(`${label}: generate exited 0 but wrote no files`);
          }
        },
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}

const baselineCase = {
  label: "node -e 0",
  prepare: () => ({ command: process.execPath, args: ["-e", "0"], verify() {}, cleanup() {} }),
};
const cases = [baselineCase];
for (const name of ["genui", "bids-flux", "dicom-pipeline", "mlops-api"]) {
  cases.push(generateCase(`generate ${name}`, (config) => copyFileSync(join(root, "examples", name, "deploy.yaml"), config)));
}
for (const n of [10, 100, 1000]) {
  const text = syntheticDescriptor(n);
  cases.push(generateCase(`generate ${n} services`, (config) => writeFileSync(config, text)));
}
// --only genui,100: the cases whose label contains one of the words (node -e 0 always runs).
const wanted = values.only?.split(",").filter((word) => word !== "");
const selected = cases.filter((c, i) => i === 0 || wanted === undefined || wanted.some((word) => c.label.includes(word)));

/**
 * How long this file system takes to create 500 empty files in a new folder, the most a
 * run here writes (1000 services make 507 files). It varies tenfold between machines, and
 * between folders and moments on one machine, so it is printed beside the results.
 */
function probeFileCreation() {
  const dir = mkdtempSync(join(workDir, "create-deploy-bench-probe-"));
  const start = process.hrtime.bigint();
  for (let i = 0; i < 500; i++) closeSync(openSync(join(dir, `f${i}`), "wx"));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const samples = new Map(selected.map((c) => [c.label, { times: [], peaks: [], cpus: [] }]));
const probes = [];
// Run folders are removed only after the last round. Removing hundreds of files just before
// the next run is measured makes that run's file creations wait on the file system's work
// for the removal (several hundred ms on an ext4 disk mounted with `discard`), a cost of
// the benchmark's own housekeeping that a user's generate does not pay.
const cleanups = [];
// Ctrl-C stops the run in progress, and the benchmark then removes its folders and exits.
// Without this handler Node would exit at once and leave them behind.
process.on("SIGINT", () => undefined);
try {
  for (let round = 1; round <= runs; round++) {
    process.stderr.write(`\rround ${round}/${runs}`);
    const probe = probeFileCreation();
    cleanups.push(probe.cleanup);
    probes.push(probe.ms);
    for (const c of selected) {
      const run = c.prepare();
      cleanups.push(run.cleanup);
      const { ms, peakKb, cpuMs } = measure(run.command, run.args);
      run.verify();
      samples.get(c.label).times.push(ms);
      samples.get(c.label).peaks.push(peakKb);
      samples.get(c.label).cpus.push(cpuMs);
    }
  }
} catch (error) {
  if (!(error instanceof Interrupted)) throw error;
  process.stderr.write("\ninterrupted\n");
  process.exitCode = 130;
} finally {
  for (const cleanup of cleanups) cleanup();
}
if (process.exitCode === 130) process.exit();
process.stderr.write("\n");

const results = selected.map((c) => {
  const { times, peaks, cpus } = samples.get(c.label);
  return { label: c.label, median: median(times), min: Math.min(...times), cpu: median(cpus), peakMb: Math.max(...peaks) / 1024 };
});
const baseline = results[0];
const pad = (s, w) => String(s).padEnd(w);
console.log(`create-deploy generate, cold, ${runs} runs each (median wall time, median CPU time, peak resident memory)`);
console.log(`${pad("case", 26)}${pad("median ms", 12)}${pad("min ms", 10)}${pad("× node -e 0", 13)}${pad("cpu ms", 10)}peak MB`);
const shown = (x, digits) => (Number.isNaN(x) ? "n/a" : x.toFixed(digits));
for (const r of results) {
  const ratio = (r.median / baseline.median).toFixed(2);
  console.log(`${pad(r.label, 26)}${pad(r.median.toFixed(1), 12)}${pad(r.min.toFixed(1), 10)}${pad(ratio, 13)}${pad(shown(r.cpu, 0), 10)}${shown(r.peakMb, 1)}`);
}
console.log(`\nfile system: creating 500 empty files in ${workDir} took ${median(probes).toFixed(0)} ms (median; min ${Math.min(...probes).toFixed(0)}, max ${Math.max(...probes).toFixed(0)})`);
const genui = results.find((r) => r.label === "generate genui");
const thousand = results.find((r) => r.label === "generate 1000 services");
console.log("");
if (genui !== undefined) {
  const ratio = genui.median / baseline.median;
  console.log(`genui cold generate: ${ratio.toFixed(2)}× node -e 0 (target ≤ 3×): ${ratio <= 3 ? "met" : "NOT met"}`);
}
if (thousand !== undefined) {
  console.log(`1000 services: ${thousand.median.toFixed(0)} ms (target < 1000 ms): ${thousand.median < 1000 ? "met" : "NOT met"}`);
}
