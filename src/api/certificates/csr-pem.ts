// The PEM and DER checks CSR validation needs, without a certificate library (validation is
// synchronous and runs on the request path): a `CERTIFICATE REQUEST` PEM block whose DER is a
// PKCS#10 CertificationRequest, SEQUENCE { info SEQUENCE, algorithm SEQUENCE, signature BIT STRING }.

export function pemBlocks(text: string): { type: string; der: Buffer }[] {
  const out: { type: string; der: Buffer }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) continue;
    out.push({ type: m[1]!, der: Buffer.from(body, 'base64') });
  }
  return out;
}

/** One DER element at `at`: its tag, where its content starts and ends; undefined if malformed. */
export function derElement(b: Buffer, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > b.length) return undefined;
  const tag = b[at]!;
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > b.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  const end = start + len;
  return end <= b.length ? { tag, start, end } : undefined;
}

/** An error message when `pem` (the decoded spec.request) is not one PKCS#10 request, else undefined. */
export function checkCertificateRequestPem(pem: string): string | undefined {
  const blocks = pemBlocks(pem);
  const csr = blocks.find((b) => b.type === 'CERTIFICATE REQUEST' || b.type === 'NEW CERTIFICATE REQUEST');
  if (!csr) return 'PEM block type must be CERTIFICATE REQUEST';
  const der = csr.der;
  const outer = derElement(der, 0);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) return 'asn1: structure error: not a certificate request';
  const info = derElement(der, outer.start);
  const alg = info && derElement(der, info.end);
  const sig = alg && derElement(der, alg.end);
  if (!info || info.tag !== 0x30 || !alg || alg.tag !== 0x30 || !sig || sig.tag !== 0x03 || sig.end !== outer.end) return 'asn1: structure error: not a certificate request';
  return undefined;
}
