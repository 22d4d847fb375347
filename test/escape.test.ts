// Escaping per output language, checked against the languages' own parsers where
// this machine has them (bash for shell, dotenv for env files, JSON, Markdown via prettier).
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { parse as parseDotenv } from "dotenv";
import { describe, expect, it } from "vitest";
import { format } from "prettier";
import {
  escapeComposeValue,
  escapeMarkdownCell,
  escapeMarkdownText,
  escapeSystemdValue,
  isDotenvSafe,
  markdownCode,
  quoteDockerfileValue,
  quoteDotenv,
  quoteShell,
  quoteSystemdArg,
  toJson,
} from "../src/render/escape.js";
import { formatTable } from "../src/render/markdown.js";

const printable = fc.string({ unit: fc.constantFrom(..."abcXYZ019 $'\"`\\#%;|&()<>*?!~{}[]=:,./-_@+é漢🙂"), maxLength: 24 });

function echoThroughBash(words: string[]): string[] {
  const script = `for a in ${words.join(" ")}; do printf '%s\\0' "$a"; done`;
  const out = execFileSync("bash", ["-c", script], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

describe("quoteShell", () => {
  it("leaves plain words bare and quotes the rest", () => {
    expect(quoteShell("/opt/app/venv")).toBe("/opt/app/venv");
    expect(quoteShell("a b")).toBe("'a b'");
    expect(quoteShell("")).toBe("''");
    expect(quoteShell("it's")).toBe("'it'\\''s'");
  });

  it("round-trips any printable value through bash as one word", () => {
    const samples = fc.sample(printable, 200);
    expect(echoThroughBash(samples.map(quoteShell))).toEqual(samples);
  });

  it("refuses control characters", () => {
    expect(() => quoteShell("a\nb")).toThrow(/control character/);
    expect(() => quoteShell("a\u0000b")).toThrow(/control character/);
  });
});

describe("systemd", () => {
  it("doubles % in plain settings", () => {
    expect(escapeSystemdValue("100% done")).toBe("100%% done");
  });

  it("quotes arguments that systemd would split, expand or treat as specifiers", () => {
    expect(quoteSystemdArg("--port")).toBe("--port");
    expect(quoteSystemdArg("a b")).toBe('"a b"');
    expect(quoteSystemdArg("$HOME")).toBe('"$$HOME"');
    expect(quoteSystemdArg("%h")).toBe('"%%h"');
    expect(quoteSystemdArg(";")).toBe('";"');
    expect(quoteSystemdArg('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
    expect(() => quoteSystemdArg("x\ny")).toThrow(/control character/);
  });
});

describe("dotenv", () => {
  it("writes KEY='value' that dotenv reads back unchanged", () => {
    fc.assert(
      fc.property(printable.filter(isDotenvSafe), (value) => {
        expect(parseDotenv(`KEY=${quoteDotenv(value)}\n`).KEY).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses what has no portable spelling", () => {
    expect(isDotenvSafe("it's")).toBe(false);
    expect(isDotenvSafe("a\\b")).toBe(false);
    expect(() => quoteDotenv("it's")).toThrow(/cannot hold/);
  });
});

describe("Dockerfile and JSON", () => {
  it("builds exec form as JSON", () => {
    expect(toJson(["python", "-m", "app"])).toBe('["python","-m","app"]');
  });

  it("escapes ENV values so $ and quotes stay literal", () => {
    expect(quoteDockerfileValue('a "$HOME" \\')).toBe('"a \\"\\$HOME\\" \\\\"');
  });
});

describe("compose", () => {
  it("escapes every $ so compose does not interpolate", () => {
    expect(escapeComposeValue("$(cat /run/secrets/x) ${A}")).toBe("$$(cat /run/secrets/x) $${A}");
  });
});

describe("markdown", () => {
  it("fences inline code longer than any backtick run inside", () => {
    expect(markdownCode("a`b")).toBe("``a`b``");
    expect(markdownCode("`x`")).toBe("`` `x` ``");
  });

  it("writes table cells prettier leaves alone: no emphasis from *, no spaces Markdown would drop", async () => {
    // Found end to end: an env value `!{{x}};]ß- ` (trailing space) or `*x*` in DEPLOY.md's tables.
    expect(escapeMarkdownCell("!{{x}};]ß- ")).toBe("!{{x}};]ß-");
    expect(escapeMarkdownCell("*x*  a|b")).toBe("\\*x\\* a\\|b");
    expect(escapeMarkdownCell("variable `A_B  *` from x")).toBe("variable `A_B  *` from x");
    await fc.assert(
      fc.asyncProperty(printable, async (value) => {
        const table = formatTable(["Name", "Value"], [["x", value]]) + "\n";
        expect(await format(table, { parser: "markdown" })).toBe(table);
      }),
      { numRuns: 200 },
    );
  });

  it("writes free text as prose that prettier leaves alone and that opens no block or emphasis", async () => {
    // Found end to end: a deployment description "$:  #?|" in DEPLOY.md's opening paragraph.
    expect(escapeMarkdownText("$:  #?|")).toBe("\\$: \\#?\\|");
    // Found by CI: "$$" alone opened a math block in the list item.
    expect(escapeMarkdownText("$$")).toBe("\\$\\$");
    expect(escapeMarkdownText("- *x* [a](b)")).toBe("\\- \\*x\\* \\[a\\](b)");
    expect(escapeMarkdownText("1. first")).toBe("1\\. first");
    await fc.assert(
      fc.asyncProperty(printable.filter((v) => v.trim() !== ""), async (value) => {
        const text = `# Title\n\n${escapeMarkdownText(value)}\n\n- \`a\`: ${escapeMarkdownText(value)}\n`;
        expect(await format(text, { parser: "markdown" })).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});
