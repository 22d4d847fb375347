// The build's generated validator is compiled from the schema without its annotations
// (titles, descriptions, examples), so that every run does not carry them, and tests a
// long alternation one alternative at a time, so that V8 compiles only what a value needs.
// These tests prove neither changes a verdict: the standalone validator reports exactly
// the errors ajv reports from the full schema, on valid, broken and arbitrary descriptors,
// and every pattern of the schema matches exactly what the plain RegExp matches.
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import precompiledValidate from "../generated/validate-descriptor.js";
// @ts-expect-error -- plain JavaScript build script without type declarations
import * as codegen from "../scripts/codegen.mjs";
import { templateHelpers } from "../src/render/index.js";
import { badInputCases } from "./bad-input.cases.js";

const { lazyAlternation, stripAnnotations, TEMPLATE_HELPERS, VALIDATOR_OPTIONS } = codegen as {
  TEMPLATE_HELPERS: string[];
  lazyAlternation(pattern: string, flags: string): { test(text: string): boolean };
  stripAnnotations(schema: unknown): unknown;
  VALIDATOR_OPTIONS: { allErrors: boolean; strict: boolean; coerceTypes: boolean; useDefaults: boolean };
};

const schema = JSON.parse(readFileSync(new URL("../schemas/deploy.schema.json", import.meta.url), "utf8")) as object;
const fullValidate = new Ajv2020(VALIDATOR_OPTIONS).compile(schema);
const EXAMPLES = ["dicom-pipeline", "genui", "bids-flux", "mlops-api"] as const;

function errorsOf(validate: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }, data: unknown): ErrorObject[] {
  return validate(data) ? [] : [...(validate.errors ?? [])];
}

function expectSameVerdict(data: unknown): void {
  expect(errorsOf(precompiledValidate, data)).toEqual(errorsOf(fullValidate, data));
}

describe("stripAnnotations", () => {
  it("drops annotation keywords but keeps properties that share their names", () => {
    const stripped = stripAnnotations({
      title: "T",
      description: "D",
      type: "object",
      properties: {
        description: { type: "string", description: "about the field", examples: ["x"] },
        default: { const: "default" },
      },
      anyOf: [{ required: ["description"], $comment: "why" }],
      enum: [{ description: "a value, not an annotation" }],
    });
    expect(stripped).toEqual({
      type: "object",
      properties: { description: { type: "string" }, default: { const: "default" } },
      anyOf: [{ required: ["description"] }],
      enum: [{ description: "a value, not an annotation" }],
    });
  });

  it("leaves no annotation in the descriptor schema, and every validating keyword", () => {
    const text = JSON.stringify(stripAnnotations(schema));
    expect(text).not.toMatch(/"(title|examples|\$comment)":/u);
    const countKeyword = (json: string, keyword: string): number => json.split(`"${keyword}":`).length - 1;
    for (const keyword of ["$ref", "pattern", "required", "enum", "additionalProperties", "if", "minimum", "maximum"]) {
      expect(countKeyword(text, keyword), keyword).toBe(countKeyword(JSON.stringify(schema), keyword));
    }
  });
});

/** Every regular expression of the schema: pattern keywords and patternProperties keys. */
function schemaPatterns(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) schemaPatterns(item, found);
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "pattern" && typeof value === "string") found.add(value);
      if (key === "patternProperties" && value !== null && typeof value === "object") for (const name of Object.keys(value)) found.add(name);
      schemaPatterns(value, found);
    }
  }
  return found;
}

