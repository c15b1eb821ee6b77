// examples/, checked against what they promise: each example's environment is derived from
// its own files (the `docker run` lines, the Compose and Kubernetes YAML) the way Docker,
// Compose or kubelet would build it, and `linkfwd --print --json` must plan the forwards the
// example's README describes. The runnable examples run in examples-run.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PlanJson } from '../src/plan/print.js';
import { formatEndpoint } from '../src/plan/spec.js';
import { cleanEnv, readRepoFile, runCli } from './helpers/cli.js';
import {
  type DockerRun,
  dockerLinkEnv,
  envRecord,
  type KubernetesService,
  kubeletServiceEnv,
  parseDockerRun,
} from './helpers/container-env.js';
import { shellCommands } from './helpers/shell-words.js';
import { parseYamlDocuments, type Yaml, yamlAt } from './helpers/yaml-subset.js';

/** What the official images used by the examples EXPOSE, and the part of their ENV that matters here. */
const IMAGES: Record<string, { expose: string[]; env: Record<string, string> }> = {
  'postgres:17-bookworm': {
    expose: ['5432/tcp'],
    env: { PG_MAJOR: '17', PGDATA: '/var/lib/postgresql/data' },
  },
  'redis:7-bookworm': { expose: ['6379/tcp'], env: {} },
};

/** `linkfwd --print --json <args>` with exactly `env` (plus PATH); the plan and all output. */
async function printPlan(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ plan: PlanJson; output: string }> {
  const result = await runCli(['--print', '--json', ...args], { env: cleanEnv(env) });
  assert.equal(result.status, 0, `linkfwd --print --json ${args.join(' ')}: ${result.stderr}`);
  return { plan: JSON.parse(result.stdout) as PlanJson, output: result.stdout + result.stderr };
}

/** Each forward as one line: `127.0.0.1:5432 [::1]:5432 -> db:5432 (5432:db:5432, explicit)`. */
function summarize(plan: PlanJson): string[] {
  return plan.forwards.map(
    (f) =>
      `${f.listen.map((l) => ('path' in l ? `unix:${l.path}` : formatEndpoint(l))).join(' ')} -> ${formatEndpoint(f.target)} (${f.origin}, ${f.explicit ? 'explicit' : 'discovered'})`,
  );
}

/** linkfwd's own arguments: everything before `--`, and the app's command after it. */
function splitCommand(args: readonly string[]): { options: string[]; command: string[] } {
  const dashes = args.indexOf('--');
  return dashes === -1
    ? { options: [...args], command: [] }
    : { options: args.slice(0, dashes), command: args.slice(dashes + 1) };
}

function dockerRuns(script: string, vars: Record<string, string> = {}): DockerRun[] {
  return shellCommands(readRepoFile(script), ['docker', 'run'], vars).map(parseDockerRun);
}

function asRecord(value: Yaml, what: string): Record<string, Yaml> {
  assert.ok(
    value !== null && typeof value === 'object' && !Array.isArray(value),
    `${what} is not a mapping`,
  );
  return value;
}

function asStrings(value: Yaml, what: string): string[] {
  assert.ok(
    Array.isArray(value) && value.every((item) => typeof item === 'string'),
    `${what} is not a list of strings`,
  );
  return value as string[];
}

