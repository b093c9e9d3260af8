import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP endpoint for reachability checks, for the duration of a describe block:
 * `/broken` answers 503, `/slow` answers after 3 s, anything else 200. Returns its base URL.
 */
export function loopbackEndpoint(): { readonly base: string } {
  let server: Server;
  const endpoint = { base: '' };
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 3000);
      res.statusCode = req.url === '/broken' ? 503 : 200;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return endpoint;
}
