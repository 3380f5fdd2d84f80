// Opens the board's console: a serial device (/dev/ttyUSB0, via the `serialport` package that the
// `espruino` CLI brings) or tcp://host:port (the simulator's --console-port, or a serial-to-TCP bridge).
// Every failure is a PortError with a sentence a user can act on.
import fs from "node:fs";
import net from "node:net";

export class PortError extends Error {}

/** @returns {Promise<{ write(s: string): void, onData(cb: (s: string) => void): void, onClose(cb: () => void): void, close(): void, name: string }>} */
export async function openPort(spec, baud = 115200) {
  if (!spec) throw new PortError("no port given: use --port /dev/ttyUSB0 (or tcp://127.0.0.1:PORT for the simulator)");
  const tcp = /^tcp:\/\/([^:/]*)(?::(\d+))?\/?$/.exec(spec);
  if (spec.startsWith("tcp://") && !tcp) throw new PortError(`${spec}: a TCP port looks like tcp://127.0.0.1:2323`);
  if (tcp) return openTcp(spec, tcp[1] || "127.0.0.1", Number(tcp[2] || 23));
  if (!fs.existsSync(spec)) {
    throw new PortError(`port ${spec} does not exist: is the board plugged in? (ls /dev/ttyUSB* /dev/ttyACM*)`);
  }
  return openSerial(spec, baud);
}

function openTcp(name, host, port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    s.once("error", (e) => reject(new PortError(`cannot connect to ${name}: ${e.code || e.message}` +
      (e.code === "ECONNREFUSED" ? " (is `npm run sim -- --console-port N` running?)" : ""))));
    s.once("connect", () => {
      s.setNoDelay(true);
      resolve({
        name,
        write: (t) => s.write(Buffer.from(t, "latin1")),
        onData: (cb) => s.on("data", (b) => cb(b.toString("latin1"))),
        onClose: (cb) => s.on("close", cb),
        close: () => s.destroy(),
      });
    });
  });
}

async function openSerial(path, baud) {
  let SerialPort;
  try {
    ({ SerialPort } = await import("serialport"));
  } catch {
    throw new PortError("the serialport package is missing: run npm install (it comes with the espruino CLI)");
  }
  return new Promise((resolve, reject) => {
    // hupcl off and DTR/RTS released: on ESP32 dev boards those lines drive EN/IO0 (auto-reset circuit).
    const p = new SerialPort({ path, baudRate: baud, hupcl: false, autoOpen: false });
    p.open((e) => {
      if (e) return reject(new PortError(`cannot open ${path}: ${e.message}` + (/denied/i.test(e.message) ? " (add yourself to the dialout group)" : "")));
      p.set({ dtr: false, rts: false }, () => resolve({
        name: path,
        write: (t) => p.write(Buffer.from(t, "latin1")),
        onData: (cb) => p.on("data", (b) => cb(b.toString("latin1"))),
        onClose: (cb) => p.on("close", cb),
        close: () => p.close(() => {}),
      }));
    });
  });
}
