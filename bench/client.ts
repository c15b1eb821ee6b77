/**
 * The load generator, a separate process (forked with IPC by `bench/client-worker.ts`) so that
 * the client never shares an event loop with the forwarder under test. The same code measures
 * every mode; only the address changes.
 */
import net from 'node:net';
import { udpNewPeers, udpPaced, udpRate } from './udp-client.js';

export type ClientJob =
  | { kind: 'bulk'; host: string; port: number; streams: number; durationMs: number }
  | { kind: 'connrate'; host: string; port: number; concurrency: number; durationMs: number }
  | { kind: 'pingpong'; host: string; port: number; durationMs: number; maxIterations: number }
  | { kind: 'hold'; host: string; port: number; count: number; batch: number }
  | { kind: 'udp-rate'; host: string; port: number; clients: number; durationMs: number }
  | { kind: 'udp-newpeer'; host: string; port: number; inFlight: number; durationMs: number }
  | {
      kind: 'udp-paced';
      host: string;
      port: number;
      rate: number;
      size: number;
      durationMs: number;
    }
  | { kind: 'release' };

export interface ClientResult {
  value: number;
  extra?: Record<string, number>;
  /** The first error, when some connections failed. */
  detail?: string;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const ONE = Buffer.from('x');
const CONNECT_TIMEOUT_MS = 5000;

function connect(host: string, port: number, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true, allowHalfOpen });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('connect timeout')));
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Writes for `durationMs`, half-closes, and waits for the sink's byte count. */
function bulkStream(socket: net.Socket, deadline: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const reply: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => reply.push(chunk));
    socket.once('end', () => {
      const all = Buffer.concat(reply);
      if (all.length !== 8) reject(new Error(`sink replied ${all.length} bytes`));
      else resolve(Number(all.readBigUInt64BE()));
      socket.destroy();
    });
    socket.once('error', reject);
    const pump = () => {
      // A loopback socket can take writes synchronously for a long time: yield now and then so
      // the deadline is seen.
      for (let i = 0; i < 64; i++) {
        if (Date.now() >= deadline) {
          socket.end();
          return;
        }
        if (!socket.write(CHUNK)) {
          socket.once('drain', pump);
          return;
        }
      }
      setImmediate(pump);
    };
    pump();
  });
}

async function bulk(job: Extract<ClientJob, { kind: 'bulk' }>): Promise<ClientResult> {
  const sockets = await Promise.all(
    Array.from({ length: job.streams }, () => connect(job.host, job.port, true)),
  );
  const started = performance.now();
  const counts = await Promise.all(sockets.map((s) => bulkStream(s, Date.now() + job.durationMs)));
  const seconds = (performance.now() - started) / 1000;
  const bytes = counts.reduce((a, b) => a + b, 0);
  return { value: (bytes * 8) / seconds / 1e9, extra: { bytes } };
}

/** connect → 1 byte out → 1 byte back → end → close. */
function echoOnce(host: string, port: number, inFlight: Set<net.Socket>): Promise<void> {
  return new Promise((resolve, reject) => {
    let echoed = false;
    const socket = net.connect({ host, port, noDelay: true });
    inFlight.add(socket);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(new Error('timeout')));
    socket.once('connect', () => socket.write(ONE));
    socket.once('data', () => {
      echoed = true;
      socket.end();
    });
    socket.once('error', reject);
    socket.once('close', () => {
      inFlight.delete(socket);
      if (echoed) resolve();
      else reject(new Error('closed before the echo'));
    });
  });
}

