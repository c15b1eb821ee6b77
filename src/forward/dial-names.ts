import { lookup as dnsLookup } from 'node:dns';
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import type { Logger } from '../log.js';
import { describeOrigin, type Env, formatEndpoint, type PlannedForward } from '../plan/index.js';

/** Where a pod's service account says which namespace it runs in. */
const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface DialNameOptions {
  /** Warnings: one per forward that keeps its address. */
  logger: Logger;
  /** The environment: `POD_NAMESPACE` names a Kubernetes namespace (the downward API's usual name). */
  env: Env;
  /** Resolves names (default `dns.lookup`); the forwarders should get the same one. */
  lookup?: LookupFunction;
  /** @internal Tests only: the service-account namespace file. */
  namespaceFile?: string;
}

/**
 * `--dial alias`: each link forward dials its link's name instead of the address in the value,
 * so a linked container that restarts with a new IP is reached at it (the forwarder resolves the
 * name anew for each connection). Candidates, first that resolves now wins: Docker, the alias
 * lower-cased, then with `-` for `_`; Kubernetes, `<svc>.<ns>.svc.cluster.local` when the
 * namespace is known, then `<svc>` (the pod's search path). Where none resolves, the forward
 * keeps its address, with one warning naming the variable.
 */
export async function dialByName(
  forwards: readonly PlannedForward[],
  options: DialNameOptions,
): Promise<PlannedForward[]> {
  const namespace = kubernetesNamespace(options);
  return Promise.all(
    forwards.map(async (forward) => {
      if (forward.dialName === undefined) return forward;
      const { name, kind } = forward.dialName;
      const candidates =
        kind === 'kubernetes'
          ? [...(namespace === undefined ? [] : [`${name}.${namespace}.svc.cluster.local`]), name]
          : [...new Set([name, name.replaceAll('_', '-')])];
      for (const host of candidates) {
        if (await resolves(host, options.lookup ?? dnsLookup)) {
          return { ...forward, target: { host, port: forward.target.port } };
        }
      }
      options.logger.warn(
        `${describeOrigin(forward)}: ${candidates.join(' or ')} does not resolve, dialling ${formatEndpoint(forward.target)} (--dial alias)`,
      );
      return forward;
    }),
  );
}

function kubernetesNamespace(options: DialNameOptions): string | undefined {
  const fromEnv = options.env.POD_NAMESPACE?.trim();
  if (fromEnv) return fromEnv;
  try {
    return readFileSync(options.namespaceFile ?? NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function resolves(host: string, lookup: LookupFunction): Promise<boolean> {
  return new Promise((resolve) => {
    lookup(host, { all: true }, (error, addresses) => {
      resolve(error === null && (!Array.isArray(addresses) || addresses.length > 0));
    });
  });
}
