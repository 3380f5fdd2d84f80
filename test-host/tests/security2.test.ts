// Security 2 (SRP6a-3072 + AES-256-GCM) at unit level: a host reference of SRP written here from RFC 5054 §2.5-2.6
// and ESP-IDF's choices (SHA-512, the 3072-bit group, k = H(N | PAD(g)), u = H(PAD(A) | PAD(B)), K = H(S),
// M = H(H(N) ^ H(PAD(g)) | H(I) | s | A | B | K), H(A | M | K)), checked against RFC 5054 Appendix B and ESP-IDF's
// wifi_prov_mgr example verifier, then the firmware's security2.ts against it with BigInt big-number operations.
import { test } from "node:test";
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { BigOps, makeVerifier, security2, srpX, Verifier } from "../../src/protocomm/security2";
import { hngBytes, kBytes, nBytes, r2Bytes } from "../../src/protocomm/srp";
import { createThrottle } from "../../src/protocomm/throttle";
import { createProtocomm, Kind } from "../../src/protocomm/protocomm";
import { decode, encode } from "../../src/proto/codec";
import { D_SessionData, SessionData } from "../../src/proto/schema.gen";
import { CryptoPort, KvPort } from "../../src/ports/ports";
import { convolveJs, gatherJs } from "../../src/crypto/x25519";
import { sha512 as jsSha512 } from "../../src/crypto/sha512";

