import { isIPv6 } from 'node:net';

/** One `docker run` command line, as the examples write them. */
export interface DockerRun {
  name: string | undefined;
  /** `-e K=V` entries, in order. */
  env: string[];
  /** `--link name:alias` entries. */
  links: string[];
  /** `--expose` entries (`6379`, `6379/tcp`). */
  expose: string[];
  entrypoint: string | undefined;
  flags: Set<string>;
  image: string;
  /** The words after the image: the command, or the entrypoint's arguments. */
  args: string[];
}

const VALUE_OPTIONS = new Set([
  '--name',
  '-e',
  '--env',
  '--link',
  '--entrypoint',
  '--expose',
  '-p',
  '--publish',
  '-v',
  '--volume',
  '-u',
  '--user',
  '--network',
  '-w',
  '--workdir',
]);
const FLAG_OPTIONS = new Set([
  '--rm',
  '--init',
  '-d',
  '--detach',
  '-i',
  '-t',
  '-it',
  '--interactive',
  '--tty',
]);

/** Reads `docker run [options] IMAGE [args...]`; an option it does not know throws. */
export function parseDockerRun(words: readonly string[]): DockerRun {
  if (words[0] !== 'docker' || words[1] !== 'run')
    throw new Error(`not a docker run: ${words.join(' ')}`);
  const run: Omit<DockerRun, 'image' | 'args'> = {
    name: undefined,
    env: [],
    links: [],
    expose: [],
    entrypoint: undefined,
    flags: new Set(),
  };
  let i = 2;
  for (; i < words.length && words[i]!.startsWith('-'); i += 1) {
    const word = words[i]!;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const option = eq === -1 ? word : word.slice(0, eq);
    if (FLAG_OPTIONS.has(option)) {
      run.flags.add(option);
      continue;
    }
    if (!VALUE_OPTIONS.has(option))
      throw new Error(`docker run option ${word} is unknown to this test: teach it`);
    const value = eq === -1 ? words[++i] : word.slice(eq + 1);
    if (value === undefined) throw new Error(`docker run ${option} needs a value`);
    if (option === '--name') run.name = value;
    else if (option === '-e' || option === '--env') run.env.push(value);
    else if (option === '--link') run.links.push(value);
    else if (option === '--expose') run.expose.push(value);
    else if (option === '--entrypoint') run.entrypoint = value;
  }
  const image = words[i];
  if (image === undefined) throw new Error(`docker run without an image: ${words.join(' ')}`);
  return { ...run, image, args: words.slice(i + 1) };
}

/** `K=V` entries as a record (the value is everything after the first `=`). */
export function envRecord(entries: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    entries.map((entry) => [
      entry.slice(0, entry.indexOf('=')),
      entry.slice(entry.indexOf('=') + 1),
    ]),
  );
}

/**
 * The variables Docker gives a container for `--link <child>:<alias>` (moby
 * daemon/links/links.go `ToEnv`, with the daemon's legacy switch on): per
 * exposed port `<ALIAS>_PORT_<n>_<PROTO>` and its `_ADDR`/`_PORT`/`_PROTO`, range variables for
 * consecutive ports, `<ALIAS>_PORT` for the first, `<ALIAS>_NAME=/<parent>/<alias>`, and the
 * child's own environment (but HOME and PATH) as `<ALIAS>_ENV_<K>`.
 */
export function dockerLinkEnv(link: {
  alias: string;
  parent: string;
  ip: string;
  /** Exposed ports as `5432/tcp`. */
  ports: readonly string[];
  childEnv: Readonly<Record<string, string>>;
}): Record<string, string> {
  const alias = link.alias.toUpperCase().replaceAll('-', '_');
  const ports = link.ports
    .map((text) => {
      const [port = '', proto = 'tcp'] = text.split('/');
      return { port: Number(port), proto: proto.toLowerCase() };
    })
    // TCP before any other protocol, then by number (withTCPPriority).
    .sort((a, b) => Number(b.proto === 'tcp') - Number(a.proto === 'tcp') || a.port - b.port);
  const env: Record<string, string> = {};
  const url = (p: { port: number; proto: string }) => `${p.proto}://${link.ip}:${p.port}`;
  if (ports[0] !== undefined) env[`${alias}_PORT`] = url(ports[0]);
  for (const p of ports) {
    const prefix = `${alias}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    env[prefix] = url(p);
    env[`${prefix}_ADDR`] = link.ip;
    env[`${prefix}_PORT`] = String(p.port);
    env[`${prefix}_PROTO`] = p.proto;
  }
  for (let start = 0; start < ports.length; ) {
    let end = start;
    while (
      ports[end + 1]?.proto === ports[start]!.proto &&
      ports[end + 1]!.port === ports[end]!.port + 1
    )
      end += 1;
    if (end > start) {
      const prefix = `${alias}_PORT_${ports[start]!.port}_${ports[start]!.proto.toUpperCase()}`;
      env[`${prefix}_START`] = url(ports[start]!);
      env[`${prefix}_PORT_START`] = String(ports[start]!.port);
      env[`${prefix}_END`] = url(ports[end]!);
      env[`${prefix}_PORT_END`] = String(ports[end]!.port);
    }
    start = end + 1;
  }
  env[`${alias}_NAME`] = `/${link.parent}/${link.alias}`;
  for (const [key, value] of Object.entries(link.childEnv)) {
    if (key !== 'HOME' && key !== 'PATH') env[`${alias}_ENV_${key}`] = value;
  }
  return env;
}

export interface KubernetesService {
  name: string;
  clusterIP: string;
  ports: { name?: string | undefined; port: number; protocol: string }[];
}

/**
 * The service variables kubelet gives every container of a pod (pkg/kubelet/envvars
 * `FromServices`): `<SVC>_SERVICE_HOST`, `_SERVICE_PORT[_<NAME>]`,
 * `<SVC>_PORT` (first port) and per port `<SVC>_PORT_<port>_<PROTO>` with `_PROTO`, `_PORT`,
 * `_ADDR`. URL values bracket IPv6; `_ADDR` and `_SERVICE_HOST` do not. Headless services get none.
 */
export function kubeletServiceEnv(services: readonly KubernetesService[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const service of services) {
    if (service.clusterIP === '' || service.clusterIP === 'None') continue;
    const name = service.name.toUpperCase().replaceAll('-', '_');
    const host = isIPv6(service.clusterIP) ? `[${service.clusterIP}]` : service.clusterIP;
    const [first] = service.ports;
    if (first === undefined) continue;
    env[`${name}_SERVICE_HOST`] = service.clusterIP;
    env[`${name}_SERVICE_PORT`] = String(first.port);
    for (const port of service.ports) {
      if (port.name)
        env[`${name}_SERVICE_PORT_${port.name.toUpperCase().replaceAll('-', '_')}`] = String(
          port.port,
        );
    }
    env[`${name}_PORT`] = `${first.protocol.toLowerCase()}://${host}:${first.port}`;
    for (const port of service.ports) {
      const proto = port.protocol.toLowerCase();
      const prefix = `${name}_PORT_${port.port}_${proto.toUpperCase()}`;
      env[prefix] = `${proto}://${host}:${port.port}`;
      env[`${prefix}_PROTO`] = proto;
      env[`${prefix}_PORT`] = String(port.port);
      env[`${prefix}_ADDR`] = service.clusterIP;
    }
  }
  return env;
}