describe('examples', { timeout: 120_000 }, () => {
  test('docker-links: the variables of --link become forwards on localhost', {
    timeout: 20_000,
  }, async () => {
    const runs = dockerRuns('examples/docker-links/run.sh');
    const apps = runs.filter((run) => run.entrypoint === 'linkfwd');
    assert.equal(apps.length, 1, 'one `docker run --entrypoint linkfwd`');
    const app = apps[0]!;
    assert.ok(app.flags.has('--init'), 'the app runs with --init');
    // Docker hands out the default bridge's addresses in start order: .1 is the gateway.
    const started = runs.filter((run) => run.flags.has('-d'));
    const env = envRecord(app.env);
    for (const link of app.links) {
      const [name = '', alias = name] = link.split(':');
      const child = started.find((run) => run.name === name);
      assert.ok(child !== undefined, `--link ${link}: no container named ${name} is started`);
      const image = IMAGES[child.image];
      assert.ok(
        image !== undefined,
        `--link ${link}: what does ${child.image} EXPOSE? Add it to IMAGES`,
      );
      Object.assign(
        env,
        dockerLinkEnv({
          alias,
          parent: 'linkfwd-example-app-run',
          ip: `172.17.0.${2 + started.indexOf(child)}`,
          ports: [...image.expose, ...child.expose],
          childEnv: { ...image.env, ...envRecord(child.env) },
        }),
      );
    }
    assert.equal(
      env.DB_ENV_POSTGRES_PASSWORD,
      'example',
      "the derivation copies the linked container's env, as Docker does",
    );
    const { options, command } = splitCommand(app.args);
    assert.deepEqual(command, ['probe']);

    const { plan, output } = await printPlan(options, env);
    assert.deepEqual(summarize(plan), [
      '127.0.0.1:5432 [::1]:5432 -> 172.17.0.2:5432 (DB_PORT_5432_TCP, discovered)',
      '127.0.0.1:6379 [::1]:6379 -> 172.17.0.3:6379 (CACHE_PORT_6379_TCP, discovered)',
    ]);
    assert.deepEqual(plan.skipped, []);
    assert.doesNotMatch(
      output,
      /DB_ENV|example/,
      "the linked container's environment is neither forwarded nor shown",
    );
  });

  test('compose: LINKFWD_FORWARD names the services, no links', { timeout: 20_000 }, async () => {
    const [file] = parseYamlDocuments(readRepoFile('examples/compose/docker-compose.yml'));
    const services = asRecord(yamlAt(file!, 'services'), 'services');
    for (const [name, service] of Object.entries(services)) {
      assert.ok(!('links' in asRecord(service, name)), `service ${name} uses links`);
    }
    const app = asRecord(services.app!, 'services.app');
    assert.equal(app.init, 'true', 'the app runs with init: true');
    const [entry, ...entryArgs] = asStrings(yamlAt(app, 'entrypoint'), 'entrypoint');
    assert.equal(entry, 'linkfwd');
    const { options, command } = splitCommand([
      ...entryArgs,
      ...asStrings(yamlAt(app, 'command'), 'command'),
    ]);
    assert.ok(command.length > 0, 'linkfwd runs an app');
    const env = asRecord(yamlAt(app, 'environment'), 'environment');

    const { plan } = await printPlan(options, env as Record<string, string>);
    assert.deepEqual(summarize(plan), [
      '127.0.0.1:5432 [::1]:5432 -> db:5432 (5432:db:5432, explicit)',
      '127.0.0.1:6379 [::1]:6379 -> cache:6379 (6379:cache:6379, explicit)',
    ]);
    const dependsOn = asStrings(yamlAt(app, 'depends_on'), 'depends_on');
    for (const forward of plan.forwards) {
      assert.ok(forward.target.host in services, `${forward.target.host} is a service of the file`);
      assert.ok(
        dependsOn.includes(forward.target.host),
        `the app depends on ${forward.target.host}`,
      );
    }
  });

  test('kubernetes: --only picks the service variables kubelet injects', {
    timeout: 20_000,
  }, async () => {
    const documents = parseYamlDocuments(readRepoFile('examples/kubernetes/deployment.yaml'));
    const services: KubernetesService[] = [
      // The API server's service, which kubelet always adds.
      {
        name: 'kubernetes',
        clusterIP: '10.96.0.1',
        ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
      },
      ...documents
        .filter((document) => yamlAt(document, 'kind') === 'Service')
        .map((document, index) => ({
          name: yamlAt(document, 'metadata', 'name') as string,
          clusterIP: `10.96.0.${10 + index}`,
          ports: (yamlAt(document, 'spec', 'ports') as Yaml[]).map((port) => {
            const p = asRecord(port, 'a service port');
            return {
              name: p.name as string | undefined,
              port: Number(p.port),
              protocol: (p.protocol as string | undefined) ?? 'TCP',
            };
          }),
        })),
    ];
    assert.deepEqual(
      services.map((service) => service.name),
      ['kubernetes', 'postgres', 'redis', 'web'],
    );
    const deployment = documents.find((document) => yamlAt(document, 'kind') === 'Deployment');
    assert.ok(deployment !== undefined, 'a Deployment');
    const pod = yamlAt(deployment, 'spec', 'template', 'spec');
    assert.equal(yamlAt(pod, 'enableServiceLinks'), 'true');
    const container = yamlAt(pod, 'containers', 0);
    assert.deepEqual(asStrings(yamlAt(container, 'command'), 'command'), ['linkfwd']);
    const { options, command } = splitCommand(asStrings(yamlAt(container, 'args'), 'args'));
    assert.deepEqual(command, ['node', 'server.js']);
    // The container's own env wins over service variables of the same name, as in kubelet.
    const env: Record<string, string> = kubeletServiceEnv(services);
    for (const entry of yamlAt(container, 'env') as Yaml[]) {
      env[yamlAt(entry, 'name') as string] = yamlAt(entry, 'value') as string;
    }
    assert.equal(
      env.WEB_PORT_80_TCP,
      'tcp://10.96.0.12:80',
      "the derivation includes the app's own Service",
    );

    const { plan } = await printPlan(options, env);
    assert.deepEqual(summarize(plan), [
      '127.0.0.1:5432 [::1]:5432 -> 10.96.0.10:5432 (POSTGRES_PORT_5432_TCP, explicit)',
      '127.0.0.1:6379 [::1]:6379 -> 10.96.0.11:6379 (REDIS_PORT_6379_TCP, explicit)',
    ]);

    // The probes and the scrape annotation point at linkfwd's --status endpoint.
    const status = options[options.indexOf('--status') + 1] ?? '';
    const statusPort = /:(\d+)$/.exec(status)?.[1];
    assert.ok(statusPort, `--status ADDR:PORT in the args: ${options.join(' ')}`);
    const annotations = yamlAt(deployment, 'spec', 'template', 'metadata', 'annotations');
    assert.equal(yamlAt(annotations, 'prometheus.io/scrape'), 'true');
    assert.equal(yamlAt(annotations, 'prometheus.io/port'), statusPort);
    assert.equal(yamlAt(annotations, 'prometheus.io/path'), '/metrics');
    const ports = (yamlAt(container, 'ports') as Yaml[]).map((port) => asRecord(port, 'a port'));
    const named = ports.find((port) => port.name === 'linkfwd-status');
    assert.equal(String(named?.containerPort), statusPort);
    for (const [probe, path] of [
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ] as const) {
      assert.equal(yamlAt(container, probe, 'httpGet', 'path'), path, probe);
      assert.equal(yamlAt(container, probe, 'httpGet', 'port'), 'linkfwd-status', probe);
    }
  });

  test('ambassador: forward-only on 0.0.0.0 from the ambassador variable', {
    timeout: 20_000,
  }, async () => {
    for (const [vars, target] of [
      [{}, '192.168.1.52:6379'],
      [{ REDIS_HOST: '10.1.2.3' }, '10.1.2.3:6379'],
    ] as const) {
      const runs = dockerRuns('examples/ambassador/run.sh', vars);
      const ambassador = runs.find((run) => run.image === 'linkfwd:binary');
      assert.ok(ambassador !== undefined, 'the ambassador runs the linkfwd:binary image');
      assert.ok(ambassador.flags.has('--init'));
      const { options, command } = splitCommand(ambassador.args);
      assert.deepEqual(command, [], 'no command: forward-only');

      const { plan } = await printPlan(options, envRecord(ambassador.env));
      assert.deepEqual(summarize(plan), [
        `0.0.0.0:6379 -> ${target} (REDIS_PORT_6379_TCP, explicit)`,
      ]);
      assert.deepEqual(
        ambassador.expose,
        ['6379'],
        'the forwarded port is exposed to linked containers',
      );
      const consumer = runs.find((run) =>
        run.links.some((link) => link.startsWith(`${ambassador.name}:`)),
      );
      assert.ok(consumer !== undefined, 'a consumer links to the ambassador');
    }
  });
});