// ---- host reference (RFC 5054), any hash and group ----
const big = (b: Uint8Array) => (b.length ? BigInt("0x" + Buffer.from(b).toString("hex")) : 0n);
function bytes(x: bigint, len = 0): Buffer {
  let h = x.toString(16);
  if (h.length % 2) h = "0" + h;
  const b = Buffer.from(h, "hex");
  return len > b.length ? Buffer.concat([Buffer.alloc(len - b.length), b]) : b;
}
function pow(b: bigint, e: bigint, m: bigint) {
  let r = 1n;
  for (b %= m; e; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}
function reference(hash: string, N: bigint, g: bigint) {
  const H = (...p: Uint8Array[]) => { const h = nodeCrypto.createHash(hash); p.forEach((x) => h.update(x)); return h.digest(); };
  const L = bytes(N).length, PAD = (x: bigint) => bytes(x, L);
  const k = big(H(bytes(N), PAD(g)));
  const x = (s: Uint8Array, I: string, P: string) => big(H(s, H(Buffer.from(`${I}:${P}`))));
  const u = (A: bigint, B: bigint) => big(H(PAD(A), PAD(B)));
  const hg = H(PAD(g)), hng = Buffer.from(H(bytes(N)).map((b, i) => b ^ hg[i]!));
  return {
    H, k, x, u,
    v: (s: Uint8Array, I: string, P: string) => pow(g, x(s, I, P), N),
    A: (a: bigint) => pow(g, a, N),
    B: (v: bigint, b: bigint) => (k * v + pow(g, b, N)) % N,
    clientS: (B: bigint, a: bigint, xx: bigint, uu: bigint) => pow((((B - k * pow(g, xx, N)) % N) + N) % N, a + uu * xx, N),
    serverS: (A: bigint, v: bigint, uu: bigint, b: bigint) => pow((A * pow(v, uu, N)) % N, b, N),
    M: (I: string, s: Uint8Array, A: bigint, B: bigint, K: Uint8Array) => H(hng, H(Buffer.from(I)), s, bytes(A), bytes(B), K),
    HAMK: (A: bigint, M: Uint8Array, K: Uint8Array) => H(bytes(A), M, K),
  };
}
const N3072 = big(nBytes());
const ref = reference("sha512", N3072, 5n);

test("host reference reproduces RFC 5054 Appendix B (SHA-1, 1024-bit group, g = 2)", () => {
  const N = BigInt("0xEEAF0AB9ADB38DD69C33F80AFA8FC5E86072618775FF3C0B9EA2314C9C256576D674DF7496EA81D3383B4813D692C6E0E0D5D8E250B98BE48E495C1D6089DAD15DC7D7B46154D6B6CE8EF4AD69B15D4982559B297BCF1885C529F566660E57EC68EDBC3C05726CC02FD4CBF4976EAA9AFD5138FE8376435B9FC61D2FC0EB06E3");
  const r = reference("sha1", N, 2n), s = Buffer.from("BEB25379D1A8581EB5A727673A2441EE", "hex");
  const a = BigInt("0x60975527035CF2AD1989806F0407210BC81EDC04E2762A56AFD529DDDA2D4393");
  const b = BigInt("0xE487CB59D31AC550471E81F00F6928E01DDA08E974A004F49E61F5D105284D20");
  const hexOf = (x: bigint) => x.toString(16).toUpperCase();
  assert.equal(hexOf(r.k), "7556AA045AEF2CDD07ABAF0F665C3E818913186F");
  const x = r.x(s, "alice", "password123");
  assert.equal(hexOf(x), "94B7555AABE9127CC58CCF4993DB6CF84D16C124");
  const v = r.v(s, "alice", "password123");
  assert.equal(hexOf(v), "7E273DE8696FFC4F4E337D05B4B375BEB0DDE1569E8FA00A9886D8129BADA1F1822223CA1A605B530E379BA4729FDC59F105B4787E5186F5C671085A1447B52A48CF1970B4FB6F8400BBF4CEBFBB168152E08AB5EA53D15C1AFF87B2B9DA6E04E058AD51CC72BFC9033B564E26480D78E955A5E29E7AB245DB2BE315E2099AFB");
  const A = r.A(a), B = r.B(v, b);
  assert.equal(hexOf(A), "61D5E490F6F1B79547B0704C436F523DD0E560F0C64115BB72557EC44352E8903211C04692272D8B2D1A5358A2CF1B6E0BFCF99F921530EC8E39356179EAE45E42BA92AEACED825171E1E8B9AF6D9C03E1327F44BE087EF06530E69F66615261EEF54073CA11CF5858F0EDFDFE15EFEAB349EF5D76988A3672FAC47B0769447B");
  assert.equal(hexOf(B), "BD0C61512C692C0CB6D041FA01BB152D4916A1E77AF46AE105393011BAF38964DC46A0670DD125B95A981652236F99D9B681CBF87837EC996C6DA04453728610D0C6DDB58B318885D7D82C7F8DEB75CE7BD4FBAA37089E6F9C6059F388838E7A00030B331EB76840910440B1B27AAEAEEB4012B7D7665238A8E3FB004B117B58");
  const u = r.u(A, B);
  assert.equal(hexOf(u), "CE38B9593487DA98554ED47D70A7AE5F462EF019");
  const S = "B0DC82BABCF30674AE450C0287745E7990A3381F63B387AAF271A10D233861E359B48220F7C4693C9AE12B0A6F67809F0876E2D013800D6C41BB59B6D5979B5C00A172B4A2A5903A0BDCAF8A709585EB2AFAFA8F3499B200210DCC1F10EB33943CD67FC88A2F39A4BE5BEC4EC0A3212DC346D7E474B29EDE8A469FFECA686E5A";
  assert.equal(hexOf(r.clientS(B, a, x, u)), S);
  assert.equal(hexOf(r.serverS(A, v, u, b)), S);
});

test("ESP-IDF's choices: the group constants of srp.ts and the wifi_prov_mgr example's salt/verifier for wifiprov/abcd1234", () => {
  const hx = (b: Uint8Array) => Buffer.from(b).toString("hex");
  assert.equal(hx(kBytes()), ref.k.toString(16).padStart(128, "0"));
  assert.equal(hx(r2Bytes()), ((1n << 6144n) % N3072).toString(16).padStart(768, "0"), "R² mod N, R = 2^3072");
  const hg = ref.H(bytes(5n, 384)), hn = ref.H(bytes(N3072));
  assert.equal(hx(hngBytes()), Buffer.from(hn.map((b, i) => b ^ hg[i]!)).toString("hex"));
  // examples/provisioning/wifi_prov_mgr/main/app_main.c (v5.5) sec2_salt / sec2_verifier, made by esp_prov --sec2_gen_cred.
  const salt = Buffer.from("036ee0c7bcb9eda84c9eac97d93decf4", "hex");
  const verifier = "7c7c85476508946dd636af37d7e8914378cffd616c59d2f83908127238de9e24a470261cdfa903c2b270e7b13224da111d9718dc607208cc9ac90c4827e2ae89" +
    "aa1625b804d21a9b3a8f37f6e43a712ee127866eadce28ff5446601fb99687dc5740a7d46cc97754dc1682f0ed356ac470ad3d90b5819470d7bc65b2d518e02e" +
    "c3a5f968dd647bb8b73c9cfc00d8717eb79a7cb1b7c2c318342932433e0099e98294e3d82ab09629b7df0e5f08334076529132009f972c896c391ec828054417" +
    "3f68028a9f4461d1f5a17e5a70d2c72381cb3868e42c20bc40577617bd08b896bc26eb32466935058c1570d91be9becca938a667f0ad5013197264bf52c234e2" +
    "1b11797472bd345bb1e2fd6673fe716474d04ebc51241940870e9240e621e72d4e37762f2ee268c789e8321342068484534ab30c1b4c8d1c519719abae77ffdb" +
    "ecf0109534336bcb3e840fb9d85fb8a0b855533e70f718f5ce7b4ebf27cecea8b3be40c5c532293e71649ede8cf675a1e6f653c831a878de5040f762de36b2ba";
  assert.equal(bytes(ref.v(salt, "wifiprov", "abcd1234")).toString("hex"), verifier);
  assert.equal(Buffer.from(srpX(jsSha512, salt, "wifiprov", "abcd1234")).toString("hex"), bytes(ref.x(salt, "wifiprov", "abcd1234"), 64).toString("hex"));
});

// ---- the firmware's security2 with BigInt operations ----
const quiet = { e() {}, w() {}, i() {}, d() {} };
export function bigintOps(log: string[] = []): BigOps {
  return {
    exp: (b, e, done) => { log.push("exp"); done(bytes(pow(big(b), big(e), N3072), 384)); },
    mul: (a, b, done) => { log.push("mul"); assert.ok(big(a) < N3072 && big(b) < N3072); done(bytes((big(a) * big(b)) % N3072, 384)); },
    add: (a, b) => bytes((big(a) + big(b)) % N3072, 384),
    ready: (cb) => cb(""),
  };
}
function kv(): KvPort {
  const m = new Map<string, string>();
  return { read: (k) => m.get(k), write: (k, v) => void m.set(k, v), erase: (k) => void m.delete(k) };
}
const nodeCryptoPort: CryptoPort = {
  random: (n) => new Uint8Array(nodeCrypto.randomBytes(n)),
  sha256: (d) => nodeCrypto.createHash("sha256").update(d).digest(),
  sha512: (d) => nodeCrypto.createHash("sha512").update(d).digest(),
  aes256: (key) => (b) => { const c = nodeCrypto.createCipheriv("aes-256-ecb", key, null).setAutoPadding(false); b.set(c.update(b)); },
  convolve: convolveJs, mapInPlace: gatherJs, defer: (fn) => fn(),
};

function verifierFor(user: string, pass: string): Verifier {
  const salt = nodeCrypto.randomBytes(16);
  salt[0] |= 1;
  const v = ref.v(salt, user, pass);
  return { salt, v: bytes(v, 384), kv: bytes((ref.k * v) % N3072, 384) };
}

function device(opts: { patchVer?: number; pass?: string; ops?: BigOps } = {}) {
  const store = kv(), throttle = createThrottle(store, quiet), ver = verifierFor("wifiprov", opts.pass ?? "abcd1234");
  const sec = security2({
    verifier: (cb) => cb(ver), ops: opts.ops ?? bigintOps(), crypto: nodeCryptoPort,
    clock: { now: () => 0, after: () => 0, cancel: () => {} }, throttle, log: quiet, patchVer: opts.patchVer ?? 1, user: "wifiprov",
  });
  const pc = createProtocomm(sec, quiet);
  pc.add("prov-session", Kind.SEC);
  pc.add("echo", Kind.REQ, (req) => Buffer.concat([Buffer.from("re:"), req]));
  pc.open(1);
  sec.prepare();
  const call = (ep: string, req: Uint8Array) => {
    let out: Uint8Array | undefined, err: Error | null = null;
    pc.handle(ep, 1, req, (e, r) => { err = e; out = r; });
    if (err) throw err;
    return out!;
  };
  return { sec, pc, call, throttle };
}

/** A client from the reference: Cmd0, Cmd1, then GCM with the device's nonce. */
function client(call: (ep: string, r: Uint8Array) => Uint8Array, user = "wifiprov", pass = "abcd1234", opts: { A?: Uint8Array; patchVer?: number } = {}) {
  let a = 0n, A: bigint;
  do { a = big(nodeCrypto.randomBytes(32)); A = ref.A(a); } while (bytes(A).length !== 384);
  const Ab = opts.A ?? bytes(A);
  const r0: SessionData = decode(D_SessionData, call("prov-session", encode(D_SessionData, { sec_ver: 2, sec2: { msg: 0, sc0: { client_username: Buffer.from(user), client_pubkey: Ab } } })));
  const sr0 = r0.sec2!.sr0!;
  const B = big(sr0.device_pubkey!), s = sr0.device_salt!;
  const x = ref.x(s, user, pass), u = ref.u(A, B), K = ref.H(bytes(ref.clientS(B, a, x, u)));
  const M = ref.M(user, s, A, B, K);
  const r1: SessionData = decode(D_SessionData, call("prov-session", encode(D_SessionData, { sec_ver: 2, sec2: { msg: 2, sc1: { client_proof: M } } })));
  const sr1 = r1.sec2!.sr1!;
  assert.deepEqual(Buffer.from(sr1.device_proof!), ref.HAMK(A, M, K), "device proof H(A | M | K)");
  const iv = Buffer.from(sr1.device_nonce!);
  assert.equal(iv.length, 12);
  assert.equal(iv.readUInt32BE(8), 1, "counter starts at 1");
  const patch = opts.patchVer ?? 1;
  const step = () => { if (patch) iv.writeUInt32BE(iv.readUInt32BE(8) + 1, 8); };
  const seal = (d: Uint8Array) => { const c = nodeCrypto.createCipheriv("aes-256-gcm", K.subarray(0, 32), iv); const o = Buffer.concat([c.update(d), c.final(), c.getAuthTag()]); step(); return o; };
  const open = (d: Uint8Array) => { const c = nodeCrypto.createDecipheriv("aes-256-gcm", K.subarray(0, 32), iv); c.setAuthTag(Buffer.from(d.subarray(-16))); const o = Buffer.concat([c.update(d.subarray(0, -16)), c.final()]); step(); return o; };
  return { seal, open, iv, B: sr0.device_pubkey! };
}

test("a whole session against the reference client: Resp0 B = k·v + g^b without leading zeros, proofs, GCM both ways (sec_patch_ver 1)", () => {
  const d = device();
  const c = client(d.call);
  assert.notEqual(c.B[0], 0, "B is sent as esp_mpi_to_bin writes it");
  for (const msg of ["hello", "", "x".repeat(100)]) {
    assert.equal(c.open(d.call("echo", c.seal(Buffer.from(msg)))).toString(), "re:" + msg);
  }
  assert.equal(c.iv.readUInt32BE(8), 7, "six GCM operations after the counter's start at 1");
});

test("sec_patch_ver 0 keeps the nonce constant", () => {
  const d = device({ patchVer: 0 });
  const c = client(d.call, "wifiprov", "abcd1234", { patchVer: 0 });
  for (let i = 0; i < 3; i++) assert.equal(c.open(d.call("echo", c.seal(Buffer.from("m" + i)))).toString(), "re:m" + i);
});

test("a wrong password or username is refused at Cmd1, drops the session and counts as a failed PoP", () => {
  const d = device();
  assert.throws(() => client(d.call, "wifiprov", "wrong"), /authenticate client proof/);
  assert.equal(d.throttle.failures(), 1);
  assert.throws(() => client(d.call, "someone", "abcd1234"), /authenticate client proof/);
  assert.equal(d.throttle.failures(), 2);
  assert.throws(() => d.call("echo", Buffer.alloc(20)), /not established/);
  client(d.call);
  assert.equal(d.throttle.failures(), 0, "a right proof clears the count");
});

test("A ≡ 0 mod N (A = 0, A = N) and A of the wrong length are refused at Cmd0", () => {
  const d = device();
  const cmd0 = (A: Uint8Array) => d.call("prov-session", encode(D_SessionData, { sec_ver: 2, sec2: { msg: 0, sc0: { client_username: Buffer.from("wifiprov"), client_pubkey: A } } }));
  assert.throws(() => cmd0(Buffer.alloc(384)), /A mod N is 0/);
  assert.throws(() => cmd0(bytes(N3072, 384)), /A mod N is 0/);
  assert.throws(() => cmd0(Buffer.alloc(383, 1)), /public key length/);
  assert.throws(() => cmd0(Buffer.alloc(385, 1)), /public key length/);
  assert.throws(() => d.call("prov-session", encode(D_SessionData, { sec_ver: 2, sec2: { msg: 0, sc0: { client_pubkey: bytes(ref.A(7n), 384) } } })), /username/);
  client(d.call); // the device still serves a good session
});

test("replayed, truncated and bit-flipped GCM payloads are refused and the nonce does not move", () => {
  const d = device();
  const c = client(d.call);
  const req = c.seal(Buffer.from("first"));
  assert.equal(c.open(d.call("echo", req)).toString(), "re:first");
  assert.throws(() => d.call("echo", req), /authentication failed/, "replay");
  const next = c.seal(Buffer.from("second"));
  assert.throws(() => d.call("echo", next.subarray(0, next.length - 1)), /authentication failed/, "truncated tag");
  assert.throws(() => d.call("echo", next.subarray(0, 15)), /authentication failed/, "shorter than a tag");
  const flipped = Buffer.from(next);
  flipped[0] ^= 1;
  assert.throws(() => d.call("echo", flipped), /authentication failed/, "bit flipped");
  assert.equal(c.open(d.call("echo", next)).toString(), "re:second", "the intact message still opens: failures left the counter");
});

test("makeVerifier (a random PoP on the board) gives the reference's v and k·v", () => {
  const salt = Buffer.from("036ee0c7bcb9eda84c9eac97d93decf4", "hex");
  let got: Verifier | undefined;
  makeVerifier(bigintOps(), jsSha512, salt, "wifiprov", "abcd1234", (v) => { got = v; }, (why) => assert.fail(why));
  const v = ref.v(salt, "wifiprov", "abcd1234");
  assert.equal(big(got!.v), v);
  assert.equal(big(got!.kv), (ref.k * v) % N3072);
});

test("exponentiations per session: g^b before the client comes, then v^u, A·v^u and (A·v^u)^b at SessionCmd0", () => {
  const log: string[] = [];
  const d = device({ ops: bigintOps(log) });
  assert.deepEqual(log, ["exp"]);
  client(d.call);
  assert.deepEqual(log, ["exp", "exp", "mul", "exp"]);
  d.pc.close(1);
  assert.deepEqual(log, ["exp", "exp", "mul", "exp", "exp"], "the next session's g^b once this one is over: b serves one session");
});

test("the esp_prov-like client learns sec_patch_ver from proto-ver and keeps its nonce in step with the device's (0 and 1)", async () => {
  const { startSession } = await import("../client/esp-prov");
  for (const patch of [0, 1]) {
    const d = device({ patchVer: patch });
    d.pc.add("proto-ver", Kind.VER, () => Buffer.from(`{"prov":{"ver":"v1.1","sec_ver":2,"sec_patch_ver":${patch},"cap":["wifi_scan"]}}`));
    const t = { exchange: async (ep: string, req: Uint8Array) => d.call(ep, req), close: async () => {} };
    const s = await startSession(t, { sec2User: "wifiprov", sec2Pwd: "abcd1234" });
    assert.equal(s.secVer, 2, "taken from the device's proto-ver");
    for (let i = 0; i < 3; i++) assert.equal(Buffer.from(await s.call("echo", Buffer.from("m" + i))).toString(), "re:m" + i);
  }
});
