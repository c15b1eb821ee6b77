import { LinkfwdError } from '../errors.js';
import { type Endpoint, isIPLiteral } from '../plan/index.js';

/** Splits `a, b c` and repeated flags (`--only a,b --only c`) into `['a', 'b', 'c']`. */
export function splitList(values: readonly string[] | string | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = (typeof values === 'string' ? [values] : values).flatMap((v) => v.split(/[\s,]+/));
  return list.filter((item) => item !== '');
}

/** `1`/`true`/`yes`/`on` and `0`/`false`/`no`/`off` (any case); empty means unset. */
export function parseSwitch(text: string, name: string): boolean | undefined {
  if (text.trim() === '') return undefined;
  const value = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw usage(`${name}: expected 1 or 0, got ${JSON.stringify(text)}`, name);
}

/** A positive whole number (`--max-connections`). */
export function parseCount(text: string, name: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text.trim())) {
    throw usage(`${name}: expected a positive whole number, got ${JSON.stringify(text)}`, name);
  }
  return Number(text.trim());
}

/** File permissions in octal, `0660` or `660`, at most `0777` (`--unix-mode`). */
export function parseFileMode(text: string, name: string): number {
  if (!/^0?[0-7]{3}$/.test(text.trim())) {
    throw usage(`${name}: expected an octal mode such as 0660, got ${JSON.stringify(text)}`, name);
  }
  return Number.parseInt(text.trim(), 8);
}

/** The most `--threads` takes: more threads than that only cost memory. */
const MAX_THREADS = 64;

/** `--threads`: `auto` or a count from 1 to 64. */
export function parseThreads(text: string, name: string): number | 'auto' {
  const value = text.trim().toLowerCase();
  if (value === 'auto') return 'auto';
  if (/^[1-9][0-9]?$/.test(value) && Number(value) <= MAX_THREADS) return Number(value);
  throw usage(
    `${name}: expected auto or a number of threads from 1 to ${MAX_THREADS}, got ${JSON.stringify(text)}`,
    name,
  );
}

/** An IP literal to listen on; brackets around IPv6 are allowed. Host names are refused. */
export function parseBindAddress(text: string, name: string): string {
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!isIPLiteral(host)) {
    throw usage(
      `${name}: ${JSON.stringify(text)} is not an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0)`,
      name,
    );
  }
  return host;
}

/**
 * `--status`: `PORT` (on 127.0.0.1), `ADDR:PORT` or `[V6]:PORT`; the address an IP literal.
 * Port 0 asks the OS for a free one.
 */
export function parseStatusAddress(text: string, name: string): Endpoint {
  const match = /^(?:\[([^\]]*)\]:|([^:]*):)?([0-9]{1,5})$/.exec(text.trim());
  const host = match?.[1] ?? match?.[2] ?? '127.0.0.1';
  const port = Number(match?.[3]);
  if (match === null || !isIPLiteral(host) || port > 65535) {
    throw usage(
      `${name}: expected [ADDR:]PORT with an IP address (e.g. 127.0.0.1:9400), got ${JSON.stringify(text)}`,
      name,
    );
  }
  return { host, port };
}

/** `--dial`: `address` (the IP in a link variable's value) or `alias` (the link's name). */
export function parseDialMode(text: string, name: string): 'address' | 'alias' {
  const value = text.trim().toLowerCase();
  if (value === 'address' || value === 'alias') return value;
  throw usage(`${name}: expected address or alias, got ${JSON.stringify(text)}`, name);
}

function usage(message: string, origin: string): LinkfwdError {
  return new LinkfwdError('ERR_LINKFWD_USAGE', message, { origin });
}
