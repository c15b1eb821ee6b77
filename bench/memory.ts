/**
 * linkfwd's resident memory, idle and holding N idle connections (each proven end to end by one
 * echo), from a linkfwd of its own so the other cases leave no garbage behind.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openFds, ownLimit, rss } from '../test/helpers/proc.js';
import type { ClientWorker } from './client-worker.js';
import { startLinkfwd } from './modes.js';
import type { Cleanup, Endpoint } from './upstreams.js';

export interface MemoryResult {
  idleMiB: number;
  loadedMiB: number;
  held: number;
  requested: number;
  perConnectionKiB: number;
  notes: string[];
}

/**
 * Each held connection costs linkfwd two descriptors (client leg, upstream leg); the request is
 * capped so it fits under the limit its children inherit, and the cap is reported.
 */
export function connectionsThatFit(requested: number): { count: number; note?: string } {
  const limit = ownLimit('NOFILE');
  const fit = Math.floor((limit - 100) / 2);
  if (fit >= requested) return { count: requested };
  return {
    count: fit,
    note: `RLIMIT_NOFILE is ${limit} and cannot be raised here (no CAP_SYS_RESOURCE): ${fit} connections, not ${requested}`,
  };
}

/** Median of a few RSS samples, a moment apart, after the process settles. */
async function settledRss(pid: number): Promise<number> {
  await sleep(500);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rss(pid) / 1024);
    await sleep(100);
  }
  return samples.sort((a, b) => a - b)[2]!;
}

export async function measureMemory(
  echo: Endpoint,
  client: ClientWorker,
  requested: number,
  onStop: (c: Cleanup) => void,
): Promise<MemoryResult> {
  const { count, note } = connectionsThatFit(requested);
  const notes = note !== undefined ? [note] : [];
  const graceMs = 5000;
  const mode = await startLinkfwd({ echo }, onStop, { name: 'linkfwd-memory', graceMs });
  const pid = mode.process!.child.pid!;
  const to = mode.endpoints.echo!;
  try {
    const idle = await settledRss(pid);
    const hold = await client.run({ kind: 'hold', ...to, count, batch: 256 }, 180_000);
    const loaded = await settledRss(pid);
    const held = hold.value;
    if (held === 0) throw new Error(`no connection could be held (${hold.extra?.errors} errors)`);
    return {
      idleMiB: idle / 1024,
      loadedMiB: loaded / 1024,
      held,
      requested,
      perConnectionKiB: (loaded - idle) / held,
      notes,
    };
  } finally {
    await client.run({ kind: 'release' }, 30_000).catch(() => undefined);
    // Let linkfwd finish tearing the released connections down before SIGTERM: a SIGTERM in
    // the middle of that teardown has been seen to leave it spinning at exit (reported apart).
    await descriptorsBelow(pid, 100, 5000);
    if (await mode.process!.stop())
      notes.push(`linkfwd did not exit within ${graceMs} ms of SIGTERM: killed`);
  }
}

async function descriptorsBelow(pid: number, limit: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (openFds(pid) < limit) return;
    } catch {
      return;
    }
    await sleep(50);
  }
}
