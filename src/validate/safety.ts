// Every string of the descriptor ends up in some generated file: a shell
// script, a unit file, an env file, a comment. A line break there starts a new
// directive, so characters that break lines or hide text are refused
// everywhere (keys included), before the schema runs, with the exact field named.
import { joinPointer } from "../problems.js";

export interface UnsafeString {
  pointer: string;
  /** The problem is the key itself, not the value under it. */
  isKey: boolean;
  message: string;
  hint?: string;
}

// C0 and C1 controls, DEL, line and paragraph separators, the byte order mark
// and the invisible marks that reorder text on screen ("trojan source").
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

const NAMES: Partial<Record<number, string>> = {
  0x00: "NUL",
  0x09: "tab",
  0x0a: "line feed",
  0x0d: "carriage return",
  0x1b: "escape",
  0x7f: "delete",
  0x2028: "line separator",
  0x2029: "paragraph separator",
  0xfeff: "byte order mark",
};

function describeCharacter(code: number): string {
  const hex = "U+" + code.toString(16).toUpperCase().padStart(4, "0");
  const name = NAMES[code];
  if (name !== undefined) return `${hex} ${name}`;
  if (code >= 0x200e) return `${hex}, an invisible text-direction mark`;
  return `${hex}, a control character`;
}

/** The first unsafe character of `s`, described, or undefined when `s` is safe. */
export function findUnsafeCharacter(s: string): string | undefined {
  const match = UNSAFE.exec(s);
  if (!match) return undefined;
  return describeCharacter(match[0].codePointAt(0) ?? 0);
}

function lineBreakHint(s: string): string | undefined {
  // A block scalar (| or >) keeps its final line break; the fix is a chomping indicator.
  if (s.endsWith("\n") && s.indexOf("\n") === s.length - 1) return "a block scalar (| or >) ends with a line break: write |- or >-, or put the value on one line";
  if (s.includes("\n")) return "write the value on one line";
  return undefined;
}

/** Walks the whole value, keys and strings alike. */
export function findUnsafeStrings(value: unknown): UnsafeString[] {
  const found: UnsafeString[] = [];
  // One path, grown and shrunk along the walk and copied only for a finding: a descriptor
  // has tens of thousands of nodes, and almost never a finding.
  const segments: (string | number)[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === "string") {
      const character = findUnsafeCharacter(node);
      if (character === undefined) return;
      const hint = lineBreakHint(node);
      found.push({
        pointer: joinPointer(segments),
        isKey: false,
        message: `contains ${character}; values must be one line without control characters`,
        ...(hint === undefined ? {} : { hint }),
      });
      return;
    }
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        segments.push(index);
        walk(node[index]);
        segments.pop();
      }
      return;
    }
    if (node !== null && typeof node === "object") {
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        segments.push(key);
        const character = findUnsafeCharacter(key);
        if (character !== undefined) {
          found.push({
            pointer: joinPointer(segments),
            isKey: true,
            message: `the key contains ${character}; keys must be one line without control characters`,
          });
        }
        walk(record[key]);
        segments.pop();
      }
    }
  };
  walk(value);
  return found;
}
