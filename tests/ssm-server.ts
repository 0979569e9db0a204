/**
 * A local SSM Parameter Store endpoint for the tests: `GetParameter` over the SDK's own JSON
 * protocol, so the real `@aws-sdk/client-ssm` (and the IAM guard around it) is exercised.
 * Point a function at it with `AWS_ENDPOINT_URL_SSM`. It answers what SSM answers for a
 * missing parameter (`ParameterNotFound`); IAM refusals come from tests/iam.ts, before a request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SsmServer {
  endpoint: string;
  parameters: Map<string, string>;
  /** Names asked for, in order. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startSsmServer(parameters: Record<string, string> = {}): Promise<SsmServer> {
  const store = new Map(Object.entries(parameters));
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameter') {
        reply(400, { __type: 'InvalidAction', message: `not served here: ${String(req.headers['x-amz-target'])}` });
        return;
      }
      const { Name } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Name: string };
      requests.push(Name);
      const value = store.get(Name);
      if (value === undefined) {
        reply(400, { __type: 'ParameterNotFound', message: `Parameter ${Name} not found.` });
        return;
      }
      reply(200, { Parameter: { Name, Type: 'SecureString', Value: value, Version: 1, DataType: 'text' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    parameters: store,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
