// Small helpers for writing responses and reading request bodies.

import { keepBodyFor } from './audit.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import YAML from 'yaml';
import { errors, StatusError } from '../machinery/errors.ts';
import { decodeKubernetesProtobuf } from '../machinery/protobuf/index.ts';
import { prettyRequested } from './query-params.ts';
import { checkNesting, stringifyJSON } from '../machinery/json-values.ts';
import { PIECE_CHARS, slices, writeInPieces } from './piecewise-write.ts';

/** Upstream's limit on request bodies. */
export const maxBodyBytes = 3 * 1024 * 1024;

/** Answers at least this big are gzip-compressed for clients that accept it (upstream: 128 KB). */
export const gzipMinBytes = 128 * 1024;

/**
 * Answers up to this big are compressed on the main thread, at once (level 1: ~2-5 ms for the
 * nodes' Table of 5,000 rows, 754 KB), bigger ones on libuv's thread pool. Each 16-64 KB the pool
 * compresses comes back to the main thread before the next goes out: on a server whose main
 * thread is busy (5,000 nodes' heartbeats), each of those turns waited 0.1-0.25 s, and the
 * console's first request (the nodes' Table, 12 writes) took 3 s to compress 754 KB.
 */
export const syncGzipMaxBytes = 1024 * 1024;

