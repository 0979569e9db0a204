/**
 * A loopback TCP proxy that can cut a dependency: `pass` forwards, `stall` accepts connections
 * and never answers, `reset` closes them at once. Tests put it in front of DynamoDB Local.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'reset';

export interface FaultProxy {
  endpoint: string;
  readonly mode: ProxyMode;
  /** Cuts every open connection too, so that kept-alive sockets see the outage at once. */
  setMode(mode: ProxyMode): void;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let mode: ProxyMode = 'pass';
  const proxy: FaultProxy = {
    endpoint: '',
    get mode() {
      return mode;
    },
    setMode(next) {
      mode = next;
      if (next !== 'pass') for (const socket of sockets) socket.destroy();
    },
    stop: async () => {},
  };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'stall') return;
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  proxy.endpoint = `http://127.0.0.1:${port}`;
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
