/**
 * The bench's handle on the load-generator process (`bench/client.ts`): one job at a time over
 * IPC, each with a deadline. A job that overruns kills the worker; the next job starts a new one.
 */
import { fileURLToPath } from 'node:url';
import type { ClientJob, ClientResult } from './client.js';
import { type Managed, start, stderrOf } from './processes.js';

const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url));

interface Reply {
  id: number;
  ok: boolean;
  result?: ClientResult;
  error?: string;
}

export class ClientWorker {
  private worker: Managed | undefined;
  private stderr: () => string = () => '';
  private nextId = 1;

  private ensure(): Managed {
    if (this.worker !== undefined && this.worker.child.exitCode === null) return this.worker;
    this.worker = start('client', process.execPath, ['--import', 'tsx', CLIENT], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.stderr = stderrOf(this.worker);
    return this.worker;
  }

  async run(job: ClientJob, timeoutMs: number): Promise<ClientResult> {
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise<ClientResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        void worker.stop();
        reject(new Error(`client ${job.kind} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (reply: Reply) => {
        if (reply.id !== id) return;
        cleanup();
        if (reply.ok && reply.result !== undefined) resolve(reply.result);
        else reject(new Error(reply.error ?? 'client failed'));
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`client exited: ${this.stderr()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.child.off('message', onMessage);
        worker.child.off('exit', onExit);
      };
      worker.child.on('message', onMessage);
      worker.child.once('exit', onExit);
      worker.child.send({ id, job });
    });
  }

  async stop(): Promise<void> {
    if (this.worker === undefined) return;
    if (this.worker.child.connected) this.worker.child.disconnect();
    await this.worker.stop();
  }
}
