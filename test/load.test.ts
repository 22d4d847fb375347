import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_ALIASES, MAX_DESCRIPTOR_BYTES, parseDescriptor, readDescriptor } from "../src/load.js";

const EXAMPLES = ["bids-flux", "dicom-pipeline", "genui", "mlops-api"];

function parse(text: string) {
  return parseDescriptor(text, "deploy.yaml");
}

function messages(text: string): string[] {
  return parse(text).problems.map((p) => `${p.line}:${p.col} ${p.pointer} ${p.message}`);
}

describe("parseDescriptor", () => {
  it.each(EXAMPLES)("reads examples/%s/deploy.yaml into plain data", (name) => {
    const parsed = parse(readFileSync(`examples/${name}/deploy.yaml`, "utf8"));
    expect(parsed.problems).toEqual([]);
    const value = parsed.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(value.name).toBe(name);
  });

  it("reads YAML 1.2 core scalars: yes stays a string, 0o17 is octal, 3.10 is a number", () => {
    const parsed = parse("a: yes\nb: off\nc: 0o17\nd: 3.10\ne: ~\nf: true\ng: 0x1F\n");
    expect(parsed.value).toEqual({ a: "yes", b: "off", c: 15, d: 3.1, e: null, f: true, g: 31 });
    expect(parsed.sourceText("/d")).toBe("3.10");
    expect(parsed.sourceText("/missing")).toBeUndefined();
  });

  it("reads an empty file as null", () => {
    expect(parse("").value).toBeNull();
    expect(parse("# only a comment\n").value).toBeNull();
  });

  it("accepts one document with explicit start and end markers", () => {
    const parsed = parse("---\na: 1\n...\n");
    expect(parsed.problems).toEqual([]);
    expect(parsed.value).toEqual({ a: 1 });
  });

  describe("locate", () => {
    const text = [
      "name: shop", // 1
      "services:", // 2
      "  web:", // 3
      "    image: nginx:1.27", // 4
      "    ports:", // 5
      "      - port: 8080", // 6
      "        published: 80", // 7
      "    env: {A: 1, B: two}", // 8
      "",
    ].join("\n");
    const { locate } = parse(text);

    it("points at a scalar value", () => {
      expect(locate("/services/web/image")).toEqual({ line: 4, col: 12 });
      expect(locate("/services/web/ports/0/published")).toEqual({ line: 7, col: 20 });
    });

    it("points at the key of a block collection, which is the line a person looks at", () => {
      expect(locate("/services/web")).toEqual({ line: 3, col: 3 });
      expect(locate("/services/web/ports")).toEqual({ line: 5, col: 5 });
    });

    it("points at a sequence item", () => {
      expect(locate("/services/web/ports/0")).toEqual({ line: 6, col: 9 });
    });

    it("points at a key when asked", () => {
      expect(locate("/services/web/image", "key")).toEqual({ line: 4, col: 5 });
      expect(locate("/services/web/env/B", "key")).toEqual({ line: 8, col: 17 });
    });

    it("points inside flow collections", () => {
      expect(locate("/services/web/env/B")).toEqual({ line: 8, col: 20 });
      expect(locate("/services/web/env")).toEqual({ line: 8, col: 10 });
    });

    it("falls back to the nearest existing parent for something missing", () => {
      expect(locate("/services/web/build/command")).toEqual({ line: 3, col: 3 });
      expect(locate("/services/web/ports/3/port")).toEqual({ line: 5, col: 5 });
      expect(locate("/nothing")).toEqual({ line: 1, col: 1 });
    });

    it("points at the start of the document for the root", () => {
      expect(locate("")).toEqual({ line: 1, col: 1 });
      expect(parse("# comment\nname: x\n").locate("")).toEqual({ line: 2, col: 1 });
    });

    it("decodes ~0 and ~1 in pointers", () => {
      const parsed = parse('paths:\n  "a/b": 1\n  "c~d": 2\n');
      expect(parsed.locate("/paths/a~1b")).toEqual({ line: 2, col: 10 });
      expect(parsed.locate("/paths/c~0d")).toEqual({ line: 3, col: 10 });
    });
  });

  describe("refuses", () => {
    it("duplicate keys, at the duplicate, naming the key and the first line", () => {
      expect(messages("a: 1\nb:\n  c: 1\n  c: 2\n")).toEqual(['4:3 /b/c duplicate key "c" (first defined on line 3)']);
    });

    it("keys that collide once read as strings", () => {
      expect(messages('ports:\n  1: a\n  "1": b\n')).toEqual(['3:3 /ports/1 duplicate key "1" (first defined on line 2)']);
    });

    it(`more than ${MAX_ALIASES} aliases, at the first one over the limit`, () => {
      const list = (name: string, n: number) => `[${Array.from({ length: n }, () => `*${name}`).join(", ")}]`;
      const text = `a: &a [x]\nb: &b ${list("a", 10)}\nc: ${list("b", 7)}\n`;
      const problems = parse(text).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ pointer: "/c/6", line: 3 });
      expect(problems[0]?.message).toContain(`at most ${MAX_ALIASES} are allowed`);
      expect(parse(text).value).toBeUndefined();
    });

    it("a few aliases that the yaml library still finds too expansive", () => {
      const text = "a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c]\n";
      const problems = parse(text).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]?.message).toContain("aliases expand into too much data");
    });

    it("allows a handful of aliases and expands them", () => {
      const parsed = parse("base: &env {A: 1}\none: *env\ntwo: *env\n");
      expect(parsed.problems).toEqual([]);
      expect(parsed.value).toEqual({ base: { A: 1 }, one: { A: 1 }, two: { A: 1 } });
    });

    it("locates through an alias at the anchored node", () => {
      const parsed = parse("base: &env\n  A: 1\none: *env\n");
      expect(parsed.locate("/one/A")).toEqual({ line: 2, col: 6 });
    });

    it("tags outside the core schema, on values and keys", () => {
      expect(messages("a: !!binary aGVsbG8=\nb: !include x.yaml\n!!set c: 1\n")).toEqual([
        '1:4 /a uses the tag "!!binary"; descriptors hold plain strings, numbers, booleans, lists and maps',
        '2:4 /b uses the tag "!include"; descriptors hold plain strings, numbers, booleans, lists and maps',
        '3:1 /c uses the tag "!!set" on a key',
      ]);
    });

    it("but keeps core tags, which mean what they say", () => {
      const parsed = parse("a: !!str 8080\nb: !!int 3\n");
      expect(parsed.problems).toEqual([]);
      expect(parsed.value).toEqual({ a: "8080", b: 3 });
    });

    it("several documents", () => {
      expect(messages("a: 1\n---\nb: 2\n")).toEqual(["2:1  contains more than one YAML document (---); a descriptor is a single document"]);
    });

    it("__proto__, constructor and prototype keys, and leaves Object.prototype alone", () => {
      const parsed = parse("a:\n  __proto__: {polluted: 1}\nconstructor: 1\nprototype: 2\n");
      expect(parsed.problems.map((p) => `${p.line}:${p.col} ${p.pointer}`)).toEqual(["2:3 /a/__proto__", "3:1 /constructor", "4:1 /prototype"]);
      expect(parsed.value).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it("merge keys", () => {
      expect(messages("base: &b {x: 1}\nc:\n  <<: *b\n")).toEqual(["3:3 /c/<< merge keys (<<) are not part of YAML 1.2"]);
    });

    it("keys that are collections", () => {
      expect(messages("? [a, b]\n: 1\n")).toEqual(["1:3  has a key that is not a plain string (a list, map or alias used as a key)"]);
    });

    it("infinite and not-a-number values", () => {
      expect(messages("a: .inf\nb: -.Inf\nc: .nan\n")).toHaveLength(3);
    });

    it("integers written with a leading zero, which YAML 1.2 reads as decimal", () => {
      const [problem] = parse("mode: 0644\nother: 0089\n").problems;
      expect(problem).toMatchObject({ pointer: "/mode", line: 1, col: 7, hint: "write 0o644 for octal, or 644 for decimal" });
      expect(problem?.message).toBe("0644 is the decimal number 644 in YAML 1.2, not an octal number");
      expect(parse("other: 0089\n").problems[0]?.hint).toBe("write 89");
    });

    it("a %YAML directive for another version", () => {
      expect(messages("%YAML 1.1\n---\na: yes\n")[0]).toContain("declares %YAML 1.1; descriptors are read as YAML 1.2");
      expect(parse("%YAML 1.2\n---\na: 1\n").problems).toEqual([]);
    });

    it("a byte order mark", () => {
      expect(messages("\uFEFFa: 1\n")).toEqual(["1:1  starts with a byte order mark (U+FEFF)"]);
    });

    it("a NUL character, at its position", () => {
      expect(messages("a: 1\nb: x\u0000y\n")).toEqual(["2:5  contains a NUL byte; a descriptor is a UTF-8 text file"]);
    });

    it("a syntax error with one problem, near the field it breaks", () => {
      const problems = parse("name: x\nservices:\n  web:\n    ports: [1, 2\n").problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]?.pointer).toMatch(/^\/services\/web\/ports/);
    });

    it("tab indentation, saying so", () => {
      const problems = parse("a:\n\tb: 1\n").problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({ line: 2, col: 1, message: "tabs are not allowed as indentation; indent with spaces" });
    });
  });
});

