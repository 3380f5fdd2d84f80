/**
 * Client-side transports, as esp_prov's transport/ble_cli.py: every message is a write-with-response to
 * the endpoint's characteristic, then a read of the same characteristic, issued as soon as the write is
 * acknowledged. Endpoint names map to characteristics through the 0x2901 descriptors (current esp_prov,
 * Android, iOS) or through fixed 0000ff5x UUIDs (seed-era esp_prov v3.2).
 */
import net from "node:net";
import { SimDevice } from "../sim/device";

export interface Transport {
  /** Sends one request to an endpoint and returns the reply. */
  exchange(endpoint: string, data: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export type Era = "modern" | "seed";
const SEED_UUIDS: Record<string, string> = {
  "prov-session": "0000ff51-0000-1000-8000-00805f9b34fb",
  "prov-config": "0000ff52-0000-1000-8000-00805f9b34fb",
  "proto-ver": "0000ff53-0000-1000-8000-00805f9b34fb",
};

/** The GATT operations a central performs; implemented in-process or over --gatt-port. */
export interface Central {
  scan(): Promise<{ name: string; serviceUuids: string[] }[]>;
  connect(mtu: number): Promise<void>;
  discover(): Promise<{ uuid: string; characteristics: { uuid: string; descriptors: { uuid: string; value: string }[] }[] }[]>;
  write(uuid: string, data: Uint8Array): Promise<void>;
  read(uuid: string): Promise<Uint8Array>;
  disconnect(): Promise<void>;
}

export function simCentral(dev: SimDevice): Central {
  const b = () => dev.ble;
  return {
    scan: async () => b().scan(),
    connect: async (mtu) => b().connect(mtu),
    discover: async () => b().discover() as never,
    write: async (u, d) => b().write(u, d),
    read: async (u) => b().read(u),
    disconnect: async () => b().disconnect(),
  };
}

/** The simulator's virtual-central port when neither `npm run sim` nor `npm run prov` is given one. */
export const DEFAULT_GATT_PORT = 8765;

/** No device answered the scan (none advertising, or the wanted name is absent). */
export class DeviceNotFound extends Error {}

/** Speaks the simulator's newline-delimited JSON GATT protocol (npm run sim -- --gatt-port N). */
export function tcpCentral(port: number, host = "127.0.0.1"): Central {
  let sock: net.Socket | undefined, buf = "";
  const waiting: { res: (v: any) => void; rej: (e: Error) => void }[] = [];
  const call = async (msg: object): Promise<any> => {
    if (!sock) {
      const s = (sock = net.connect(port, host));
      await new Promise<void>((res, rej) => { s.once("connect", () => res()); s.once("error", rej); });
      s.on("data", (d) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf("\n")) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); waiting.shift()?.res(JSON.parse(line)); }
      });
      // A simulator that stops mid-call fails the call instead of leaving it waiting for ever.
      s.on("error", () => {});
      s.on("close", () => {
        if (sock === s) sock = undefined;
        for (const w of waiting.splice(0)) w.rej(new Error(`the simulator on ${host}:${port} closed the connection`));
      });
    }
    sock.write(JSON.stringify(msg) + "\n");
    const r = await new Promise<any>((res, rej) => waiting.push({ res, rej }));
    if (!r.ok) throw new Error(r.error);
    return r;
  };
  return {
    scan: async () => (await call({ op: "scan" })).devices,
    connect: async (mtu) => void (await call({ op: "connect", mtu })),
    discover: async () => (await call({ op: "discover" })).services,
    write: async (u, d) => void (await call({ op: "write", char: u, hex: Buffer.from(d).toString("hex") })),
    read: async (u) => Buffer.from((await call({ op: "read", char: u })).hex, "hex"),
    disconnect: async () => { try { await call({ op: "disconnect" }); } finally { sock?.end(); sock = undefined; } },
  };
}

/** Connects like esp_prov: find the device by name, take the advertised service, map names via 0x2901. */
export async function bleTransport(c: Central, opts: { name?: string; era?: Era; mtu?: number } = {}): Promise<Transport> {
  const devs = await c.scan();
  const d = opts.name ? devs.find((x) => x.name === opts.name) : devs[0];
  if (!d) throw new DeviceNotFound(`device ${opts.name || "(any)"} not found in scan`);
  await c.connect(opts.mtu ?? 517);
  let map: Record<string, string> = SEED_UUIDS;
  if ((opts.era || "modern") === "modern") {
    const svcUuid = d.serviceUuids.length === 1 ? d.serviceUuids[0] : undefined;
    const svc = (await c.discover()).find((s) => s.uuid === svcUuid);
    if (!svc) throw new Error("advertised service not found");
    map = {};
    for (const ch of svc.characteristics) {
      const desc = ch.descriptors.find((x) => x.uuid.startsWith("00002901"));
      if (desc) map[desc.value.toLowerCase()] = ch.uuid;
    }
    for (const need of ["prov-session", "prov-config", "proto-ver"]) if (!map[need]) throw new Error(`endpoint ${need} not found via 0x2901`);
  }
  return {
    async exchange(ep, data) {
      const u = map[ep];
      if (!u) throw new Error(`no characteristic for endpoint ${ep}`);
      await c.write(u, data);
      return c.read(u);
    },
    close: () => c.disconnect(),
  };
}
