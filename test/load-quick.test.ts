// The quick reader against the full one: it may leave any text to the full reader, but a
// text it reads must be one the full reader accepts, with exactly the same value.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { readQuickly } from "../src/load-quick.js";
import { parseDescriptor, parseFully } from "../src/load.js";
import { badInputCases } from "./bad-input.cases.js";
import { awkwardTextArb, descriptorArb } from "./support/arbitrary-descriptor.js";
import { EXAMPLES, REPO } from "./support/bin.js";

/** Deep equality that tells -0 from 0 and keeps key order out of it. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === "number" || typeof b === "number") return Object.is(a, b);
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/** The quick reader's answer is undefined, or the full reader's accepted value. */
function expectAgreement(text: string): boolean {
  const quick = readQuickly(text);
  if (quick === undefined) return false;
  const full = parseFully(text, "deploy.yaml");
  expect(full.problems, text).toEqual([]);
  expect(sameValue(quick, full.value), `${text}\nquick: ${JSON.stringify(quick)}\nfull: ${JSON.stringify(full.value)}`).toBe(true);
  return true;
}

describe("the quick reader", () => {
  it("reads every bundled example, as the full reader does", () => {
    for (const name of EXAMPLES) {
      const text = readFileSync(join(REPO, "examples", name, "deploy.yaml"), "utf8");
      expect(expectAgreement(text), name).toBe(true);
    }
  });

  it("reads no bad input: each is left to the full reader, which places the problem", () => {
    for (const c of badInputCases) {
      const quick = readQuickly(c.yaml);
      if (quick !== undefined) {
        // Read quickly only if the YAML itself is fine; the problem is then in the data.
        expectAgreement(c.yaml);
        expect(parseFully(c.yaml, "deploy.yaml").problems, c.name).toEqual([]);
      }
    }
  });

  it("leaves what it is not trusted with to the full reader", () => {
    const refused = [
      "a: &x 1\nb: *x\n",
      "a: !!str 1\n",
      "%YAML 1.2\n---\na: 1\n",
      "a: |\n  text\n",
      "a: >\n  text\n",
      "? a\n: b\n",
      "---\na: 1\n",
      "a: 1\n---\nb: 2\n",
      "a: 1\na: 2\n",
      "1: one\n",
      "true: yes\n",
      "~: x\n",
      "[a]: x\n",
      "a: 0400\n",
      "a: .inf\n",
      "a: -.Inf\n",
      "a: .nan\n",
      "__proto__: {}\n",
      "constructor: x\n",
      "<<: {a: 1}\n",
      "a:\tb\n",
      "a: b\r\n",
      "a: \u0085\n",
      "a: b\u2028c\n",
      "\ufeffa: 1\n",
      "",
      "# only a comment\n",
      "- a\n- b\n",
      "just text\n",
      "a: [1, 2\n",
      "a: 'unclosed\n",
      // \U escapes are left to the full reader, which refuses code points above U+10FFFF.
      'a: "\\U00110000"\n',
      'a: "\\U0001F642"\n',
    ];
    for (const text of refused) expect(readQuickly(text), JSON.stringify(text)).toBeUndefined();
  });

  it("reads the shapes descriptors are written in without giving up", () => {
    const text = [
      "name: shop # the project",
      "services:",
      "  web:",
      "    build: { runtime: python, version: \"3.12\" }",
      "    command: [gunicorn, app.wsgi, --bind, 0.0.0.0:8000, -w, -5]",
      "    ports:",
      "    - port: 8000",
      "      published: 80",
      "      exposure: public",
      "    -   port: 9000",
      "        exposure: local",
      "    environment:",
      "      URL: http://example.org:8080/a#b",
      "      EMPTY:",
      "      QUOTED: 'it''s \"fine\"'",
      '      ESCAPED: "tab\\there \\u00e9\\x41 \\/ \\"q\\""',
      "      LIST: [a b, 'c, d', \"e]\", [f, g], {h: i}]",
      '    "quoted key": {a: 1, "b": [x, y], c: "z"}',
      "  worker:",
      "    depends: [web]",
      "",
      "    # a comment between keys",
      "    image: redis:7.4-alpine",
      "list:",
      "- a",
      "- b: c",
      "  d:",
      "  - e",
      "  - f",
      "- [g, h]",
    ].join("\n");
    expect(expectAgreement(`${text}\n`)).toBe(true);
  });

  it("reads any printable text as a plain, quoted or flow scalar the way the full reader does", () => {
    const unit = fc.oneof(
      fc.constantFrom(..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ 0123456789aAnNtTfFeEoxX~é漢\u00a0"),
      fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
    );
    const text = fc.string({ unit, minLength: 1, maxLength: 12 });
    const shape = fc.constantFrom(
      (t: string) => `a: ${t}\n`,
      (t: string) => `${t}: a\n`,
      (t: string) => `a:\n  - ${t}\n`,
      (t: string) => `a: [${t}]\n`,
      (t: string) => `a: [x, ${t}, y]\n`,
      (t: string) => `a: {k: ${t}}\n`,
      (t: string) => `a: {${t}: v}\n`,
      (t: string) => `a: "${t}"\n`,
      (t: string) => `a: '${t}'\n`,
      (t: string) => `a:\n- ${t}: v\n  b: ${t}\n`,
    );
    let read = 0;
    fc.assert(
      fc.property(text, shape, (t, wrap) => {
        if (expectAgreement(wrap(t))) read += 1;
      }),
      { numRuns: 3000 },
    );
    expect(read).toBeGreaterThan(500);
  });

  it("reads typed scalars as the yaml library's core schema does", () => {
    const text = [
      "n1: null", "n2: ~", "n3: Null", "n4:", "b1: true", "b2: False", "b3: TRUE", "b4: yes", "b5: on",
      "i1: 12", "i2: -3", "i3: +4", "i4: 0o17", "i5: 0x1F", "i6: 0b101", "i7: 1_000", "i8: 0", "i9: -0",
      "f1: 1.5", "f2: .5", "f3: 1e3", "f4: -2.5E-3", "f5: 1.", "f6: 3.10", "f7: 12345678901234567890",
      's1: "12"', "s2: '0x1F'", "s3: 1.2.3", "s4: 0o8", "s5: 0xZ", "s6: 1e", "s7: +-1",
      "list: [1, '2', true, null, 0x10, 1.0e2]", "map: {a: 1, b: '1', c: ~}",
    ].join("\n");
    expect(expectAgreement(`${text}\n`)).toBe(true);
  });

  it("agrees with the full reader on random descriptors, in every style yaml writes them", () => {
    const style = fc.record({
      defaultStringType: fc.constantFrom("PLAIN", "QUOTE_DOUBLE", "QUOTE_SINGLE"),
      defaultKeyType: fc.constantFrom(null, "PLAIN", "QUOTE_DOUBLE"),
      collectionStyle: fc.constantFrom("any", "block", "flow"),
      lineWidth: fc.constantFrom(0, 20, 80),
      indent: fc.constantFrom(2, 4),
      indentSeq: fc.boolean(),
    });
    let read = 0;
    fc.assert(
      fc.property(descriptorArb, style, (descriptor, options) => {
        const text = stringify(descriptor, null, options as unknown as Parameters<typeof stringify>[2]);
        if (expectAgreement(text)) read += 1;
      }),
      { numRuns: 300 },
    );
    expect(read).toBeGreaterThan(30);
  });

  // Text put together from YAML's pieces: plain, quoted and flow values full of indicator
  // characters, comments, blank lines, continuation lines, nested blocks.
  const word = fc.string({ unit: fc.constantFrom(..."aZ09 -_.:#'\"{}[],/=$\\é漢"), minLength: 1, maxLength: 8 });
  const typedWord = fc.constantFrom("true", "no", "null", "~", "12", "-0", "0o7", "0x1f", "1e3", ".5", "1_0", "0b1", "1.", "+1", "07", "-", ":", "#", "a #b", "a:b");
  const scalar = fc.oneof(
    word,
    typedWord,
    word.map((w) => JSON.stringify(w)),
    word.map((w) => `'${w.replace(/'/g, "''")}'`),
    fc.array(fc.oneof(word, typedWord), { maxLength: 3 }).map((ws) => `[${ws.join(", ")}]`),
    fc.array(fc.tuple(fc.stringMatching(/^[a-z]{1,4}$/), fc.oneof(word, typedWord)), { maxLength: 3 }).map((ps) => `{${ps.map(([k, v]) => `${k}: ${v}`).join(", ")}}`),
  );
  const key = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/), typedWord, word.map((w) => JSON.stringify(w)));
  const decoration = fc.constantFrom("", "", "", " # note", "  #", "\n", "\n# comment\n", "\n  ");
  const block: fc.Arbitrary<string[]> = fc.letrec((tie) => ({
    map: fc.array(
      fc.tuple(key, fc.oneof(scalar.map((v) => [v]), tie("map") as fc.Arbitrary<string[]>, tie("seq") as fc.Arbitrary<string[]>), decoration),
      { minLength: 1, maxLength: 4 },
    ).map((entries) =>
      entries.flatMap(([k, v, d]) => (v.length === 1 && !v[0]!.startsWith(" ") ? [`${k}: ${v[0]}${d}`] : [`${k}:${d.startsWith("\n") ? "" : d}`, ...v.map((line) => `  ${line}`)])),
    ),
    seq: fc.array(fc.oneof(scalar, word.map((w) => `${w}\n  ${w}`)), { minLength: 1, maxLength: 3 }).map((items) => items.flatMap((item) => `- ${item}`.split("\n"))),
  })).map as fc.Arbitrary<string[]>;

  it("agrees with the full reader on random YAML text", () => {
    let read = 0;
    fc.assert(
      fc.property(block, (lines) => {
        if (expectAgreement(`${lines.join("\n")}\n`)) read += 1;
      }),
      { numRuns: 3000 },
    );
    expect(read).toBeGreaterThan(100);
  });

  it("agrees with the full reader on mis-indented, unterminated or spaced-out text", () => {
    const mutation = fc.constantFrom("indent", "dedent", "space-before-colon", "no-final-newline", "trailing-space");
    fc.assert(
      fc.property(block, fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 }), (lines, mutations) => {
        let final = "\n";
        for (const [at, kind] of mutations) {
          const index = at % lines.length;
          const line = lines[index]!;
          if (kind === "indent") lines[index] = ` ${line}`;
          else if (kind === "dedent") lines[index] = line.replace(/^ /, "");
          else if (kind === "space-before-colon") lines[index] = line.replace(/: /, " : ");
          else if (kind === "trailing-space") lines[index] = `${line} `;
          else final = "";
        }
        expectAgreement(`${lines.join("\n")}${final}`);
      }),
      { numRuns: 3000 },
    );
  });

  it("reads nesting as deep as descriptors go, and leaves deeper nesting to the full reader", () => {
    const nested = (levels: number, step: (i: number) => string): string => {
      let text = "";
      for (let i = 0; i < levels; i++) text += step(i);
      return `${text}${" ".repeat(2 * levels)}leaf: [1, {a: b}]\n`;
    };
    const mappings = (i: number): string => `${" ".repeat(2 * i)}k${i}:\n`;
    const items = (i: number): string => `${" ".repeat(2 * i)}- k${i}:\n`;
    expect(expectAgreement(nested(40, mappings))).toBe(true);
    expect(expectAgreement(`a:\n${nested(20, items)}`)).toBe(true);
    // The full reader runs out of stack somewhere past 450 levels and reports it; the
    // quick reader must not read what the full one refuses, so it stops far earlier.
    for (const text of [nested(490, mappings), `a:\n${nested(470, items)}`, nested(65, mappings)]) {
      expect(readQuickly(text)).toBeUndefined();
    }
    let oneSpace = "";
    for (let i = 0; i < 900; i++) oneSpace += `${" ".repeat(i)}k:\n`;
    expect(readQuickly(`${oneSpace}${" ".repeat(900)}k: v\n`)).toBeUndefined();
  });

  it("leaves a key too long for YAML to the full reader", () => {
    const text = `${"k".repeat(1100)}: v\n`;
    expect(readQuickly(text)).toBeUndefined();
    expect(parseFully(text, "deploy.yaml").problems).not.toEqual([]);
  });

  it("keeps problem positions: a valid YAML text read quickly still places a data problem", () => {
    const text = "name: shop\nservices:\n  web:\n    image: nginx:1.27\n    ports:\n      - port: 99999\n";
    const parsed = parseDescriptor(text, "deploy.yaml");
    expect(readQuickly(text)).toBeDefined();
    expect(parsed.locate("/services/web/ports/0/port")).toEqual({ line: 6, col: 15 });
    expect(parsed.sourceText("/services/web/ports/0/port")).toBe("99999");
  });

  it("reads descriptions of any awkward text the way the full reader does", () => {
    fc.assert(
      fc.property(awkwardTextArb(), (text) => {
        expectAgreement(stringify({ name: "x", description: text, services: { web: { image: "nginx:1", command: [text] } } }));
      }),
      { numRuns: 300 },
    );
  });
});
