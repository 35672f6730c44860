// A tiny protobuf writer for building test bodies by hand (tests only).

function varint(v: bigint | number): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x ? b | 0x80 : b);
  } while (x);
  return out;
}

const key = (field: number, wire: number) => varint(field * 8 + wire);

export const pb = {
  /** A varint field (int32/int64/bool); negative numbers use 10-byte two's complement, as Go does. */
  int: (field: number, v: number | bigint | boolean) => Uint8Array.from([...key(field, 0), ...varint(typeof v === 'boolean' ? (v ? 1 : 0) : v)]),
  bytes: (field: number, b: Uint8Array) => Uint8Array.from([...key(field, 2), ...varint(b.length), ...b]),
  str: (field: number, s: string) => pb.bytes(field, new TextEncoder().encode(s)),
  msg: (field: number, ...parts: Uint8Array[]) => pb.bytes(field, cat(...parts)),
  /** One map entry: { key = 1, value = 2 }. */
  entry: (field: number, k: string, value: Uint8Array) => pb.msg(field, pb.str(1, k), value),
  /** metav1.Time / MicroTime as a message field. */
  time: (field: number, seconds: number, nanos = 0) => pb.msg(field, pb.int(1, seconds), ...(nanos ? [pb.int(2, nanos)] : [])),
  quantity: (field: number, s: string) => pb.msg(field, pb.str(1, s)),
  intOrString: (field: number, v: number | string) =>
    typeof v === 'number' ? pb.msg(field, pb.int(1, 0), pb.int(2, v), pb.str(3, '')) : pb.msg(field, pb.int(1, 1), pb.int(2, 0), pb.str(3, v)),
};

export function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** The full body: magic + runtime.Unknown{typeMeta, raw, contentEncoding, contentType}. */
export function k8sBody(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const unknown = cat(pb.msg(1, pb.str(1, apiVersion), pb.str(2, kind)), pb.bytes(2, raw), pb.str(3, ''), pb.str(4, ''));
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), Buffer.from(unknown)]);
}
