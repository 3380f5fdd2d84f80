/**
 * X25519 (RFC 7748 §5) on BigInt, for the page only: a browser runs it in milliseconds, and it is a seventh
 * of the size of the firmware's interpreter-tuned X25519 (src/crypto/x25519.ts), which keeps the page
 * within its gzip budget. BigInt needs Safari/iOS 14 or Chrome/WebView 67. Not constant time; the client's
 * key lives for one session. Literals go through BigInt() since `1n` is ES2020 syntax and the page is ES2017.
 */
const big = BigInt, _0 = big(0), _1 = big(1), P = (_1 << big(255)) - big(19), A24 = big(121665);

/** Little-endian bytes to an integer. */
function num(b: Uint8Array): bigint {
  let r = _0;
  for (let i = b.length; i--; ) r = (r << big(8)) + big(b[i]!);
  return r;
}

/** X25519(k, u): scalar clamped, u's top bit masked, as RFC 7748 §5 requires; u = 9 (the base point) when absent. */
export function x25519(k: Uint8Array, u?: Uint8Array): Uint8Array {
  const s = (num(k) & ((_1 << big(254)) - big(8))) | (_1 << big(254));
  const x1 = u ? (num(u) & ((_1 << big(255)) - _1)) % P : big(9);
  let x2 = _1, z2 = _0, x3 = x1, z3 = _1, t: bigint;
  for (let i = 254; i >= 0; i--) {
    // The RFC's conditional swap, as a plain branch (timing is not a concern here, see above).
    if ((s >> big(i)) & _1) (t = x2), (x2 = x3), (x3 = t), (t = z2), (z2 = z3), (z3 = t);
    const a = x2 + z2, aa = (a * a) % P, b = x2 - z2, bb = (b * b) % P, e = aa - bb;
    const da = ((x3 - z3) * a) % P, cb = ((x3 + z3) * b) % P;
    x3 = ((da + cb) * (da + cb)) % P;
    z3 = (x1 * (((da - cb) * (da - cb)) % P)) % P;
    x2 = (aa * bb) % P;
    z2 = (e * (aa + A24 * e)) % P;
    if ((s >> big(i)) & _1) (t = x2), (x2 = x3), (x3 = t), (t = z2), (z2 = z3), (z3 = t);
  }
  // x2 / z2 = x2 · z2^(p-2) (Fermat), then reduced into 0..p-1 (intermediates may be negative).
  let r = _1;
  for (let e = P - big(2), b = z2; e; e >>= _1, b = (b * b) % P) if (e & _1) r = (r * b) % P;
  r = (((x2 * r) % P) + P) % P;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, r >>= big(8)) out[i] = Number(r & big(255));
  return out;
}
