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
export const receivedEnv: NodeJS.ProcessEnv = snapshot();

function snapshot(): NodeJS.ProcessEnv {
  let block: string;
  try {
    block = readFileSync('/proc/self/environ', 'utf8');
  } catch {
    return { ...process.env };
  }
  const entries = new Map<string, string>();
  for (const entry of block.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (!entries.has(name)) entries.set(name, entry.slice(eq + 1));
  }
  // fromEntries defines own properties: a variable named __proto__ stays a variable.
  return Object.fromEntries(entries);
}
