import { LinkfwdError } from '../errors.js';
import { isIPLiteral, isIPv6 } from './ip.js';

/** A TCP endpoint. `host` never carries brackets: `::1`, not `[::1]`. */
export interface Endpoint {
  host: string;
  port: number;
}

/** The transport a forward carries: TCP streams or UDP datagrams. */
export type Protocol = 'tcp' | 'udp';

/** Where a forward came from: `-f`, `LINKFWD_FORWARD`, or a link variable. */
export type ForwardSource = 'flag' | 'env' | 'link';

/**
 * One requested forward, before planning. A spec is data that remembers its origin so that
 * every message and `--print` line can name it.
 */
export interface ForwardSpec {
  /** Listen address; `undefined` means "the default bind addresses" (`--bind`). */
  bind: string | undefined;
  /** Listen port; 0 (an ephemeral port) is possible only through the library API. 0 with `unix`. */
  port: number;
  target: Endpoint;
  /** `udp` for `.../udp` specs; absent or `tcp`: TCP. */
  protocol?: Protocol;
  /** A Unix-socket listener's absolute path (`unix:/path:HOST:PORT`); it then has no port. */
  unix?: string;
  /** The spec text as given (`5432:db:5432`) or the variable name (`DB_PORT_5432_TCP`). */
  origin: string;
  source: ForwardSource;
}

export interface ParseSpecOptions {
  source?: ForwardSource;
  /** Accept listen port 0 (library use: let the OS choose). */
  allowPortZero?: boolean;
}

const EXPECTED =
  'expected [BIND_ADDR:]LOCAL_PORT:TARGET_HOST:TARGET_PORT[/udp] or unix:/PATH:TARGET_HOST:TARGET_PORT, e.g. 5432:db:5432';
const UNIX_PREFIX = 'unix:';
/** `sun_path` holds 108 bytes on Linux, the terminating NUL included. */
const UNIX_PATH_MAX = 107;
const PORT = /^[0-9]{1,5}$/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/**
 * Parses a port written in decimal: `1`–`65535` (or `0` when allowed). Leading signs, hex,
 * exponents and leading zeros are rejected; returns `undefined` for anything else.
 */
export function parsePort(text: string, allowZero = false): number | undefined {
  if (!PORT.test(text) || (text.length > 1 && text.startsWith('0'))) return undefined;
  const port = Number(text);
  if (port > 65535 || (port === 0 && !allowZero)) return undefined;
  return port;
}

/** True for an IPv4 or IPv6 literal or a syntactically valid host name. */
export function isValidHost(host: string): boolean {
  return isIPLiteral(host) || HOSTNAME.test(host);
}

/** `[::1]:80` for IPv6, `host:80` otherwise. */
export function formatEndpoint(endpoint: Endpoint): string {
  return `${formatHost(endpoint.host)}:${endpoint.port}`;
}

/** Brackets an IPv6 literal so that it can be followed by `:port`. */
function formatHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/**
 * Splits `a:[::1]:b` into `['a', '[::1]', 'b']`: colons inside brackets do not separate.
 * Returns `undefined` for unbalanced brackets or text glued to a bracket (`x[::1]`).
 */
function splitColons(text: string): string[] | undefined {
  const tokens: string[] = [];
  let i = 0;
  for (;;) {
    let token: string;
    if (text[i] === '[') {
      const close = text.indexOf(']', i);
      if (close === -1) return undefined;
      token = text.slice(i, close + 1);
      i = close + 1;
      if (i < text.length && text[i] !== ':') return undefined;
    } else {
      const colon = text.indexOf(':', i);
      token = colon === -1 ? text.slice(i) : text.slice(i, colon);
      if (token.includes('[') || token.includes(']')) return undefined;
      i = colon === -1 ? text.length : colon;
    }
    tokens.push(token);
    if (i >= text.length) return tokens;
    i += 1; // the colon
  }
}

/** Removes the brackets of `[v6]`; `undefined` when the bracketed text is not an IPv6 literal. */
function unbracket(token: string): string | undefined {
  if (!token.startsWith('[')) return token;
  const inner = token.slice(1, -1);
  return isIPv6(inner) ? inner : undefined;
}

/**
 * Parses an explicit forward spec in ssh `-L` form: `[BIND_ADDR:]LOCAL_PORT:TARGET_HOST:TARGET_PORT`.
 * IPv6 literals go in brackets (`[::1]:8080:[fd00::5]:80`); the bind address must be an IP
 * literal; the target may be an IP or a host name (resolved per connection later).
 *
 * @throws {LinkfwdError} ERR_LINKFWD_BAD_SPEC naming the token and the expected form.
 */
