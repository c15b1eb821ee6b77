import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseLinkEnv } from '../src/plan/link-env.js';
import { readEnvFile } from './helpers/env-file.js';

const summary = (env: Record<string, string>) => {
  const result = parseLinkEnv(env);
  return {
    forwards: result.forwards.map(
      (f) =>
        `${f.origin} ${f.port} → ${f.target.host}:${f.target.port}${f.protocol === 'udp' ? '/udp' : ''}`,
    ),
    skipped: result.skipped.map((s) => `${s.origin}: ${s.kind}`),
  };
};

describe('parseLinkEnv: single variables', () => {
  const rows: [string, string, string | undefined, string | undefined][] = [
    // name, value, forward (port → host:port) or undefined, skipped kind or undefined
    ['DB_PORT_5432_TCP', 'tcp://172.17.0.5:5432', '5432 → 172.17.0.5:5432', undefined],
    ['REDIS_PORT_1234_TCP', 'tcp://192.168.1.52:6379', '1234 → 192.168.1.52:6379', undefined],
    ['V6_PORT_80_TCP', 'tcp://[fd00::5]:80', '80 → fd00::5:80', undefined],
    ['V6_PORT_80_TCP', 'tcp://fd00::5:80', '80 → fd00::5:80', undefined],
    ['NAMED_PORT_80_TCP', 'tcp://api.internal:8080', '80 → api.internal:8080', undefined],
    ['MY.DB_PORT_5432_TCP', 'tcp://172.17.0.9:5432', '5432 → 172.17.0.9:5432', undefined],
    ['CAPS_PORT_80_TCP', 'TCP://10.0.0.1:80', '80 → 10.0.0.1:80', undefined],
    ['DNS_PORT_53_UDP', 'udp://10.0.0.10:53', '53 → 10.0.0.10:53/udp', undefined],
    ['DNS_PORT_53_UDP', 'UDP://[fd00::53]:53', '53 → fd00::53:53/udp', undefined],
    ['S_PORT_777_SCTP', 'sctp://1.2.3.4:777', undefined, 'unsupported'],
    ['DB_PORT_0_TCP', 'tcp://172.17.0.5:5432', undefined, 'malformed'],
    ['DB_PORT_65536_TCP', 'tcp://172.17.0.5:5432', undefined, 'malformed'],
    ['DB_PORT_0x50_TCP', 'tcp://172.17.0.5:80', undefined, 'malformed'],
    ['DB_PORT_-1_TCP', 'tcp://172.17.0.5:80', undefined, 'malformed'],
    ['DB_PORT__TCP', 'tcp://172.17.0.5:80', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://172.17.0.5:0', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://172.17.0.5:65536', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'udp://172.17.0.5:5432', undefined, 'malformed'],
    ['DB_PORT_53_UDP', 'tcp://172.17.0.5:53', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', '172.17.0.5:5432', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://172.17.0.5', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://:5432', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://[nope]:5432', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://a:b:5432', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://$(touch /tmp/x):5432', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://`id`:5432', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://db;reboot:5432', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', '', undefined, 'malformed'],
    ['DB_PORT_5432_TCP', 'tcp://172.17.0.5:5432/', undefined, 'malformed'],
    ['DB_PORT', 'tcp://172.17.0.5:5432', undefined, undefined],
    ['DB_PORT_5432_TCP_ADDR', '172.17.0.5', undefined, undefined],
    ['DB_PORT_5432_TCP_PORT', '5432', undefined, undefined],
    ['DB_PORT_5432_TCP_PROTO', 'tcp', undefined, undefined],
    ['DB_PORT_5432_TCP_START', 'tcp://172.17.0.5:5432', undefined, undefined],
    ['DB_SERVICE_PORT_5000_TCP', '5000', undefined, undefined],
    ['db_port_5432_tcp', 'tcp://172.17.0.5:5432', undefined, undefined],
  ];
  for (const [name, value, forward, kind] of rows) {
    test(`${name}=${value}`, () => {
      const result = parseLinkEnv({ [name]: value });
      assert.deepEqual(
        result.forwards.map(
          (f) =>
            `${f.port} → ${f.target.host}:${f.target.port}${f.protocol === 'udp' ? '/udp' : ''}`,
        ),
        forward === undefined ? [] : [forward],
      );
      assert.deepEqual(
        result.skipped.map((s) => s.kind),
        kind === undefined ? [] : [kind],
      );
    });
  }

  test('skip reasons never quote the value', () => {
    const secret = 'tcp://hunter2-secret:99999';
    const { skipped } = parseLinkEnv({ X_PORT_1_TCP: secret });
    assert.equal(skipped.length, 1);
    assert.doesNotMatch(JSON.stringify(skipped), /hunter2/);
  });

  test('an _ENV_ copy is ignored only when <ALIAS>_NAME marks a Docker link', () => {
    const copy = {
      REDIS_NAME: '/web/redis',
      REDIS_ENV_REDIS_PORT_1234_TCP: 'tcp://192.168.1.52:6379',
    };
    assert.deepEqual(parseLinkEnv(copy).forwards, []);
    const kube = { DEV_ENV_API_PORT_8080_TCP: 'tcp://10.96.30.3:8080' };
    assert.equal(parseLinkEnv(kube).forwards.length, 1);
  });

  test('output order does not depend on the order of the environment', () => {
    const entries: [string, string][] = [
      ['B_PORT_80_TCP', 'tcp://10.0.0.2:80'],
      ['A_PORT_80_TCP', 'tcp://10.0.0.1:80'],
      ['C_PORT_22_TCP', 'tcp://10.0.0.3:22'],
      ['Z_PORT_1_UDP', 'udp://10.0.0.3:1'],
      ['Y_PORT_0_TCP', 'tcp://10.0.0.3:1'],
    ];
    const forward = parseLinkEnv(Object.fromEntries(entries));
    const backward = parseLinkEnv(Object.fromEntries([...entries].reverse()));
    assert.deepEqual(forward, backward);
    assert.deepEqual(
      forward.forwards.map((f) => f.origin),
      ['Z_PORT_1_UDP', 'C_PORT_22_TCP', 'A_PORT_80_TCP', 'B_PORT_80_TCP'],
    );
  });
});

describe('parseLinkEnv: fixtures', () => {
  test('docker run --link', () => {
    assert.deepEqual(summary(readEnvFile('docker-link.env')), {
      forwards: [
        'DNS_PORT_53_TCP 53 → 172.17.0.8:53',
        'DNS_PORT_53_UDP 53 → 172.17.0.8:53/udp',
        'DB_PORT_5432_TCP 5432 → 172.17.0.5:5432',
        'REDIS_PORT_6379_TCP 6379 → 172.17.0.6:6379',
        'CLUSTER_PORT_7000_TCP 7000 → 172.17.0.7:7000',
        'CLUSTER_PORT_7001_TCP 7001 → 172.17.0.7:7001',
        'CLUSTER_PORT_7002_TCP 7002 → 172.17.0.7:7002',
      ],
      skipped: [],
    });
  });

  test('kubernetes pod', () => {
    assert.deepEqual(summary(readEnvFile('kubernetes.env')), {
      forwards: [
        'COREDNS_PORT_53_TCP 53 → 10.96.0.10:53',
        'COREDNS_PORT_53_UDP 53 → 10.96.0.10:53/udp',
        'API_PORT_80_TCP 80 → 10.96.20.1:80',
        'WEB_PORT_80_TCP 80 → 10.96.20.2:80',
        'KUBERNETES_PORT_443_TCP 443 → 10.96.0.1:443',
        'GRPC_PORT_5000_TCP 5000 → 10.96.40.4:5000',
        'POSTGRES_PORT_5432_TCP 5432 → 10.96.12.40:5432',
        'REDIS_MASTER_PORT_6379_TCP 6379 → 10.96.7.7:6379',
        'DEV_ENV_API_PORT_8080_TCP 8080 → 10.96.30.3:8080',
        'SUPER_IPV6_PORT_8084_TCP 8084 → 2001:DB8:::8084',
        'SUPER_IPV6_PORT_8084_UDP 8084 → 2001:DB8:::8084/udp',
        'API_PORT_9090_TCP 9090 → 10.96.20.1:9090',
        'MONGO_PORT_27017_TCP 27017 → 10.96.50.5:27017',
      ],
      skipped: ['SCTP_1_PORT_777_SCTP: unsupported'],
    });
  });

  test('ambassador: listen port from the name, target port from the value', () => {
    assert.deepEqual(summary(readEnvFile('ambassador.env')).forwards, [
      'REDIS_PORT_1234_TCP 1234 → 192.168.1.52:6379',
    ]);
  });
});
