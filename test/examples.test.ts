// examples/ and the Dockerfile, checked against what they promise: each example's environment
// is derived from its own files (the `docker run` lines, the Compose and Kubernetes YAML) the
// way Docker, Compose or kubelet would build it, and `linkfwd --print --json` must plan the
// forwards the example's README describes. The runnable examples (demo, programmatic) run.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PlanJson } from '../src/plan/print.js';
import { formatEndpoint } from '../src/plan/spec.js';
import { cleanEnv, ROOT, runCli, runProgram } from './helpers/cli.js';
import {
  type DockerRun,
  dockerLinkEnv,
  envRecord,
  type KubernetesService,
  kubeletServiceEnv,
  parseDockerRun,
} from './helpers/container-env.js';
import { instructions, parseCopy, parseDockerfile, type Stage } from './helpers/dockerfile.js';
import { shellCommands } from './helpers/shell-words.js';
import { freePort } from './helpers/sockets.js';
import { parseYamlDocuments, type Yaml, yamlAt } from './helpers/yaml-subset.js';

const EXAMPLES = join(ROOT, 'examples');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

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
  return shellCommands(read(script), ['docker', 'run'], vars).map(parseDockerRun);
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
    const [file] = parseYamlDocuments(read('examples/compose/docker-compose.yml'));
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
    const documents = parseYamlDocuments(read('examples/kubernetes/deployment.yaml'));
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

  test('programmatic: the TypeScript example runs against the library', {
    timeout: 40_000,
  }, async () => {
    const port = await freePort('127.0.0.1');
    const result = await runProgram(
      process.execPath,
      ['--import', 'tsx', join(EXAMPLES, 'programmatic/main.ts')],
      { env: cleanEnv({ EXAMPLE_PORT: String(port) }), timeout: 30_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^link: DB_PORT_5432_TCP: listen on 5432\/tcp, dial 172\.17\.0\.5:5432$/m,
    );
    assert.match(
      result.stdout,
      /^link: DNS_PORT_53_UDP: listen on 53\/udp, dial 172\.17\.0\.6:53$/m,
    );
    assert.match(result.stdout, /^link: SIG_PORT_2905_SCTP skipped: sctp is not supported$/m);
    assert.match(result.stdout, new RegExp(`^run: listening on 127\\.0\\.0\\.1:${port}`, 'm'));
    assert.match(result.stdout, /^app: got hello from the service on 127\.0\.0\.2$/m);
    assert.match(result.stdout, /^run: the app exited, status 0$/m);
    assert.doesNotMatch(result.stdout + result.stderr, /example-secret/);
  });

  test('demo: the app reaches the database on 127.0.0.2 through localhost', {
    timeout: 40_000,
  }, async () => {
    const port = await freePort('127.0.0.1');
    const result = await runProgram(process.execPath, [join(EXAMPLES, 'demo/run.mjs')], {
      env: cleanEnv({ DEMO_PORT: String(port) }),
      timeout: 30_000,
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^app: database said: DEMO-DB 1\.0 ready$/m);
    assert.match(
      result.stdout,
      new RegExp(`^app: database said: demo database on 127\\.0\\.0\\.2:${port}; `, 'm'),
    );
    assert.match(result.stdout, /^app: database said: BYE$/m);
    assert.match(result.stdout, /^demo: linkfwd exited with status 0$/m);
  });

  test('every example folder has a README and is listed in examples/README.md', {
    timeout: 5_000,
  }, () => {
    const index = read('examples/README.md');
    const folders = readdirSync(EXAMPLES, { withFileTypes: true }).filter((entry) =>
      entry.isDirectory(),
    );
    assert.ok(folders.length >= 7);
    for (const folder of folders) {
      const readme = join(EXAMPLES, folder.name, 'README.md');
      assert.ok(existsSync(readme), `${folder.name}/README.md`);
      assert.ok(
        readFileSync(readme, 'utf8').length > 300,
        `${folder.name}/README.md has a paragraph`,
      );
      assert.ok(index.includes(`(${folder.name}/)`), `examples/README.md links ${folder.name}/`);
    }
  });
});

