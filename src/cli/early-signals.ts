/**
 * The bin's first import: listeners for the terminating signals, in place as soon as any of
 * linkfwd's JavaScript runs, before the dependencies load and the arguments are parsed. As a
 * container's PID 1, linkfwd receives no signal whose action is the default: the kernel drops
 * it, so a `docker stop` in that time would be lost, the app would start anyway and the
 * container would be SIGKILLed at the timeout. Node's own bootstrap, before this runs, stays
 * exposed (README: "Running as PID 1").
 *
 * The first signal caught here is handed to the signal router (supervise/signal-router.ts) once
 * it listens, so start-up ends with 128 + n as documented. Then these listeners step aside.
 */
const TERMINATING: readonly string[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

let caught: NodeJS.Signals | undefined;

function hold(signal: NodeJS.Signals): void {
  caught ??= signal;
}

function handOver(event: string | symbol): void {
  if (typeof event !== 'string' || !TERMINATING.includes(event)) return;
  process.removeListener('newListener', handOver);
  // 'newListener' fires before the new listener is added, and the router adds the others in
  // the same synchronous loop: step aside only after them, as removing the last listener of a
  // signal restores its default action.
  queueMicrotask(() => {
    for (const signal of TERMINATING) process.removeListener(signal, hold);
    if (caught !== undefined) process.emit(caught, caught);
  });
}

for (const signal of TERMINATING) process.on(signal, hold);
process.on('newListener', handOver);
