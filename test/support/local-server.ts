/** An HTTP server on 127.0.0.1 on a free port, for the fake AWS endpoints. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export class LocalServer {
  private server?: Server;
  url = '';

  constructor(private readonly handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handler(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** Run a command's main() and turn a thrown error into its exit code (70 for an internal error). */
export async function exitOf(run: () => Promise<number>): Promise<{ code: number; error?: Error & { exitCode?: number } }> {
  try {
    return { code: await run() };
  } catch (e) {
    const err = e as Error & { exitCode?: number };
    return { code: err.exitCode ?? 70, error: err };
  }
}
