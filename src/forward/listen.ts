import type { ListenAddress } from '../plan/index.js';

/** Why a forward could not listen. */
export interface ListenFailure {
  reason: string;
  cause: unknown;
}

/** Tries of a shared ephemeral port before giving up (port 0, several addresses). */
export const EPHEMERAL_TRIES = 5;

/** The host has no IPv6 (or no such address) and the address may be left out. */
export function isNoIPv6(address: ListenAddress, error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return address.optional === true && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT');
}
