// HPACK (RFC 7541) for the etcd client's own HTTP/2 (h2-unary.ts). Requests need no encoder
// state: their header blocks are built once per method, as literals without indexing (static
// table names, no Huffman), which every peer must accept. Responses come from grpc-go's encoder,
// which uses the dynamic table and Huffman-coded strings, so the decoder is complete: indexed
// fields, the three literal kinds, table size updates, and Huffman decoding.

/** The static table (RFC 7541 Appendix A), 1-based: [name, value]. */
const STATIC: [string, string][] = [
  ['', ''],
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];
const STATIC_COUNT = STATIC.length - 1;

// The Huffman code (RFC 7541 Appendix B) is canonical: codes of one length are consecutive in
// symbol order, shorter codes first. So the bit length of each symbol (0-255, then EOS = 256) is
// all it takes to rebuild it; hpack.test.ts checks codes against the RFC's table.
const LENGTHS =
  '13,23,28,28,28,28,28,28,28,24,30,28,28,30,28,28,28,28,28,28,28,28,30,28,28,28,28,28,28,28,28,28,' +
  '6,10,10,12,13,6,8,11,10,10,8,11,8,6,6,6,5,5,5,6,6,6,6,6,6,6,7,8,15,6,12,10,' +
  '13,6,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,8,7,8,13,19,13,14,6,' +
  '15,5,6,5,6,5,6,6,6,5,7,7,6,6,6,5,6,7,6,5,5,6,7,7,7,7,7,15,11,14,13,28,' +
  '20,22,20,20,22,22,22,23,22,23,23,23,23,23,24,23,24,24,22,23,24,23,23,23,23,21,22,23,22,23,23,24,' +
  '22,21,20,22,22,23,23,21,23,22,22,24,21,22,23,23,21,21,22,21,23,22,23,23,20,22,22,22,23,22,22,23,' +
  '26,26,20,19,22,23,22,25,26,26,26,27,27,26,24,25,19,21,26,27,27,26,27,24,21,21,26,26,28,27,27,27,' +
  '20,24,20,21,22,21,21,23,22,22,25,25,24,24,26,23,26,27,26,26,27,27,27,27,27,28,27,27,27,27,27,26,' +
  '30';

/** Canonical decoding tables: per length, the first code, how many codes, and where their symbols start in `bySymbolOrder`. */
const HUFF = (() => {
  const len = LENGTHS.split(',').map(Number);
  const order = len.map((l, sym) => ({ l, sym })).sort((a, b) => a.l - b.l || a.sym - b.sym);
  const first = new Array<number>(31).fill(0);
  const count = new Array<number>(31).fill(0);
  const start = new Array<number>(31).fill(0);
  const codes = new Array<number>(257).fill(0);
  let code = 0;
  let prev = order[0].l;
  order.forEach(({ l, sym }, i) => {
    code *= 2 ** (l - prev);
    prev = l;
    if (count[l] === 0) {
      first[l] = code;
      start[l] = i;
    }
    count[l]++;
    codes[sym] = code;
    code++;
  });
  return { first, count, start, symbols: order.map((o) => o.sym), codes, lengths: len };
})();

/** The code and length of a symbol (for tests). */
export function huffmanCode(sym: number): { code: number; bits: number } {
  return { code: HUFF.codes[sym], bits: HUFF.lengths[sym] };
}

export class HpackError extends Error {}

/** Decode a Huffman-coded string (RFC 7541 5.2): padding must be a prefix of EOS, under 8 bits. */
export function huffmanDecode(buf: Buffer, from: number, to: number): string {
  const { first, count, start, symbols } = HUFF;
  let out = '';
  let code = 0;
  let bits = 0;
  let ones = true;
  for (let i = from; i < to; i++) {
    const byte = buf[i];
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      code = code * 2 + bit;
      bits++;
      ones &&= bit === 1;
      if (bits >= 5 && code >= first[bits] && code - first[bits] < count[bits]) {
        const sym = symbols[start[bits] + code - first[bits]];
        if (sym === 256) throw new HpackError('EOS in a Huffman-coded string');
        out += String.fromCharCode(sym);
        code = 0;
        bits = 0;
        ones = true;
      } else if (bits >= 30) throw new HpackError('invalid Huffman code');
    }
  }
  if (bits > 7 || !ones) throw new HpackError('invalid Huffman padding');
  return out;
}

