/**
 * The security scheme seam, mirroring ESP-IDF's protocomm_security_t: the dispatcher calls it, endpoint
 * handlers only ever see plaintext.
 */
export type Done = (err: Error | null, resp?: Uint8Array) => void;

export interface Security {
  readonly version: number;
  /** A transport session (BLE connection) opened; only one session is alive at a time. */
  open(sid: number): void;
  close(sid: number): void;
  /** The prov-session endpoint: one handshake message in, one out (possibly later: X25519 is sliced). */
  handshake(sid: number, req: Uint8Array, done: Done): void;
  /** Throws when the session is not established (ESP-IDF "Secure session not established"). */
  encrypt(sid: number, data: Uint8Array): Uint8Array;
  decrypt(sid: number, data: Uint8Array): Uint8Array;
}

/** An Error with a short machine-readable code, for protocol failures that must drop the link. */
export interface ProtocolError extends Error { code: string }

export function protocolError(code: string, msg: string): ProtocolError {
  var e = new Error(msg) as ProtocolError;
  e.code = code;
  return e;
}