describe('Dockerfile', { timeout: 10_000 }, () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const stage = (name: string): Stage => {
    const found = stages.find((s) => s.name === name);
    assert.ok(found !== undefined, `a stage named ${name}`);
    return found;
  };
  const lastArgs = (s: Stage, keyword: string) => instructions(s, keyword).at(-1)?.args;

  test('the default target runs the npm bin as user node, without node_modules', {
    timeout: 5_000,
  }, () => {
    const runtime = stages.at(-1)!;
    assert.equal(runtime.name, 'runtime');
    assert.equal(runtime.base, 'node:24-bookworm-slim');
    const bin = (JSON.parse(read('package.json')) as { bin: { linkfwd: string } }).bin.linkfwd;
    assert.equal(lastArgs(runtime, 'WORKDIR'), '/app');
    assert.deepEqual(JSON.parse(lastArgs(runtime, 'ENTRYPOINT') ?? 'null'), [
      'node',
      `/app/${bin}`,
    ]);
    assert.equal(lastArgs(runtime, 'USER'), 'node');
    // One RUN: `linkfwd` on PATH, checked by running it.
    assert.deepEqual(
      instructions(runtime, 'RUN').map((r) => r.args),
      [`ln -s /app/${bin} /usr/local/bin/linkfwd && linkfwd --version`],
    );
    const copied = instructions(runtime, 'COPY').map(parseCopy);
    assert.ok(copied.some((c) => c.sources.includes(`/app/${bin}`) && c.destination === bin));
    // The bundle needs no dependency installed (npm run test:container runs the image).
    assert.ok(!copied.some((c) => c.sources.some((source) => source.includes('node_modules'))));
    assert.match(read('Dockerfile'), /docker run --init/);
  });

  test('the binary target carries only the single executable, on debian:bookworm-slim', {
    timeout: 5_000,
  }, () => {
    const binary = stage('binary');
    assert.equal(binary.base, 'debian:bookworm-slim');
    const copies = instructions(binary, 'COPY').map(parseCopy);
    assert.equal(copies.length, 1);
    assert.deepEqual(copies[0]!.sources, ['/app/build/linkfwd']);
    assert.equal(copies[0]!.destination, '/usr/local/bin/linkfwd');
    assert.match(
      instructions(stage(copies[0]!.from!), 'RUN')
        .map((r) => r.args)
        .join('\n'),
      /npm run build:binary/,
    );
    assert.deepEqual(JSON.parse(lastArgs(binary, 'ENTRYPOINT') ?? 'null'), [
      '/usr/local/bin/linkfwd',
    ]);
    assert.notEqual(lastArgs(binary, 'USER') ?? 'root', 'root');
  });

  test('stages, scripts and build-context files it names exist', { timeout: 5_000 }, () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    const ignore = read('.dockerignore')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    assert.equal(ignore[0], '*', '.dockerignore is an allow-list');
    const allowed = ignore
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    stages.forEach((s, index) => {
      const earlier = stages.slice(0, index).map((e) => e.name);
      if (s.base.includes(':') === false) assert.ok(earlier.includes(s.base), `FROM ${s.base}`);
      for (const run of instructions(s, 'RUN')) {
        for (const [, script] of run.args.matchAll(/npm run ([\w:-]+)/g))
          assert.ok(script! in scripts, `npm run ${script}`);
      }
      for (const copy of instructions(s, 'COPY').map(parseCopy)) {
        if (copy.from !== undefined) {
          assert.ok(earlier.includes(copy.from), `COPY --from=${copy.from} names an earlier stage`);
          continue;
        }
        for (const source of copy.sources.map((path) => path.replace(/\/$/, ''))) {
          assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: no such file`);
          assert.ok(
            allowed.some((a) => source === a || source.startsWith(`${a}/`)),
            `COPY ${source}: excluded by .dockerignore`,
          );
        }
      }
    });
  });

  test('the example app image copies the binary from where the binary target puts it', {
    timeout: 5_000,
  }, () => {
    const [app] = parseDockerfile(read('examples/app-image/Dockerfile'));
    const copies = instructions(app!, 'COPY').map(parseCopy);
    const linkfwd = copies.find((c) => c.from === 'linkfwd:binary');
    assert.deepEqual(linkfwd?.sources, ['/usr/local/bin/linkfwd']);
    for (const copy of copies.filter((c) => c.from === undefined)) {
      for (const source of copy.sources) {
        assert.ok(
          statSync(join(EXAMPLES, 'app-image', source)).mode & 0o111,
          `${source} is executable`,
        );
      }
    }
  });
});

describe('example readers', { timeout: 5_000 }, () => {
  test('the YAML reader reads what the examples use and refuses the rest', {
    timeout: 5_000,
  }, () => {
    const [doc] = parseYamlDocuments(
      [
        'a:',
        '  b: "x # y"',
        '  c: ["1", "2"]  # comment',
        '  d:',
        '  - e: f',
        '    g: h',
        "  - 'i''j'",
      ].join('\n'),
    );
    assert.deepEqual(doc, { a: { b: 'x # y', c: ['1', '2'], d: [{ e: 'f', g: 'h' }, "i'j"] } });
    for (const bad of [
      'a: &anchor x',
      'a: |',
      'a: {b: c}',
      'a:\n\tb: c',
      'a: b\n    c: d',
      'a b',
    ]) {
      assert.throws(() => parseYamlDocuments(bad), Error, JSON.stringify(bad));
    }
  });

  test('the shell reader splits, unquotes and expands like sh', { timeout: 5_000 }, () => {
    const script = [
      '# docker run --comment',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: sh syntax under test, not a template
      'docker run -e "A=${X:-d e}" \\',
      "  --name 'n' img -- a\\ b && docker run img2 >/dev/null 2>&1",
      'echo docker run',
    ].join('\n');
    assert.deepEqual(shellCommands(script, ['docker', 'run']), [
      ['docker', 'run', '-e', 'A=d e', '--name', 'n', 'img', '--', 'a b'],
      ['docker', 'run', 'img2'],
    ]);
    assert.deepEqual(shellCommands('docker run -e A=$X i', ['docker', 'run'], { X: 'v' }), [
      ['docker', 'run', '-e', 'A=v', 'i'],
    ]);
    assert.throws(() => shellCommands('docker run $(pwd)', ['docker', 'run']));
  });
});
