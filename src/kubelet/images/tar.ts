// A small, deterministic tar writer (POSIX ustar, with pax extended headers where ustar cannot
// say it: long or non-ASCII names, long link targets, files of 8 GiB or more). Image layers must
// hash the same on every machine and every run, so every entry gets a fixed mtime (default 0),
// uid/gid 0 and the names root/root unless told otherwise.

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

export interface TarEntry {
  /** Path inside the archive, relative ('bin/sh'); a directory may end with '/'. */
  path: string;
  type: TarEntryType;
  /** Permission bits (and setuid/setgid/sticky); default 0o755 directories, 0o777 symlinks, else 0o644. */
  mode?: number;
  /** File contents (files only). */
  data?: Buffer;
  /** Target of a symlink, or the archive path of a hard link's original. */
  linkTarget?: string;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch; default 0 (or TarOptions.mtime). */
  mtime?: number;
}

export interface TarOptions {
  /** mtime of entries that set none (default 0). */
  mtime?: number;
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryType | 'pax', string> = { file: '0', hardlink: '1', symlink: '2', directory: '5', pax: 'x' };
const MAX_OCTAL_11 = 0o77777777777; // largest number an 11-digit octal size/mtime field holds

/** Builds the whole archive in memory (image layers here are a few MB). */
export function createTar(entries: Iterable<TarEntry>, options: TarOptions = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    for (const b of entryBlocks(e, options)) parts.push(b);
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end of archive: two zero blocks
  return Buffer.concat(parts);
}

function entryBlocks(e: TarEntry, options: TarOptions): Buffer[] {
  let path = e.path.replace(/^\/+/, '');
  if (path === '') throw new Error('tar entry with an empty path');
  if (e.type === 'directory' && !path.endsWith('/')) path += '/';
  const data = e.type === 'file' ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
  const link = e.type === 'symlink' || e.type === 'hardlink' ? e.linkTarget : undefined;
  if (link === undefined && (e.type === 'symlink' || e.type === 'hardlink')) throw new Error(`tar entry ${path}: ${e.type} without a target`);
  const mtime = e.mtime ?? options.mtime ?? 0;

  const pax: [string, string][] = [];
  const split = splitUstarPath(path);
  if (!split) pax.push(['path', path]);
  if (link !== undefined && (Buffer.byteLength(link) > 100 || !isAscii(link))) pax.push(['linkpath', link]);
  if (data.length > MAX_OCTAL_11) pax.push(['size', String(data.length)]);

  const blocks: Buffer[] = [];
  if (pax.length) {
    const body = paxRecords(pax);
    const paxName = `PaxHeaders/${path.replace(/\/$/, '').split('/').pop()!.slice(0, 80)}`;
    blocks.push(header({ name: paxName, prefix: '', typeflag: TYPEFLAG.pax, mode: 0o644, size: body.length, mtime, uid: 0, gid: 0, uname: '', gname: '', linkname: '' }));
    blocks.push(padded(body));
  }
  const fallbackName = split ?? { name: asciiTail(path, 100), prefix: '' };
  blocks.push(
    header({
      name: fallbackName.name,
      prefix: fallbackName.prefix,
      typeflag: TYPEFLAG[e.type],
      mode: e.mode ?? (e.type === 'directory' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644),
      size: data.length > MAX_OCTAL_11 ? 0 : data.length,
      mtime,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      uname: e.uname ?? 'root',
      gname: e.gname ?? 'root',
      linkname: link === undefined ? '' : Buffer.byteLength(link) <= 100 && isAscii(link) ? link : asciiTail(link, 100),
    }),
  );
  if (data.length) blocks.push(padded(data));
  return blocks;
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** A placeholder for ustar fields whose real value is in the pax header. */
function asciiTail(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(-max);
}

/** ustar keeps a path as prefix (155 bytes) + '/' + name (100 bytes); undefined if it cannot. */
function splitUstarPath(path: string): { name: string; prefix: string } | undefined {
  if (!isAscii(path)) return undefined;
  if (path.length <= 100) return { name: path, prefix: '' };
  // Split at a slash so that both halves fit; a trailing '/' of a directory stays in the name.
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/' || i === path.length - 1) continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { name, prefix };
    if (prefix.length > 155) continue;
    break;
  }
  return undefined;
}

/** pax records are "LEN key=value\n" where LEN counts the whole record including itself. */
function paxRecords(records: [string, string][]): Buffer {
  let out = '';
  for (const [k, v] of records) {
    const rest = ` ${k}=${v}\n`;
    const restLen = Buffer.byteLength(rest);
    let len = restLen + String(restLen).length;
    if (String(len).length !== String(restLen).length) len = restLen + String(len).length;
    out += `${len}${rest}`;
  }
  return Buffer.from(out, 'utf8');
}

interface Header {
  name: string;
  prefix: string;
  typeflag: string;
  mode: number;
  size: number;
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  linkname: string;
}

function header(h: Header): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  b.write(h.typeflag, 156, 1, 'ascii');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'ascii');
  b.write(h.uname, 265, 32, 'utf8');
  b.write(h.gname, 297, 32, 'utf8');
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  b.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return b;
}

/** A zero-padded octal number filling `width - 1` digits and a NUL. */
function octal(b: Buffer, offset: number, width: number, value: number): void {
  const digits = Math.max(0, Math.floor(value)).toString(8);
  if (digits.length > width - 1) throw new Error(`tar: ${value} does not fit a ${width}-byte field`);
  b.write(`${digits.padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}

function padded(data: Buffer): Buffer {
  const rem = data.length % BLOCK;
  return rem === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rem)]);
}
