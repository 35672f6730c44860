// Reads the table of contents of a tar file without loading it: image archives can be large, and
// only their small JSON members (index.json, manifest.json, manifests, configs) are ever read
// here, to learn which images an archive holds before importing it. Understands ustar, pax
// ('x') path/size records and GNU long names ('L'); global pax headers are skipped.

import { openSync, readSync, closeSync, fstatSync } from 'node:fs';

export interface TarMember {
  path: string;
  /** '0' file, '1' hard link, '2' symlink, '5' directory, ... */
  typeflag: string;
  size: number;
  /** Byte offset of the member's data in the file. */
  offset: number;
}

const BLOCK = 512;

export class TarFile {
  private readonly fd: number;
  private readonly fileSize: number;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'r');
    this.fileSize = fstatSync(this.fd).size;
  }

  close(): void {
    closeSync(this.fd);
  }

  private read(offset: number, length: number): Buffer {
    const b = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, b, got, length - got, offset + got);
      if (n === 0) throw new Error(`${this.file}: unexpected end of tar data`);
      got += n;
    }
    return b;
  }

  /** Every member, in order. Throws on a file that is not a tar archive. */
  members(): TarMember[] {
    const out: TarMember[] = [];
    let offset = 0;
    let pending: { path?: string; size?: number } = {};
    while (offset + BLOCK <= this.fileSize) {
      const h = this.read(offset, BLOCK);
      if (h.every((x) => x === 0)) break;
      if (!checksumOk(h)) throw new Error(`${this.file}: not a tar archive (bad header checksum at byte ${offset})`);
      const typeflag = String.fromCharCode(h[156]!) || '0';
      let size = parseNumber(h.subarray(124, 136));
      const dataOffset = offset + BLOCK;
      const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      if (typeflag === 'x' || typeflag === 'g') {
        if (typeflag === 'x') pending = { ...pending, ...parsePax(this.read(dataOffset, size)) };
      } else if (typeflag === 'L') {
        pending.path = cString(this.read(dataOffset, size));
      } else {
        const magic = h.toString('ascii', 257, 262);
        const prefix = magic === 'ustar' ? cString(h.subarray(345, 500)) : '';
        const name = cString(h.subarray(0, 100));
        if (pending.size !== undefined) size = pending.size;
        out.push({ path: normalize(pending.path ?? (prefix ? `${prefix}/${name}` : name)), typeflag: typeflag === '\0' ? '0' : typeflag, size, offset: dataOffset });
        pending = {};
        offset = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
        continue;
      }
      offset = next;
    }
    return out;
  }

  readMember(m: TarMember, maxBytes = 16 * 1024 * 1024): Buffer {
    if (m.size > maxBytes) throw new Error(`${this.file}: ${m.path} is larger than ${maxBytes} bytes`);
    return this.read(m.offset, m.size);
  }
}

function normalize(p: string): string {
  return p.replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString('utf8', 0, end === -1 ? b.length : end);
}

function parseNumber(field: Buffer): number {
  if (field[0]! & 0x80) {
    // GNU base-256 for large values.
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return v;
  }
  const s = cString(field).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  const stored = parseInt(cString(h.subarray(148, 156)).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return stored === sum;
}

function parsePax(body: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(body.toString('ascii', i, sp), 10);
    if (!(len > 0)) break;
    const rec = body.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    const key = rec.slice(0, eq);
    const value = rec.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'size') out.size = Number(value);
    i += len;
  }
  return out;
}
