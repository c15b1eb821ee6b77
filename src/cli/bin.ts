#!/usr/bin/env node
// First: the terminating signals are caught from here on (as PID 1, one caught by nobody is
// lost). Then the environment is copied before `debug` (loaded by main.js) can change it.
import './early-signals.js';
import { nonUtf8Variables, rawCommandLine, receivedEnv } from './env-snapshot.js';
import { main } from './main.js';

// A closed stderr (EPIPE) must not kill linkfwd while the app runs.
process.stderr.on('error', () => {});
process.stdout.on('error', () => {});

// A promise chain rather than top-level await: the npm bin and the single executable are this
// file bundled as CommonJS (scripts/bundle.ts), which cannot hold a top-level await.
void main(process.argv.slice(2), {
  env: receivedEnv,
  stdout: process.stdout,
  stderr: process.stderr,
  nonUtf8Variables,
  rawCommandLine,
}).then((status) => {
  process.exitCode = status;
  // Everything is closed by now; a handle left behind must not keep linkfwd (and so the
  // container) alive after its app has gone.
  setTimeout(() => process.exit(), 500).unref();
});
