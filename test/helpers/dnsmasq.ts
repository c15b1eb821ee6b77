import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { waitFor } from './sockets.js';

/** Where the test DNS server listens: a loopback address linkfwd's listeners never use. */
export const DNS_HOST = '127.0.0.2';

/** Why dnsmasq and dig cannot run here, or `false`. In CI a missing tool fails instead. */
export function missingDnsTools(): string | false {
  const missing = ['dnsmasq', 'dig'].filter(
    (tool) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool]).status !== 0,
  );
  if (missing.length === 0) return false;
  const why = `not installed: ${missing.join(', ')} (apt-get install dnsmasq dnsutils)`;
  if (process.env.CI) throw new Error(`${why}; .ci/run must install them`);
  return why;
}

export interface Dnsmasq {
  port: number;
  child: ChildProcess;
  destroy(): Promise<void>;
}

/**
 * A dnsmasq of its own in the foreground on `DNS_HOST:port` only, no configuration file, no
 * upstream servers, no /etc/hosts: it answers only the records given here.
 */
export async function startDnsmasq(port: number, records: readonly string[]): Promise<Dnsmasq> {
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--no-resolv',
    '--no-hosts',
    `--listen-address=${DNS_HOST}`,
    '--bind-interfaces',
    `--port=${port}`,
    '--edns-packet-max=4096',
    '--log-facility=-',
    ...records,
  ];
  const child = spawn('dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const dnsmasq: Dnsmasq = {
    port,
    child,
    async destroy() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitFor(
      `dnsmasq on ${DNS_HOST}:${port} (output: ${JSON.stringify(output)})`,
      () => /started, version/.test(output) || child.exitCode !== null,
      10_000,
    );
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${output}`);
  } catch (error) {
    await dnsmasq.destroy();
    throw error;
  }
  return dnsmasq;
}

/** A DNS query for `name` (type A), with `id`, recursion desired. */
export function dnsQuery(id: number, name: string): Buffer {
  const labels = name
    .split('.')
    .flatMap((label) => [Buffer.from([label.length]), Buffer.from(label, 'ascii')]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** The id and the IPv4 address of the first A record of a response to {@link dnsQuery}. */
export function dnsAnswer(response: Buffer, query: Buffer): { id: number; address: string } {
  // The answer follows the echoed question; its name is a 2-byte pointer, then type, class,
  // TTL and RDLENGTH (10 bytes), then the 4-byte address.
  const at = query.length + 12;
  return { id: response.readUInt16BE(0), address: [...response.subarray(at, at + 4)].join('.') };
}
