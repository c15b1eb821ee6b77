/**
 * Stands in for `assert` in the bundled CLI (scripts/bundle.ts): yargs imports two functions
 * from it for internal invariants, and loading `node:assert` (with its colour detection, which
 * opens stderr) costs a few ms of every start.
 */
export function strictEqual(actual: unknown, expected: unknown, message?: string): void {
  if (actual !== expected) throw new Error(message ?? `${String(actual)} !== ${String(expected)}`);
}

export function notStrictEqual(actual: unknown, expected: unknown, message?: string): void {
  if (actual === expected) throw new Error(message ?? `${String(actual)} === ${String(expected)}`);
}