export type HeaderList = [string, string][];

/** One connection's decoder: the dynamic table lives as long as the connection. */
export class HpackDecoder {
  /** Newest first. */
  private table: [string, string][] = [];
  private size = 0;
  /** What SETTINGS_HEADER_TABLE_SIZE allows (we announce the default, 4096). */
  constructor(private maxSize = 4096) {}

  private pos = 0;
  private buf: Buffer = Buffer.alloc(0);

  decode(block: Buffer): HeaderList {
    this.buf = block;
    this.pos = 0;
    const out: HeaderList = [];
    let sawField = false;
    while (this.pos < block.length) {
      const b = block[this.pos];
      if (b & 0x80) {
        out.push(this.entry(this.int(7)));
        sawField = true;
      } else if (b & 0x40) {
        const idx = this.int(6);
        const name = idx ? this.entry(idx)[0] : this.str();
        const field: [string, string] = [name, this.str()];
        this.add(field);
        out.push(field);
        sawField = true;
      } else if (b & 0x20) {
        if (sawField) throw new HpackError('dynamic table size update after a header field');
        const n = this.int(5);
        if (n > 4096) throw new HpackError(`dynamic table size ${n} above the announced 4096`);
        this.maxSize = n;
        this.evict();
      } else {
        // 0000 (without indexing) and 0001 (never indexed): the same to a decoder.
        const idx = this.int(4);
        const name = idx ? this.entry(idx)[0] : this.str();
        out.push([name, this.str()]);
        sawField = true;
      }
    }
    return out;
  }

  private entry(idx: number): [string, string] {
    if (idx === 0) throw new HpackError('header index 0');
    if (idx <= STATIC_COUNT) return STATIC[idx];
    const e = this.table[idx - STATIC_COUNT - 1];
    if (!e) throw new HpackError(`header index ${idx} out of range`);
    return e;
  }

  private add(f: [string, string]): void {
    const n = f[0].length + f[1].length + 32;
    this.table.unshift(f);
    this.size += n;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize && this.table.length) {
      const e = this.table.pop()!;
      this.size -= e[0].length + e[1].length + 32;
    }
  }

  private int(prefixBits: number): number {
    const buf = this.buf;
    const max = (1 << prefixBits) - 1;
    let v = buf[this.pos++] & max;
    if (v < max) return v;
    let m = 1;
    for (;;) {
      if (this.pos >= buf.length) throw new HpackError('truncated integer');
      const b = buf[this.pos++];
      v += (b & 0x7f) * m;
      m *= 128;
      if (!(b & 0x80)) return v;
      if (m > 2 ** 28) throw new HpackError('integer too large');
    }
  }

  private str(): string {
    if (this.pos >= this.buf.length) throw new HpackError('truncated string');
    const huffman = (this.buf[this.pos] & 0x80) !== 0;
    const n = this.int(7);
    const end = this.pos + n;
    if (end > this.buf.length) throw new HpackError('truncated string');
    const s = huffman ? huffmanDecode(this.buf, this.pos, end) : this.buf.toString('latin1', this.pos, end);
    this.pos = end;
    return s;
  }
}

function encodeInt(out: number[], prefix: number, prefixBits: number, v: number): void {
  const max = (1 << prefixBits) - 1;
  if (v < max) {
    out.push(prefix | v);
    return;
  }
  out.push(prefix | max);
  v -= max;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function encodeStr(out: number[], s: string): void {
  const b = Buffer.from(s, 'latin1');
  encodeInt(out, 0, 7, b.length);
  for (const x of b) out.push(x);
}

const STATIC_NAME = new Map<string, number>();
for (let i = STATIC_COUNT; i >= 1; i--) STATIC_NAME.set(STATIC[i][0], i);

/**
 * A request's header block with no encoder state: fields whose name and value are in the static
 * table are indexed, the rest are literals without indexing (the name indexed when it is in the
 * static table), strings raw.
 */
export function encodeHeaderBlock(fields: HeaderList): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const full = STATIC.findIndex(([n, v], i) => i > 0 && n === name && v === value);
    if (full > 0) {
      encodeInt(out, 0x80, 7, full);
      continue;
    }
    const idx = STATIC_NAME.get(name) ?? 0;
    encodeInt(out, 0x00, 4, idx);
    if (!idx) encodeStr(out, name);
    encodeStr(out, value);
  }
  return Buffer.from(out);
}
