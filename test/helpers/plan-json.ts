/**
 * What `--print --json` and `planToJson` write, built for expectations (README: "`--print` and
 * `--print --json`"). Plain data: test/helpers imports nothing from src/.
 */

interface ForwardJson {
  listen: { host: string; port: number }[];
  target: { host: string; port: number };
  protocol: 'tcp' | 'udp';
  origin: string;
  explicit: boolean;
}

/** The default listen addresses of a forward on `port`: `127.0.0.1` and `::1`. */
export function loopbackListen(port: number): { host: string; port: number }[] {
  return [
    { host: '127.0.0.1', port },
    { host: '::1', port },
  ];
}

/**
 * A forward on the default listen addresses, as JSON: `target` is `host:port` (a host without
 * brackets, split at the last colon), `origin` the spec or the variable name.
 */
export function loopbackForwardJson(
  port: number,
  target: string,
  origin: string,
  { explicit = true, protocol = 'tcp' }: { explicit?: boolean; protocol?: 'tcp' | 'udp' } = {},
): ForwardJson {
  const colon = target.lastIndexOf(':');
  return {
    listen: loopbackListen(port),
    target: { host: target.slice(0, colon), port: Number(target.slice(colon + 1)) },
    protocol,
    origin,
    explicit,
  };
}
