// Markdown tables aligned exactly as prettier aligns them, so DEPLOY.md is
// prettier-clean as generated (a test runs prettier over it).
import { escapeMarkdownCell } from "./escape.js";

/** Display width as prettier measures it: wide East Asian characters count twice. */
function displayWidth(text: string): number {
  // Below U+0300 every character is one column: most cells are such text.
  if (!/[^\u0000-\u02ff]/u.test(text)) return text.length;
  let width = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x300 && code <= 0x36f) continue; // combining marks
    width += code >= 0x1100 && /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]|[\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u.test(ch) ? 2 : 1;
  }
  return width;
}

/**
 * Cells are raw text; they are escaped here. Pass `code: true` columns to wrap values
 * in backticks (names, paths, commands).
 */
export function formatTable(headers: string[], rows: string[][], options: { code?: number[] } = {}): string {
  const codeColumns = new Set(options.code ?? []);
  const cell = (value: string, column: number): string => {
    if (value === "") return "";
    if (codeColumns.has(column) && !value.includes("`")) return `\`${value.replace(/\|/g, "\\|")}\``;
    return escapeMarkdownCell(value);
  };
  const head = headers.map((h) => escapeMarkdownCell(h));
  const body = rows.map((row) => headers.map((_, i) => cell(row[i] ?? "", i)));
  // Each cell's width is measured once: a table may have thousands of rows.
  const measure = (cells: string[]): number[] => cells.map(displayWidth);
  const headWidths = measure(head);
  const bodyWidths = body.map(measure);
  const widths = headWidths.map((w, i) => bodyWidths.reduce((max, row) => Math.max(max, row[i] ?? 0), Math.max(3, w)));
  const line = (cells: string[], cellWidths: number[]): string =>
    `| ${cells.map((text, i) => text + " ".repeat((widths[i] ?? 3) - (cellWidths[i] ?? 0))).join(" | ")} |`;
  const lines = [line(head, headWidths), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`];
  for (let r = 0; r < body.length; r++) lines.push(line(body[r]!, bodyWidths[r]!));
  return lines.join("\n");
}