/** Accept-Encoding names gzip (or *) without q=0. */
export function acceptsGzip(req: IncomingMessage | undefined): boolean {
  const h = req?.headers['accept-encoding'];
  if (!h) return false;
  for (const part of h.split(',')) {
    const [name, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (!q || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/**
 * A big answer compressed for a client that accepts gzip, as upstream's APIResponseCompression. Up
 * to syncGzipMaxBytes at once; bigger ones on libuv's thread pool (level 1: a 10 MB list of pods
 * takes ~10 ms there), so the main thread goes on serving meanwhile.
 */
function sendGzip(res: ServerResponse, code: number, body: string | Buffer, headers: Record<string, string | number>): void {
  if (body.length <= syncGzipMaxBytes) return sendGzipped(res, code, zlib.gzipSync(body, { level: 1 }), headers);
  zlib.gzip(body, { level: 1 }, (err, gz) => {
    if (err) return sendPlain(res, code, body, headers);
    sendGzipped(res, code, gz, headers);
  });
}

/** The Vary header of a gzip-encoded answer: the caller's, plus Accept-Encoding. */
export function gzipVary(headers: Record<string, string | number>): string {
  return headers.Vary ? `${headers.Vary}, Accept-Encoding` : 'Accept-Encoding';
}

/** A body compressed already, with its length. */
export function sendGzipped(res: ServerResponse, code: number, gz: Buffer, headers: Record<string, string | number>): void {
  res.writeHead(code, { ...headers, Vary: gzipVary(headers), 'Content-Encoding': 'gzip', 'Content-Length': gz.length });
  res.end(gz);
}

function sendPlain(res: ServerResponse, code: number, body: string | Buffer, headers: Record<string, string | number>): void {
  res.writeHead(code, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  // A big string (a Table of thousands of rows) goes in pieces, not encoded whole into one buffer.
  if (typeof body === 'string' && body.length > 4 * PIECE_CHARS) return writeInPieces(res, slices(body));
  res.end(body);
}

/** Write a body of known headers, compressed when it is big and the client accepts gzip. */
export function sendBody(res: ServerResponse, code: number, body: string | Buffer, headers: Record<string, string | number>): void {
  if (body.length >= gzipMinBytes && acceptsGzip(res.req)) sendGzip(res, code, body, headers);
  else sendPlain(res, code, body, headers);
}

export function sendJSON(res: ServerResponse, code: number, body: string | object, headers: Record<string, string> = {}): void {
  let text = typeof body === 'string' ? body : stringifyJSON(body);
  if (prettyRequested(res.req)) text = indentJSON(text);
  sendBody(res, code, text, { 'Content-Type': 'application/json', ...headers });
}

/**
 * JSON text indented by two spaces, as Go's json.Indent does it (empty objects and arrays stay
 * `{}` and `[]`). Works on the text, without parsing: any depth, numbers exactly as written.
 */
export function indentJSON(text: string): string {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const newline = () => '\n' + '  '.repeat(depth);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string, escapes included.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      if (text.charCodeAt(i + 1) === close) {
        i++;
        continue;
      }
      depth++;
      out.push(text.slice(start, i + 1), newline());
      start = i + 1;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      out.push(text.slice(start, i), newline());
      start = i;
    } else if (c === 0x2c) {
      out.push(text.slice(start, i + 1), newline());
      start = i + 1;
    } else if (c === 0x3a) {
      out.push(text.slice(start, i + 1), ' ');
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.join('');
}

export function sendStatusError(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJSON(res, err.code, err.toStatus(), err.headers ?? {});
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) {
    req.resume();
    return Promise.reject(errors.tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > maxBodyBytes) {
        failed = true;
        reject(errors.tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      keepBodyFor(req, body);
      resolve(body);
    });
    req.on('error', (e) => {
      if (!failed) reject(errors.badRequest(`error reading request body: ${e.message}`));
    });
  });
}

/** The media type of a Content-Type header without parameters, lower-cased. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

/** Decode a create/update body as JSON or YAML, with clear 400/415 errors. */
export function decodeObjectBody(body: Buffer, contentType: string | undefined): any {
  const mt = mediaType(contentType);
  if (body.length === 0) throw errors.badRequest('the request body is empty: send a JSON or YAML object');
  let value: unknown;
  if (mt === 'application/json' || mt === '' || mt === 'application/*' || mt === '*/*') {
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw errors.badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
    }
    checkNesting(value, 'the request body', body.length);
  } else if (mt === 'application/yaml' || mt === 'application/x-yaml' || mt === 'text/yaml') {
    value = decodeYAMLBody(body);
  } else if (mt === 'application/vnd.kubernetes.protobuf') {
    // kubectl's typed clients (create namespace/deployment/..., drain) send protobuf.
    value = decodeKubernetesProtobuf(body).object;
    // Only embedded JSON (RawExtension) can nest; each level of it takes two bytes.
    checkNesting(value, 'the request body', body.length);
  } else if (mt === 'application/cbor') {
    throw errors.unsupportedMediaType(`the body of the request was in an unsupported format (${mt}): Mizzen accepts application/json, application/yaml and application/vnd.kubernetes.protobuf`);
  } else {
    throw errors.unsupportedMediaType(
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got "${contentType}")`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw errors.badRequest('the request body must be a JSON object (a Kubernetes resource), not ' + (Array.isArray(value) ? 'an array' : String(value === null ? 'null' : typeof value)));
  return value;
}

/**
 * One YAML document. The YAML parser recurses per level of nesting and runs out of stack after
 * some hundreds of levels of flow collections (`[[[...]]]`), far fewer than upstream's 10,000:
 * such a body is refused as too deeply nested, as it would be past upstream's limit.
 */
function decodeYAMLBody(body: Buffer): unknown {
  let value: unknown;
  try {
    const docs = YAML.parseAllDocuments(body.toString('utf8'));
    if (docs.length !== 1) throw new Error(`expected one YAML document, found ${docs.length}`);
    if (docs[0].errors.length) throw docs[0].errors[0];
    value = docs[0].toJS();
  } catch (e) {
    if (/call stack/i.test((e as Error).message))
      throw errors.badRequest("the request body is nested too deeply for the server's YAML parser (it gives up after some hundreds of levels of [ and {); send it as JSON, which may nest up to 10000 levels");
    throw errors.badRequest(`the request body is not valid YAML: ${(e as Error).message}`);
  }
  checkNesting(value, 'the request body', body.length, 1);
  return value;
}

/** Parses an Accept header into media ranges with parameters. */
export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: 'application/json', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...ps] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim()] = p.slice(i + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}
