// DEPLOY.md's own tables at scale: the service lists in them stay readable, and the file
// grows with the number of services, not with its square.
import { format } from "prettier";
import { describe, expect, it } from "vitest";
import { summarizeServices } from "../src/kinds/docs/index.js";
import { contentOf, generate } from "./support/containers.js";

const names = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `svc-${from + i}`);

describe("service lists in DEPLOY.md's tables", () => {
  it("writes a short list out whole", () => {
    expect(summarizeServices([], names(20))).toBe("");
    expect(summarizeServices(["web"], ["web", "worker"])).toBe("web");
    expect(summarizeServices(["web", "worker"], ["web", "worker"])).toBe("web, worker");
    expect(summarizeServices(names(8), names(8))).toBe(names(8).join(", "));
  });

  it("says every service, or every service but a few, for a long list that covers (nearly) all", () => {
    expect(summarizeServices(names(9), names(9))).toBe("every service (9)");
    expect(summarizeServices(names(1000), names(1000))).toBe("every service (1000)");
    const all = names(12);
    expect(summarizeServices(all.filter((n) => n !== "svc-3" && n !== "svc-7"), all)).toBe("every service but svc-3, svc-7");
  });

  it("names the first few of any other long list and counts the rest", () => {
    expect(summarizeServices(names(9), names(20))).toBe("svc-0, svc-1, svc-2, svc-3, svc-4, svc-5 and 3 more");
    expect(summarizeServices(names(500, 10), names(1000))).toBe("svc-10, svc-11, svc-12, svc-13, svc-14, svc-15 and 494 more");
  });
});

function descriptorWith(n: number): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    services[`svc-${i}`] = {
      image: "ghcr.io/acme/worker:1.4.2",
      environment: { LOG_LEVEL: "info", [`SERVICE_${i}_MODE`]: "fast" },
      secrets: ["shared-key"],
    };
  }
  return {
    name: "many",
    services,
    secrets: { "shared-key": { description: "A key every service reads" } },
    environments: { prod: { values: { LOG_LEVEL: "warning" } } },
    targets: { env: {}, docs: {}, compose: {} },
  };
}

describe("DEPLOY.md for many services", () => {
  it("grows in step with the services, stays prettier-clean and names the shared rows once", async () => {
    const small = contentOf(generate(descriptorWith(100)), "DEPLOY.md");
    const large = contentOf(generate(descriptorWith(400)), "DEPLOY.md");
    // Four times the services: about four times the text (every service on every row was sixteen).
    expect(large.length / small.length).toBeLessThan(5);
    expect(large).toMatch(/^\| `LOG_LEVEL` +\| every service \(400\) +\| warning +\|$/mu);
    expect(large).toMatch(/^\| `shared-key` +\| `SHARED_KEY` +\| every service \(400\) +\|/mu);
    expect(await format(large, { parser: "markdown" })).toBe(large);
  });
});
