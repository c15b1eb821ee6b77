import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import ts from 'typescript';
import { ROOT } from './helpers/cli.js';

/**
 * The public API: what `import ... from 'linkfwd'` offers. A change to these lists is a change
 * of the API: make it on purpose, and say it in CHANGELOG.md.
 */
const VALUES = [
  'ERROR_CODES',
  'LinkfwdError',
  'exitStatusOf',
  'formatEndpoint',
  'formatForwardSpec',
  'isLinkfwdError',
  'parseForwardSpec',
  'parseLinkEnv',
  'planForwards',
  'planToJson',
  'run',
  'startForwarder',
  'startForwarders',
  'supervise',
  'waitForTargets',
];
const TYPES = [
  'ChildOutcome',
  'Endpoint',
  'Env',
  'ForwardSource',
  'ForwardSpec',
  'ForwardStats',
  'Forwarder',
  'ForwarderGroup',
  'ForwarderOptions',
  'LinkEnvResult',
  'LinkForward',
  'LinkfwdErrorCode',
  'ListenAddress',
  'Logger',
  'ParseSpecOptions',
  'Plan',
  'PlanInput',
  'PlanJson',
  'PlannedForward',
  'Protocol',
  'ProcessLike',
  'RunOptions',
  'SkippedVariable',
  'SuperviseOptions',
  'Supervised',
  'UdpStats',
  'WaitOptions',
];

const sorted = (names: Iterable<string>) => [...names].sort();

describe('the public API (src/index.ts)', () => {
  test('the value exports of the built package', async () => {
    const api = await import(join(ROOT, 'dist/index.js'));
    assert.deepEqual(sorted(Object.keys(api)), sorted(VALUES));
  });

  test('the type exports', () => {
    const file = join(ROOT, 'src/index.ts');
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noEmit: true,
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file);
    assert.ok(source);
    const module = checker.getSymbolAtLocation(source);
    assert.ok(module);
    const types = checker
      .getExportsOfModule(module)
      .map((symbol) => symbol.getName())
      .filter((name) => !VALUES.includes(name));
    assert.deepEqual(sorted(types), sorted(TYPES));
  });

  test('importing it registers and loads nothing: no listener, no handle, no debug', {
    timeout: 20_000,
  }, async () => {
    // A resolve hook reports every module the import pulls in.
    const hook = `let port;
      export function initialize(data) { port = data.port; }
      export async function resolve(specifier, context, next) {
        port.postMessage(specifier);
        return next(specifier, context);
      }`;
    const script = `
      import { register } from 'node:module';
      const { port1, port2 } = new MessageChannel();
      const loaded = [];
      port1.on('message', (specifier) => loaded.push(specifier));
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), {
        data: { port: port2 },
        transferList: [port2],
      });
      const count = () => ({
        listeners: process.eventNames().length,
        resources: process.getActiveResourcesInfo().filter((r) => r !== 'MessagePort').length,
      });
      const before = count();
      await import(${JSON.stringify(join(ROOT, 'dist/index.js'))});
      await new Promise((resolve) => setTimeout(resolve, 200));
      const after = count();
      port1.close();
      console.log(JSON.stringify({ before, after, loaded }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { ...process.env, DEBUG: 'linkfwd:*' } },
    );
    const { before, after, loaded } = JSON.parse(stdout) as {
      before: unknown;
      after: unknown;
      loaded: string[];
    };
    assert.deepEqual(after, before);
    assert.ok(loaded.includes('./run.js'), `the hook saw the imports: ${loaded.join(' ')}`);
    for (const unwanted of ['debug', 'yargs']) assert.ok(!loaded.includes(unwanted), unwanted);
  });
});
