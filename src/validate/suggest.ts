import { quote } from "../problems.js";

// "Did you mean" for misspelt names: optimal string alignment distance, so a
// swapped pair of letters (prots → ports) counts as one edit.

export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest candidate when it is close enough to be a typo (case ignored), else undefined. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance || (distance === best.distance && candidate < best.name))) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

/** A hint for a name not found among `candidates`: the likely typo, else the list. */
export function suggestName(name: string, candidates: readonly string[], noun: string): string {
  const close = closestName(name, candidates);
  if (close !== undefined) return `did you mean ${quote(close)}?`;
  if (candidates.length === 0) return `no ${noun} is declared`;
  const shown = candidates.slice(0, 12).map((c) => quote(c)).join(", ");
  return `declared ${noun}s: ${shown}${candidates.length > 12 ? ", …" : ""}`;
}
