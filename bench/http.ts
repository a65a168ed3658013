// HTTP helpers shared by the benchmark scripts: a free loopback port, and a keep-alive JSON POST
// to /graphql with less client overhead than fetch, so the client steals less CPU from the server.
import http from 'node:http';
import { createServer } from 'node:net';

export interface GraphQLJson {
  data?: Record<string, Record<string, unknown> | null> | null;
  errors?: { extensions?: { code?: string } }[];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function post(port: number, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: GraphQLJson }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export function closeAgent(): void {
  agent.destroy();
}
