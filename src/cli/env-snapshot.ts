import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';

/**
 * The environment as linkfwd received it, copied before any dependency loads: `debug` deletes
 * an empty `DEBUG` from `process.env` when it is imported, and the app must get it all the same
 * (README: "Signals and exit status"). Import this module first.
 *
 * Read from `/proc/self/environ` where there is one: copying `process.env` reads each variable
 * through getenv(), a scan of the whole environment, so a copy is quadratic (100,000 variables:
 * 17 s). The first of two entries with one name wins, as with getenv().
 */
let snapshotted: { env: NodeJS.ProcessEnv; nonUtf8: string[] } | undefined;

export const receivedEnv: NodeJS.ProcessEnv = snapshot().env;

/**
 * Variables whose name or value is not valid UTF-8. Node passes the app strings, so their bad
 * bytes reach it as U+FFFD (README: "What reaches the app").
 */
export const nonUtf8Variables: readonly string[] = snapshot().nonUtf8;

function snapshot(): { env: NodeJS.ProcessEnv; nonUtf8: string[] } {
  snapshotted ??= read();
  return snapshotted;
}
function read(): { env: NodeJS.ProcessEnv; nonUtf8: string[] } {
  let block: Buffer;
  try {
    block = readFileSync('/proc/self/environ');
  } catch {
    return { env: { ...process.env }, nonUtf8: [] };
  }
  const text = block.toString('utf8');
  const entries = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (!entries.has(name)) entries.set(name, entry.slice(eq + 1));
  }
  // fromEntries defines own properties: a variable named __proto__ stays a variable.
  const env = Object.fromEntries(entries);
  const nonUtf8: string[] = [];
  // One pass over the whole block in the common case; entry by entry only when it has bad bytes.
  if (isUtf8(block)) return { env, nonUtf8 };
  let start = 0;
  while (start < block.length) {
    let end = block.indexOf(0, start);
    if (end === -1) end = block.length;
    const entry = block.subarray(start, end);
    if (!isUtf8(entry)) {
      const eq = entry.indexOf(0x3d);
      nonUtf8.push(entry.subarray(0, eq === -1 ? entry.length : eq).toString('utf8'));
    }
    start = end + 1;
  }
  return { env, nonUtf8 };
}

/**
 * The last `count` words of linkfwd's own command line as bytes (`/proc/self/cmdline`): the
 * app's argv, which ends it. `undefined` where there is no `/proc`.
 */
export function rawCommandLine(count: number): Buffer[] | undefined {
  let block: Buffer;
  try {
    block = readFileSync('/proc/self/cmdline');
  } catch {
    return undefined;
  }
  const words: Buffer[] = [];
  let start = 0;
  while (start < block.length) {
    let end = block.indexOf(0, start);
    if (end === -1) end = block.length;
    words.push(block.subarray(start, end));
    start = end + 1;
  }
  return count === 0 ? [] : words.slice(-count);
}
