// The listening part of the cloud API stand-ins (aws, gcp, azure): a server on a free loopback
// port that reads each request's body whole and hands it to the stand-in.

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type StandInHandler = (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void;

export interface StandInServer {
  /** `http(s)://127.0.0.1:<port>` */
  readonly url: string;
  /** Drops open connections (SDK clients keep them alive) and stops listening. */
  close(): Promise<void>;
}

/** Over TLS when given a certificate and key. */
export async function serveStandIn(handle: StandInHandler, tls?: { cert: string; key: string }): Promise<StandInServer> {
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => handle(req, body, res));
  };
  const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A JSON API request as the REST stand-ins (gcp, azure) record it for the tests to check. */
export interface JSONRequest {
  method: string;
  /** Path without the query. */
  path: string;
  query: Record<string, string>;
  /** The parsed JSON body; the text when it is not JSON; undefined when empty. */
  body: any;
  authorization: string;
}

export function jsonRequest(req: http.IncomingMessage, body: string): JSONRequest {
  const u = new URL(req.url ?? '/', 'http://x');
  let parsed: any;
  try {
    parsed = body ? JSON.parse(body) : undefined;
  } catch {
    parsed = body;
  }
  return { method: req.method ?? 'GET', path: u.pathname, query: Object.fromEntries(u.searchParams), body: parsed, authorization: String(req.headers.authorization ?? '') };
}
