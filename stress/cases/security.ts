import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { cleanEnv, runCli } from '../../test/helpers/cli.js';
import { tcpListeners } from '../../test/helpers/proc.js';
import { fixture, startLinkfwd, within } from '../../test/helpers/process.js';
import { dial, freePort, observe, waitFor } from '../../test/helpers/sockets.js';
import { freeUdpPort } from '../../test/helpers/udp.js';
import { privateNetworkCommand, startListening } from '../harness.js';
import { figure, type Scale } from '../scale.js';

const LOOPBACK = new Set(['127.0.0.1', '::1']);

/** Security: nothing exposed, nothing added to the app's environment, no secret printed. */
export function securityCases(scale: Scale): void {
  const timeout = scale.name === 'full' ? 60_000 : 30_000;

  describe('security', () => {
    test('nothing listens beyond loopback without an explicit flag (ss -ltnp)', {
      timeout,
    }, async (t) => {
      const dnsPort = await freeUdpPort('127.0.0.1');
      const ports = [
        await freePort('127.0.0.1'),
        await freePort('127.0.0.1'),
        await freePort('127.0.0.1'),
        await freePort('127.0.0.1'),
      ];
      const [viaFlag, viaEnv, viaLink, viaKubernetes] = ports;
      const env = cleanEnv({
        LINKFWD_FORWARD: `${viaEnv}:127.0.0.2:1`,
        [`DB_PORT_${viaLink}_TCP`]: 'tcp://127.0.0.2:5432',
        [`API_PORT_${viaKubernetes}_TCP`]: 'tcp://[fd00::5]:80',
        [`DNS_PORT_${dnsPort}_UDP`]: 'udp://127.0.0.2:53',
      });
      const linkfwd = await startListening(
        t,
        ['-f', `${viaFlag}:127.0.0.2:1`, '--', ...fixture('forever.mjs')],
        ports,
        { env },
      );
      const tcp = tcpListeners().filter((l) => l.pids.includes(linkfwd.pid));
      const udp = tcpListeners(undefined, 'udp').filter((l) => l.pids.includes(linkfwd.pid));
      assert.deepEqual(
        tcp.filter((l) => !LOOPBACK.has(l.host)),
        [],
        'every listener is on 127.0.0.1 or ::1',
      );
      // Each forwarding thread (--threads) has its own socket on every address: count addresses.
      const addresses = new Set(tcp.map((l) => `${l.host}:${l.port}`));
      assert.equal(addresses.size, 2 * ports.length, JSON.stringify(tcp));
      // The UDP link variable is a UDP forward, on the loopback addresses like the rest.
      assert.deepEqual(
        udp.map((l) => `${l.host}:${l.port}`).sort(),
        [`127.0.0.1:${dnsPort}`, `::1:${dnsPort}`],
        'UDP sockets only for the UDP forward, on loopback',
      );
      assert.doesNotMatch(linkfwd.stderr, /exposed/);

      // The same check sees an exposed port when one is asked for: in a network namespace of
      // its own, where 0.0.0.0 is reachable from nowhere.
      const exposed = startLinkfwd(t, ['-v', '--bind', '0.0.0.0', '-f', `${viaFlag}:127.0.0.2:1`], {
        command: privateNetworkCommand(),
      });
      await exposed.waitForStderr(/listening on/);
      const inside = tcpListeners(exposed.child.pid).filter((l) =>
        l.pids.includes(exposed.child.pid ?? 0),
      );
      assert.deepEqual([...new Set(inside.map((l) => l.host))], ['0.0.0.0']);
      assert.match(exposed.stderr, /exposed beyond this host on 0\.0\.0\.0/);
      figure(
        t,
        scale,
        'listeners with every forward source and no --bind',
        `${addresses.size} addresses (${tcp.length} sockets), all loopback`,
      );
    });

    test('-v adds nothing to the app environment; DEBUG passes as given', { timeout }, async () => {
      // DEBUG set but empty: `debug` deletes it from process.env when it loads (defect).
      const cases: Record<string, string>[] = [
        {},
        { DEBUG: 'app:*' },
        { DEBUG: '' },
        { DEBUG: 'linkfwd:*' },
      ];
      for (const extra of cases) {
        const env = cleanEnv({ KEEP: 'me', ...extra });
        const result = await runCli(['-v', '--', ...fixture('env.mjs')], { env });
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(JSON.parse(result.stdout), env);
        assert.match(result.stderr, /linkfwd:supervisor/, '-v was on');
      }
    });

    test('no value of an _ENV_ variable, nor of a malformed link variable, ever appears in linkfwd output', {
      timeout,
    }, async (t) => {
      const secrets = Array.from({ length: 6 }, () => randomBytes(12).toString('hex'));
      const [a = '', b = '', c = '', d = '', e = '', f = ''] = secrets;
      const port = await freePort('127.0.0.1');
      const env = cleanEnv({
        WEB_NAME: '/app/web',
        WEB_ENV_PASSWORD: a,
        WEB_ENV_DB_PORT_5432_TCP: `tcp://${b}:5432`,
        WEB_ENV_X_PORT_1_TCP: c,
        WEB_ENV_Y_PORT_0_TCP: `tcp://${d}:1`,
        [`WEB_PORT_${port}_TCP`]: 'tcp://127.0.0.2:1',
        BAD_PORT_1_TCP: e,
        BAD2_PORT_2_TCP: `tcp://${f}:99999`,
      });
      const outputs: string[] = [];
      for (const args of [
        ['--print'],
        ['--print', '--json'],
        ['-v', '--print'],
        ['-v', '--print', '--json'],
        ['-v', '--strict', '--print'],
        ['-v', '--strict', '--', ...fixture('exit-with.mjs', '0')],
        ['-v', '--', ...fixture('exit-with.mjs', '0')],
      ]) {
        const result = await runCli(args, { env });
        outputs.push(`${args.join(' ')}\n${result.stdout}${result.stderr}`);
      }
      // Forward-only with -v while a client's dial fails (the target refuses).
      const linkfwd = await startListening(t, ['-v'], [port], { env });
      assert.equal((await observe(dial(t, port))).error, 'ECONNRESET');
      await waitFor('the failed dial to be logged', () => /cannot reach/.test(linkfwd.stderr));
      linkfwd.child.kill('SIGTERM');
      await within(linkfwd.exited, 5000, 'forward-only linkfwd exits on SIGTERM');
      outputs.push(`forward-only\n${linkfwd.stdout}${linkfwd.stderr}`);

      const leaks = outputs.filter((out) => secrets.some((secret) => out.includes(secret)));
      assert.deepEqual(leaks, [], 'a secret appeared');
      assert.ok(
        outputs.some((out) => /BAD_PORT_1_TCP skipped/.test(out)),
        'warnings were written',
      );
      figure(
        t,
        scale,
        'secret-bearing variables checked across runs',
        `${secrets.length} × ${outputs.length} runs, 0 leaks`,
      );
    });
  });
}
