import type { Server } from 'node:net';
import { describeSystemError } from '../errors.js';
import { formatEndpoint, type ListenAddress } from '../plan/index.js';

/** Why a forward could not listen. */
export interface ListenFailure {
  reason: string;
  cause: unknown;
}

/** Tries of a shared ephemeral port before giving up (port 0, several addresses). */
const EPHEMERAL_TRIES = 5;

/**
 * What a failed round of binding means: `undefined` to try again (the ephemeral port the OS
 * gave the first address was taken on another one), else the forward's failure. `suffix` names
 * the protocol in the message (`/udp`).
 */
export function failedRound(
  failure: { address: ListenAddress; port: number; error: unknown },
  attempt: number,
  suffix = '',
): ListenFailure | undefined {
  const { address, port, error } = failure;
  const code = (error as NodeJS.ErrnoException).code;
  if (address.port === 0 && code === 'EADDRINUSE' && attempt < EPHEMERAL_TRIES) return undefined;
  const where = `${formatEndpoint({ host: address.host, port })}${suffix}`;
  return { reason: `cannot listen on ${where}: ${describeListenError(error, port)}`, cause: error };
}

/** Listens; with `reusePort` (forwarding threads) every thread binds the same port (Node 22.12+). */
export function listenOn(
  server: Server,
  host: string,
  port: number,
  ipv6Only: boolean,
  reusePort = false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const options = reusePort ? { host, port, ipv6Only, reusePort } : { host, port, ipv6Only };
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
/** The host has no IPv6 (or no such address) and the address may be left out. */
export function isNoIPv6(address: ListenAddress, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return address.optional === true && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT');
}

/** The error, and what to do about it where that is clear. */
export function describeListenError(error: unknown, port: number): string {
  const why = describeSystemError(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' && port < 1024) {
    return `${why}: ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port of 1024 or more`;
  }
  return why;
}
