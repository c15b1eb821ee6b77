import { isIPv6 } from './ip.js';
import { type Endpoint, isValidHost, type Protocol, parsePort } from './spec.js';

/** An environment: `process.env` or any record of strings. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A forward found in a link variable (`DB_PORT_5432_TCP=tcp://172.17.0.5:5432`). */
export interface LinkForward {
  /** The alias part of the name, as written (`DB`, `MY_DB`). */
  alias: string;
  /** Listen port: the number in the variable's **name**. */
  port: number;
  /** Target: host and port from the variable's **value**. */
  target: Endpoint;
  /** `tcp` from `_TCP` variables, `udp` from `_UDP` ones. */
  protocol: Protocol;
  /** The variable name. */
  origin: string;
}

/** A link variable that produced no forward, and why. Values are never recorded. */
export interface SkippedVariable {
  origin: string;
  reason: string;
  /**
   * `malformed` (a warning; fatal with `--strict`), `unsupported` (SCTP: a debug line),
   * `conflict`/`duplicate`/`overridden`/`excluded` (set by the planner).
   */
  kind: 'malformed' | 'unsupported' | 'conflict' | 'duplicate' | 'overridden' | 'excluded';
  alias?: string;
}

export interface LinkEnvResult {
  /** Sorted by listen port, then variable name: the order of the environment never matters. */
  forwards: LinkForward[];
  skipped: SkippedVariable[];
}

const LINK_NAME = /^(.+)_PORT_([^_]*)_(TCP|UDP|SCTP)$/;
const URL_VALUE = /^([A-Za-z]+):\/\/(.*)$/;

/**
 * Reads Docker-link and Kubernetes service-link variables from `env`.
 *
 * A forward comes from `<ALIAS>_PORT_<N>_<PROTO>=<proto>://<host>:<port>`: listen on N (from the
 * name), dial host:port (from the value). `_ADDR`/`_PORT`/`_PROTO`/range variables, `<ALIAS>_PORT`
 * and Kubernetes `_SERVICE_*` variables are ignored. `<A>_ENV_<REST>` is Docker's copy of a
 * linked container's own environment when `<A>_NAME` is set, and is ignored silently.
 * `_UDP` variables give UDP forwards; SCTP ones are skipped as unsupported; malformed ones are skipped with a reason
 * that never quotes the value (it may hold a secret).
 */
export function parseLinkEnv(env: Env): LinkEnvResult {
  const forwards: LinkForward[] = [];
  const skipped: SkippedVariable[] = [];
  const linked = linkedAliases(env);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const match = LINK_NAME.exec(name);
    if (match === null) continue;
    const [, alias = '', portText = '', proto = ''] = match;
    if (isDockerEnvCopy(name, linked) || isKubernetesNamedPort(alias, value)) continue;
    const skip = (kind: SkippedVariable['kind'], reason: string) => {
      skipped.push({ origin: name, reason, kind, alias });
    };
    const port = parsePort(portText);
    if (port === undefined) {
      skip('malformed', `bad port ${JSON.stringify(portText)} in the name`);
      continue;
    }
    const target = parseLinkValue(value, proto.toLowerCase());
    if (typeof target === 'string') {
      skip('malformed', target);
      continue;
    }
    if (proto === 'SCTP') {
      skip('unsupported', 'sctp is not supported');
      continue;
    }
    forwards.push({ alias, port, target, origin: name, protocol: proto === 'UDP' ? 'udp' : 'tcp' });
  }
  forwards.sort((a, b) => a.port - b.port || compareNames(a.origin, b.origin));
  skipped.sort((a, b) => compareNames(a.origin, b.origin));
  return { forwards, skipped };
}

/** Code-unit order, independent of locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses `tcp://172.17.0.5:5432`, `tcp://[fd00::1]:80`, `tcp://fd00::1:80` (split at the last
 * colon) or `tcp://db:5432`. Returns the endpoint or the reason it is malformed.
 */
function parseLinkValue(value: string, proto: string): Endpoint | string {
  const url = URL_VALUE.exec(value);
  if (url === null) return 'value is not a <proto>://<host>:<port> URL';
  const [, scheme = '', rest = ''] = url;
  if (scheme.toLowerCase() !== proto) return `protocol in the value does not match ${proto}`;
  const colon = rest.lastIndexOf(':');
  if (colon === -1) return 'no port in the value';
  let host = rest.slice(0, colon);
  const port = parsePort(rest.slice(colon + 1));
  if (port === undefined) return 'bad port in the value';
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) return 'bad IPv6 address in the value';
  } else if (host.includes(':') && !isIPv6(host)) {
    return 'bad host in the value';
  }
  if (!isValidHost(host)) return 'bad host in the value';
  return { host, port };
}

/**
 * Docker copies each linked container's environment as `<A>_ENV_<VAR>` and marks the link with
 * `<A>_NAME=/<parent>/<alias>`. Such a copy can look like a link variable itself
 * (`REDIS_ENV_REDIS_PORT_6379_TCP` from an ambassador) and must not become a forward.
 */
function isDockerEnvCopy(name: string, linked: ReadonlyMap<number, Set<string>>): boolean {
  for (let at = name.indexOf('_ENV_'); at > 0; at = name.indexOf('_ENV_', at + 1)) {
    // Only prefixes as long as some <A>: looking up every prefix of a long name is quadratic.
    if (linked.get(at)?.has(name.slice(0, at)) === true) return true;
  }
  return false;
}

/** The `<A>` of every `<A>_NAME` variable that is set, by length. */
function linkedAliases(env: Env): Map<number, Set<string>> {
  const linked = new Map<number, Set<string>>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.endsWith('_NAME') || name.length <= 5) continue;
    const alias = name.slice(0, -5);
    const set = linked.get(alias.length) ?? new Set<string>();
    linked.set(alias.length, set);
    set.add(alias);
  }
  return linked;
}

/**
 * Kubernetes writes `<SVC>_SERVICE_PORT_<PORTNAME>=<port>` for every named port; a port named
 * `5432-tcp` yields `<SVC>_SERVICE_PORT_5432_TCP=5432`, which has the shape of a link variable
 * but is a bare number.
 */
function isKubernetesNamedPort(alias: string, value: string): boolean {
  return alias.endsWith('_SERVICE') && /^[0-9]+$/.test(value);
}
