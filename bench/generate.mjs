// Cold-start benchmark of `create-deploy generate`: every run is a new node process
// writing into an empty folder, as a user or CI meets it. Prints median wall time and
// peak memory per case beside `node -e 0` measured in the same run.
//   npm run bench            (builds first)
//   node bench/generate.mjs --runs 21
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "create-deploy.js");
const { values } = parseArgs({ options: { runs: { type: "string", default: "15" } } });
const runs = Math.max(3, Number(values.runs));
const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

if (!existsSync(join(root, "dist", "cli.js"))) {
  console.error("dist/cli.js is missing: run `npm run build` first (npm run bench does).");
  process.exit(1);
}

/** A descriptor of n services in the shape real ones have: web, workers, a database and a cache. */
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
    lines.push("    environment:", `      LOG_LEVEL: info`, `      SERVICE_${i}_MODE: fast`);
    lines.push("    secrets: [shared-key]");
  }
  lines.push("secrets:", "  shared-key:", "    description: A key every service reads");
  lines.push("environments:", "  prod:", "    values:", "      LOG_LEVEL: warning", "  debug:", "    values:", "      LOG_LEVEL: debug");
  lines.push("targets:", "  env: {}", "  docs: {}", "  docker: {}", "  compose: {}");
  return `${lines.join("\n")}\n`;
}

function measure(command, args) {
  const argv = timeBin ? ["-f", "%M", command, ...args] : args;
  const start = process.hrtime.bigint();
  const result = spawnSync(timeBin ?? command, argv, { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}:\n${result.stderr}`);
  const peakKb = timeBin ? Number(result.stderr.trim().split("\n").at(-1)) : NaN;
  return { ms, peakKb };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function bench(label, prepare) {
  const times = [];
  const peaks = [];
  for (let i = 0; i < runs; i++) {
    const { command, args, cleanup } = prepare();
    try {
      const { ms, peakKb } = measure(command, args);
      times.push(ms);
      peaks.push(peakKb);
    } finally {
      cleanup();
    }
  }
  return { label, median: median(times), min: Math.min(...times), peakMb: Math.max(...peaks) / 1024 };
}

function generateCase(label, writeConfig) {
  return bench(label, () => {
    const dir = mkdtempSync(join(tmpdir(), "create-deploy-bench-"));
    const config = join(dir, "deploy.yaml");
    writeConfig(config);
    return {
      command: process.execPath,
      args: [bin, "generate", "--config", config, "--out", join(dir, "out")],
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  });
}

const results = [];
const baseline = bench("node -e 0", () => ({ command: process.execPath, args: ["-e", "0"], cleanup: () => {} }));
results.push(baseline);
for (const name of ["genui", "bids-flux", "dicom-pipeline", "mlops-api"]) {
  results.push(generateCase(`generate ${name}`, (config) => copyFileSync(join(root, "examples", name, "deploy.yaml"), config)));
}
for (const n of [10, 100, 1000]) {
  const text = syntheticDescriptor(n);
  results.push(generateCase(`generate ${n} services`, (config) => writeFileSync(config, text)));
}

const pad = (s, w) => String(s).padEnd(w);
console.log(`create-deploy generate, cold, ${runs} runs each (median wall time; peak resident memory)`);
console.log(`${pad("case", 26)}${pad("median ms", 12)}${pad("min ms", 10)}${pad("× node -e 0", 13)}peak MB`);
for (const r of results) {
  const ratio = (r.median / baseline.median).toFixed(2);
  console.log(`${pad(r.label, 26)}${pad(r.median.toFixed(1), 12)}${pad(r.min.toFixed(1), 10)}${pad(ratio, 13)}${Number.isNaN(r.peakMb) ? "n/a" : r.peakMb.toFixed(1)}`);
}
const genui = results.find((r) => r.label === "generate genui");
const thousand = results.find((r) => r.label === "generate 1000 services");
console.log("");
console.log(`genui cold generate: ${(genui.median / baseline.median).toFixed(2)}× node -e 0 (target ≤ 3×)`);
console.log(`1000 services: ${thousand.median.toFixed(0)} ms (target < 1000 ms)`);