describe("readDescriptor", () => {
  const dir = mkdtempSync(join(tmpdir(), "load-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: string | Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, data);
    return path;
  };

  it("reads and parses a file, naming it by its file name", async () => {
    const path = write("deploy.yaml", "name: shop\nservices: {}\n");
    const parsed = await readDescriptor(path);
    expect(parsed.file).toBe("deploy.yaml");
    expect(parsed.value).toEqual({ name: "shop", services: {} });
  });

  it("uses the name it is given", async () => {
    const parsed = await readDescriptor(write("x.yaml", "a: 1\na: 2\n"), "config/deploy.yaml");
    expect(parsed.problems[0]?.file).toBe("config/deploy.yaml");
  });

  it("reports a missing file", async () => {
    const parsed = await readDescriptor(join(dir, "nope.yaml"));
    expect(parsed.problems.map((p) => p.message)).toEqual(["file not found"]);
  });

  it("reports a folder", async () => {
    mkdirSync(join(dir, "folder.yaml"));
    const parsed = await readDescriptor(join(dir, "folder.yaml"));
    expect(parsed.problems.map((p) => p.message)).toEqual(["is not a regular file"]);
  });

  it("accepts exactly 1 MiB and refuses one byte more, without parsing it", async () => {
    const fill = (size: number) => "a: 1\n#" + "x".repeat(size - 7) + "\n";
    const atLimit = await readDescriptor(write("limit.yaml", fill(MAX_DESCRIPTOR_BYTES)));
    expect(atLimit.problems).toEqual([]);
    const over = await readDescriptor(write("over.yaml", fill(MAX_DESCRIPTOR_BYTES + 1)));
    expect(over.problems).toHaveLength(1);
    expect(over.problems[0]?.message).toBe(`is ${MAX_DESCRIPTOR_BYTES + 1} bytes; a descriptor may be at most ${MAX_DESCRIPTOR_BYTES} bytes (1 MiB)`);
    expect(over.value).toBeUndefined();
  });

  it("refuses a UTF-8 byte order mark", async () => {
    const parsed = await readDescriptor(write("bom.yaml", new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x3a, 0x20, 0x31, 0x0a])));
    expect(parsed.problems[0]?.message).toBe("starts with a byte order mark (U+FEFF)");
  });

  it("refuses UTF-16", async () => {
    const parsed = await readDescriptor(write("utf16.yaml", new Uint8Array([0xff, 0xfe, 0x61, 0x00])));
    expect(parsed.problems[0]?.message).toContain("UTF-16");
  });

  it("refuses invalid UTF-8 at the position of the bad byte", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("a: 1\nbé: "), 0xc3, 0x28, 0x0a]);
    const parsed = await readDescriptor(write("latin.yaml", bytes));
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toMatchObject({ line: 2, col: 5, message: "is not valid UTF-8 (byte 0xC3 at offset 10)" });
  });

  it.each([
    ["an overlong encoding", [0xc0, 0xaf]],
    ["a surrogate", [0xed, 0xa0, 0x80]],
    ["a truncated sequence", [0xe2, 0x82]],
    ["a code point past U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
  ])("refuses %s", async (_name, tail) => {
    const parsed = await readDescriptor(write("bad.yaml", new Uint8Array([0x61, 0x3a, 0x20, ...tail])));
    expect(parsed.problems[0]?.message).toMatch(/^is not valid UTF-8/);
  });

  it("accepts multi-byte UTF-8 text", async () => {
    const parsed = await readDescriptor(write("utf8.yaml", "description: Données — 画像 🚀\n"));
    expect(parsed.problems).toEqual([]);
    expect(parsed.value).toEqual({ description: "Données — 画像 🚀" });
  });
});