describe("lazyAlternation", () => {
  const patterns = [...schemaPatterns(schema)];
  const defs = (schema as { $defs: Record<string, { pattern: string }> }).$defs;

  it("tests the IP address and CIDR patterns one alternative at a time", () => {
    for (const name of ["ipAddress", "cidr"]) expect(lazyAlternation(defs[name]!.pattern, "u")).not.toBeInstanceOf(RegExp);
  });

  it("keeps one RegExp where splitting could change the meaning or gains nothing", () => {
    for (const pattern of ["^(?:(a)\\1|b)$", "^(?:(?<x>a)\\k<x>|b)$", "^(?:(?<=a)b|c)$", "^a|b$", "^(?:a|b)(?:c|d)$", "^(?:a)$", "^[|]$"]) {
      expect(lazyAlternation(pattern, "u"), pattern).toBeInstanceOf(RegExp);
    }
  });

  it("splits only at alternation outside groups, classes and escapes", () => {
    const cases: [string, string[], string[]][] = [
      ["^(?:a\\|b|[|c]|(?:d|e)f)$", ["a|b", "|", "c", "df", "ef"], ["a", "b|", "d", "f", "", "a|bc"]],
      ["^(?:(?:x|y)|(?:z))$", ["x", "y", "z"], ["xy", "", "(?:z)"]],
      ["^(?:|q)$", ["", "q"], ["qq"]],
    ];
    for (const [pattern, matching, other] of cases) {
      const lazy = lazyAlternation(pattern, "u");
      expect(lazy, pattern).not.toBeInstanceOf(RegExp);
      for (const text of matching) expect(lazy.test(text), `${pattern} ${text}`).toBe(true);
      for (const text of other) expect(lazy.test(text), `${pattern} ${text}`).toBe(new RegExp(pattern, "u").test(text));
    }
  });

  it("matches exactly what the schema's own patterns match", () => {
    expect(patterns.length).toBeGreaterThan(20);
    const near = (ip: string, at: number, ch: string): string => ip.slice(0, at % (ip.length + 1)) + ch + ip.slice(at % (ip.length + 1));
    const text = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 0, max: 140 })).map(([ip, prefix]) => `${ip}/${prefix}`),
      fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.nat(), fc.constantFrom(..."0123456789abcdefg:./")).map(([ip, at, ch]) => near(ip, at, ch)),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:./-_ %a-z"), maxLength: 24 }),
      fc.string({ maxLength: 16 }),
    );
    for (const pattern of patterns) {
      const plain = new RegExp(pattern, "u");
      const lazy = lazyAlternation(pattern, "u");
      fc.assert(
        fc.property(text, (value) => lazy.test(value) === plain.test(value)),
        { numRuns: 400 },
      );
    }
  });
});

describe("the generated validator", () => {
  it.each(EXAMPLES)("accepts %s/deploy.yaml as the full schema does", (name) => {
    const data = parse(readFileSync(new URL(`../examples/${name}/deploy.yaml`, import.meta.url), "utf8")) as unknown;
    expect(precompiledValidate(data)).toBe(true);
    expectSameVerdict(data);
  });

  it("reports the full schema's errors for every adversarial descriptor", () => {
    let compared = 0;
    for (const bad of badInputCases) {
      let data: unknown;
      try {
        data = parse(bad.yaml, { logLevel: "error" });
      } catch {
        continue; // Broken YAML never reaches the validator.
      }
      expectSameVerdict(data);
      compared++;
    }
    expect(compared).toBeGreaterThan(badInputCases.length / 2);
  });

  it("agrees with the full schema on arbitrary descriptors", () => {
    const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: 70_000 }), fc.boolean(), fc.constant(null));
    const service = fc.dictionary(
      fc.constantFrom("image", "type", "ports", "environment", "secrets", "user", "description", "command", "healthcheck", "replicas"),
      fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 })),
      { maxKeys: 5 },
    );
    fc.assert(
      fc.property(fc.record({ name: scalar, services: fc.dictionary(fc.string({ maxLength: 8 }), service, { maxKeys: 3 }) }, { requiredKeys: [] }), (data) => {
        expectSameVerdict(data);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the precompiled templates", () => {
  it("are compiled knowing exactly the helpers the renderer registers", () => {
    expect([...TEMPLATE_HELPERS].sort()).toEqual(Object.keys(templateHelpers).sort());
  });
});
