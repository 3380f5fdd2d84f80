// Types of tools/srp.mjs for the TypeScript that imports it (the test client).
export const N_HEX: string;
export const N: bigint;
export const G: bigint;
export const N_LEN: number;
export function modPow(b: bigint, e: bigint, m: bigint): bigint;
export function toBytes(x: bigint, len?: number): Buffer;
export function toBig(b: Uint8Array): bigint;
export function H(...parts: Uint8Array[]): Buffer;
export function kOf(): bigint;
export function xOf(salt: Uint8Array, user: string, pass: string): bigint;
export function makeVerifier(user: string, pass: string, salt?: Uint8Array): { salt: string; v: string; kv: string };