async function connrate(job: Extract<ClientJob, { kind: 'connrate' }>): Promise<ClientResult> {
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stopped = false;
  const inFlight = new Set<net.Socket>();
  const loop = async () => {
    while (!stopped && errors < 100) {
      try {
        await echoOnce(job.host, job.port, inFlight);
        if (!stopped) done++;
      } catch (error) {
        if (stopped) continue;
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  // A connection whose SYN was dropped (a full listen backlog) waits 1 s, 3 s, … to retry:
  // at the deadline such stragglers are abandoned, not waited for, and do not count.
  const timer = setTimeout(() => {
    stopped = true;
    for (const socket of inFlight) socket.destroy();
  }, job.durationMs);
  await Promise.all(Array.from({ length: job.concurrency }, loop));
  clearTimeout(timer);
  const seconds = job.durationMs / 1000;
  if (done === 0) throw new Error(`no connection completed (${errors} errors)`);
  return {
    value: done / seconds,
    extra: { connections: done, errors },
    ...(firstError !== undefined && { detail: firstError }),
  };
}

async function pingpong(job: Extract<ClientJob, { kind: 'pingpong' }>): Promise<ClientResult> {
  const socket = await connect(job.host, job.port);
  const warmup = 200;
  const samples = new Float64Array(job.maxIterations);
  return new Promise((resolve, reject) => {
    let n = -warmup;
    let sent = 0n;
    const deadline = Date.now() + job.durationMs;
    socket.once('error', reject);
    socket.on('data', () => {
      if (n >= 0) samples[n] = Number(process.hrtime.bigint() - sent) / 1000;
      n++;
      if (n >= job.maxIterations || (n > 0 && Date.now() >= deadline)) {
        socket.destroy();
        const sorted = samples.subarray(0, n).sort();
        const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))] ?? Number.NaN;
        resolve({ value: at(0.5), extra: { p50: at(0.5), p99: at(0.99), iterations: n } });
        return;
      }
      sent = process.hrtime.bigint();
      socket.write(ONE);
    });
    sent = process.hrtime.bigint();
    socket.write(ONE);
  });
}

const held: net.Socket[] = [];

/** Opens `count` connections (`batch` at a time), each proven end to end by one echo. */
async function hold(job: Extract<ClientJob, { kind: 'hold' }>): Promise<ClientResult> {
  let errors = 0;
  let next = 0;
  const one = async () => {
    while (next < job.count) {
      next++;
      try {
        const socket = await connect(job.host, job.port);
        await new Promise<void>((resolve, reject) => {
          socket.once('data', () => resolve());
          socket.once('error', reject);
          socket.write(ONE);
        });
        socket.on('error', () => {});
        held.push(socket);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: job.batch }, one));
  return { value: held.length, extra: { errors } };
}

function release(): ClientResult {
  const n = held.length;
  for (const socket of held.splice(0)) socket.destroy();
  return { value: n };
}

async function udp(job: Extract<ClientJob, { kind: `udp-${string}` }>): Promise<ClientResult> {
  const { host, port, durationMs: ms } = job;
  switch (job.kind) {
    case 'udp-rate': {
      const { rate, retries } = await udpRate(host, port, ms, job.clients);
      return { value: rate, extra: { retries } };
    }
    case 'udp-newpeer': {
      const { rate, lost } = await udpNewPeers(host, port, ms, job.inFlight);
      return { value: rate, extra: { lost } };
    }
    case 'udp-paced': {
      const { lossPct, sent } = await udpPaced(host, port, ms, job.rate, job.size);
      return { value: lossPct, extra: { sent } };
    }
  }
}

export function runJob(job: ClientJob): Promise<ClientResult> {
  switch (job.kind) {
    case 'udp-rate':
    case 'udp-newpeer':
    case 'udp-paced':
      return udp(job);
    case 'bulk':
      return bulk(job);
    case 'connrate':
      return connrate(job);
    case 'pingpong':
      return pingpong(job);
    case 'hold':
      return hold(job);
    case 'release':
      return Promise.resolve(release());
  }
}

if (process.send !== undefined) {
  process.on('message', (message: { id: number; job: ClientJob }) => {
    runJob(message.job).then(
      (result) => process.send?.({ id: message.id, ok: true, result }),
      (error: Error) => process.send?.({ id: message.id, ok: false, error: String(error.message) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
