#!/usr/bin/env node
import { main } from './cli.js';

// A closed stderr (EPIPE) must not kill linkfwd while the app runs.
process.stderr.on('error', () => {});
process.stdout.on('error', () => {});

// A promise chain rather than top-level await: the single-executable build bundles this file
// as CommonJS, which cannot hold a top-level await.
void main(process.argv.slice(2), process).then((status) => {
  process.exitCode = status;
  // Everything is closed by now; a handle left behind must not keep linkfwd (and so the
  // container) alive after its app has gone.
  setTimeout(() => process.exit(), 500).unref();
});
