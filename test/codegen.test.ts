// The build's generated validator is compiled from the schema without its annotations
// (titles, descriptions, examples), so that every run does not carry them. These tests
// prove the cut changes nothing: the standalone validator reports exactly the errors ajv
// reports from the full schema, on valid, broken and arbitrary descriptors.
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import precompiledValidate from "../generated/validate-descriptor.js";
// @ts-expect-error -- plain JavaScript build script without type declarations
import * as codegen from "../scripts/codegen.mjs";
import { badInputCases } from "./bad-input.cases.js";

const { stripAnnotations, VALIDATOR_OPTIONS } = codegen as {
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
