import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { LookupFunction, Socket } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { dialByName, startForwarders } from '../src/forward/index.js';
import { type Env, planForwards } from '../src/plan/index.js';
import { cleanEnv, runCli } from './helpers/cli.js';
import { freePort, serve } from './helpers/sockets.js';

/** A hosts file the test rewrites, as Docker rewrites /etc/hosts when a link restarts. */
function hostsFile(t: TestContext, text: string): { path: string; write(text: string): void } {
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-hosts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'hosts');
  writeFileSync(path, text);
  return { path, write: (next) => writeFileSync(path, next) };
}

/** dns.lookup's contract over a hosts file, read anew at every call. */
function lookupIn(path: string): LookupFunction {
  return ((host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const entries = readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([address, ...names]) => address && names.includes(host));
    const address = entries[0]?.[0];
    if (address === undefined) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
        code: 'ENOTFOUND',
      });
      callback(error);
    } else if (options.all === true) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  }) as unknown as LookupFunction;
}

const quiet = { warn() {}, error() {} };

/** An upstream that names itself, then echoes. */
function namedUpstream(t: TestContext, name: string, host: string, port: number) {
  return serve(
    t,
    (socket) => {
      socket.write(name);
      socket.pipe(socket);
    },
    host,
    port,
  );
}

async function firstBytes(socket: Socket, count: number): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  while (text.length < count) text += (await once(socket, 'data'))[0] as string;
  return text;
}

describe('--dial alias', () => {
  test('a linked container restarts at a new IP: new connections follow the name, old ones finish', async (t) => {
    const first = await namedUpstream(t, 'A', '127.0.0.2', 0);
    const listen = await freePort('127.0.0.1');
    const env: Env = {
      DB_NAME: '/app/db',
      DB_PORT_5432_TCP: `tcp://127.0.0.2:${first.port}`,
    };
    // Docker's hosts entry for `--link db:db`; the variable keeps the old IP for good.
    const hosts = hostsFile(t, `127.0.0.1 localhost\n127.0.0.2 db\n`);
    const lookup = lookupIn(hosts.path);
    const plan = planForwards({ env, bind: ['127.0.0.1'] });
    const forwards = (await dialByName(plan.forwards, { logger: quiet, env, lookup })).map((f) => ({
      ...f,
      listen: [{ host: '127.0.0.1', port: listen }],
    }));
    assert.deepEqual(forwards[0]?.target, { host: 'db', port: first.port });
    const group = await startForwarders(forwards, { logger: quiet, lookup });
    t.after(() => group.close());

    const old = connect({ host: '127.0.0.1', port: listen });
    t.after(() => old.destroy());
    assert.equal(await firstBytes(old, 1), 'A');

    // The restart: the old container stops listening (its connection lives on, as a draining
    // server's does), the new one listens on another address, Docker rewrites the hosts file.
    first.server.close();
    const second = await namedUpstream(t, 'B', '127.0.0.3', first.port);
    hosts.write(`127.0.0.1 localhost\n127.0.0.3 db\n`);

    const fresh = connect({ host: '127.0.0.1', port: listen });
    t.after(() => fresh.destroy());
    assert.equal(await firstBytes(fresh, 1), 'B');
    old.write('still A');
    assert.equal(await firstBytes(old, 7), 'still A');
    assert.equal(first.sockets.size, 1);
    assert.equal(second.sockets.size, 1);
  });

  test('a name that does not resolve: the address, with one warning naming the variable', async (t) => {
    const hosts = hostsFile(t, '127.0.0.1 localhost\n');
    const env: Env = {
      DB_PORT_5432_TCP: 'tcp://172.17.0.5:5432',
      CACHE_PORT_6379_TCP: 'tcp://172.17.0.6:6379',
    };
    const warnings: string[] = [];
    const plan = planForwards({ env, specs: [] });
    const forwards = await dialByName(plan.forwards, {
      logger: { warn: (line) => warnings.push(line), error() {} },
      env,
      lookup: lookupIn(hosts.path),
    });
    assert.deepEqual(
      forwards.map((f) => f.target),
      [
        { host: '172.17.0.5', port: 5432 },
        { host: '172.17.0.6', port: 6379 },
      ],
    );
    assert.deepEqual(warnings, [
      'DB_PORT_5432_TCP: db does not resolve, dialling 172.17.0.5:5432 (--dial alias)',
      'CACHE_PORT_6379_TCP: cache does not resolve, dialling 172.17.0.6:6379 (--dial alias)',
    ]);
  });

  test('Kubernetes: the service name in its namespace; Docker: `-` for `_` when needed', async (t) => {
    const hosts = hostsFile(t, '10.0.0.7 my-pg.team.svc.cluster.local\n10.0.0.8 my-cache\n');
    const namespace = join(mkdtempSync(join(tmpdir(), 'linkfwd-ns-')), 'namespace');
    t.after(() => rmSync(join(namespace, '..'), { recursive: true, force: true }));
    writeFileSync(namespace, 'team\n');
    const env: Env = {
      MY_PG_SERVICE_HOST: '10.96.0.10',
      MY_PG_PORT_5432_TCP: 'tcp://10.96.0.10:5432',
      MY_CACHE_PORT_6379_TCP: 'tcp://172.17.0.6:6379',
    };
    const plan = planForwards({ env });
    const forwards = await dialByName(plan.forwards, {
      logger: quiet,
      env,
      lookup: lookupIn(hosts.path),
      namespaceFile: namespace,
    });
    assert.deepEqual(
      forwards.map((f) => f.target.host),
      ['my-pg.team.svc.cluster.local', 'my-cache'],
    );
  });

  test('CLI: --print shows what each forward dials; LINKFWD_DIAL=alias; a bad value', async () => {
    const env = cleanEnv({
      LOCALHOST_PORT_5432_TCP: 'tcp://172.17.0.5:5432',
      NOWHERE_LINKFWD_TEST_PORT_6379_TCP: 'tcp://172.17.0.6:6379',
    });
    const result = await runCli(['--dial', 'alias', '--print', '--json'], { env });
    assert.equal(result.status, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as { forwards: { target: { host: string } }[] };
    assert.deepEqual(
      plan.forwards.map((f) => f.target.host),
      ['localhost', '172.17.0.6'],
    );
    assert.match(
      result.stderr,
      /^linkfwd: NOWHERE_LINKFWD_TEST_PORT_6379_TCP: nowhere_linkfwd_test or nowhere-linkfwd-test does not resolve, dialling 172\.17\.0\.6:6379 \(--dial alias\)\n$/,
    );
    const viaEnv = await runCli(['--print', '--json'], { env: { ...env, LINKFWD_DIAL: 'alias' } });
    assert.equal(viaEnv.stdout, result.stdout);
    const bad = await runCli(['--dial', 'dns', '--print'], { env });
    assert.equal(bad.status, 125);
    assert.equal(bad.stderr, 'linkfwd: --dial: expected address or alias, got "dns"\n');
  });
});