export function parseForwardSpec(text: string, options: ParseSpecOptions = {}): ForwardSpec {
  const fail = (why: string): never => {
    throw new LinkfwdError(
      'ERR_LINKFWD_BAD_SPEC',
      `invalid forward ${JSON.stringify(text)}: ${why} (${EXPECTED})`,
      { origin: text },
    );
  };
  if (text.startsWith(UNIX_PREFIX)) return parseUnixSpec(text, options, fail);
  let body = text;
  let protocol: Protocol = 'tcp';
  const slash = text.lastIndexOf('/');
  if (slash !== -1) {
    const suffix = text.slice(slash + 1);
    if (suffix !== 'tcp' && suffix !== 'udp') {
      return fail(`unsupported protocol ${JSON.stringify(suffix)} (tcp or udp)`);
    }
    protocol = suffix;
    body = text.slice(0, slash);
  }
  const tokens = splitColons(body);
  if (tokens === undefined) return fail('unbalanced brackets');
  if (tokens.length !== 3 && tokens.length !== 4) {
    return fail(
      tokens.length > 4 ? 'too many colons (put IPv6 addresses in brackets)' : 'too few fields',
    );
  }
  const [bindToken, portToken, hostToken, targetPortToken] =
    tokens.length === 4 ? tokens : [undefined, ...tokens];

  let bind: string | undefined;
  if (bindToken !== undefined) {
    bind = unbracket(bindToken);
    if (bind === undefined || bind === '')
      return fail(`bad bind address ${JSON.stringify(bindToken)}`);
    if (isIPv6(bind) && !bindToken.startsWith('[')) return fail('put IPv6 addresses in brackets');
    if (!isIPLiteral(bind))
      return fail(`bind address ${JSON.stringify(bindToken)} is not an IP address`);
  }
  const port = parsePort(portToken ?? '', options.allowPortZero === true);
  if (port === undefined) return fail(`bad local port ${JSON.stringify(portToken)}`);
  const target = parseTarget(hostToken, targetPortToken, fail);
  const spec: ForwardSpec = { bind, port, target, origin: text, source: options.source ?? 'flag' };
  if (protocol === 'udp') spec.protocol = 'udp';
  return spec;
}

/** `HOST` and `PORT` of a spec's target; IPv6 in brackets. */
function parseTarget(
  hostToken: string | undefined,
  portToken: string | undefined,
  fail: (why: string) => never,
): Endpoint {
  const host = unbracket(hostToken ?? '');
  if (host === undefined || !isValidHost(host) || (isIPv6(host) && !hostToken?.startsWith('['))) {
    return fail(`bad target host ${JSON.stringify(hostToken)}`);
  }
  const port = parsePort(portToken ?? '');
  if (port === undefined) return fail(`bad target port ${JSON.stringify(portToken)}`);
  return { host, port };
}

/**
 * `unix:/abs/path:HOST:PORT[/tcp]`: the target is the last two fields, so the path may hold
 * colons. Whether the path is free, stale or a directory is checked when it is bound.
 */
function parseUnixSpec(
  text: string,
  options: ParseSpecOptions,
  fail: (why: string) => never,
): ForwardSpec {
  let body = text.slice(UNIX_PREFIX.length);
  if (body.endsWith('/udp')) return fail('a Unix-socket listener carries TCP streams only');
  if (body.endsWith('/tcp')) body = body.slice(0, -'/tcp'.length);
  const portColon = body.lastIndexOf(':');
  const hostColon = body.endsWith(']', portColon)
    ? body.lastIndexOf(':', body.lastIndexOf('[', portColon) - 1)
    : body.lastIndexOf(':', portColon - 1);
  if (portColon === -1 || hostColon <= 0) return fail('too few fields');
  const path = body.slice(0, hostColon);
  if (!path.startsWith('/'))
    return fail(`Unix socket path ${JSON.stringify(path)} is not absolute`);
  if (path.endsWith('/')) return fail(`Unix socket path ${JSON.stringify(path)} names a directory`);
  if (path.includes('\0')) return fail('Unix socket path holds a NUL byte');
  if (Buffer.byteLength(path) > UNIX_PATH_MAX) {
    return fail(`Unix socket path is longer than ${UNIX_PATH_MAX} bytes`);
  }
  const target = parseTarget(body.slice(hostColon + 1, portColon), body.slice(portColon + 1), fail);
  return {
    bind: undefined,
    port: 0,
    target,
    origin: text,
    source: options.source ?? 'flag',
    unix: path,
  };
}

/**
 * The canonical text of a spec: `[bind:]port:host:port[/udp]` or `unix:/path:host:port`, IPv6
 * bracketed.
 */
export function formatForwardSpec(
  spec: Pick<ForwardSpec, 'bind' | 'port' | 'target' | 'protocol' | 'unix'>,
): string {
  if (spec.unix !== undefined) return `${UNIX_PREFIX}${spec.unix}:${formatEndpoint(spec.target)}`;
  const bind = spec.bind === undefined ? '' : `${formatHost(spec.bind)}:`;
  const suffix = spec.protocol === 'udp' ? '/udp' : '';
  return `${bind}${spec.port}:${formatEndpoint(spec.target)}${suffix}`;
}
