import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

/**
 * A stand-in for `process`: signals are `emit`ted, never sent. It has the shape of
 * `ProcessLike` (supervise/signal-router.ts), which test/helpers may not import: each test
 * that passes it to the router checks that shape.
 */
export class FakeProcess extends EventEmitter {
  pid = 4242;
  kill(): boolean {
    throw new Error('the router must not signal linkfwd itself');
  }
  listenerTotal(): number {
    return this.eventNames().reduce((sum, name) => sum + this.listenerCount(name), 0);
  }
}

/** A stand-in child; `pid` null: one that failed to spawn. */
export function fakeChild(pid: number | null = 1000) {
  const sent: NodeJS.Signals[] = [];
  const child = Object.assign(new EventEmitter(), {
    pid: pid ?? undefined,
    kill(signal: NodeJS.Signals) {
      sent.push(signal);
      return true;
    },
  }) as unknown as ChildProcess;
  return { child, sent };
}
