/**
 * The provisioning page: lists the networks the board sees, takes the network, its password and the
 * board's proof of possession, and reports what the board itself says (Connecting, Connected, or why it
 * failed). Built for the iOS and Android captive-portal browsers: plain DOM, no storage, no dialogs
 * (alert() does not work in Apple's captive browser), state in memory and in the URL fragment
 * (`#pop=…`, which never reaches the server).
 */
import { Caps, fetchPost, Network, openSession, PortalError, probe, reset, scan, sendCredentials, Session, status, utf8, WifiState } from "./client";

/** A Security 1 exchange can wait for the board's X25519 (seconds on an ESP32); a silent board fails after this. */
const TIMEOUT_MS = 90000;
/** Status polls while the board connects (esp_prov polls every 5 s; a phone user wants to see it sooner). */
const POLL_MS = 2000;
const POLL_LIMIT_MS = 120000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>("f"), ssidIn = $<HTMLInputElement>("ssid"), pwIn = $<HTMLInputElement>("password"), popIn = $<HTMLInputElement>("pop");
const list = $<HTMLUListElement>("nets"), box = $<HTMLDivElement>("st"), buttons = [$<HTMLButtonElement>("go"), $<HTMLButtonElement>("rescan")];
const post = fetchPost(TIMEOUT_MS);

let caps: Caps | undefined, sess: Session | undefined, sessPop = "", busy = false, picked: Network | undefined;

/** The status box: busy (with a spinner), ok, err, or hidden when `title` is empty. */
function show(kind: "busy" | "ok" | "err" | "", title: string, detail = "") {
  box.className = kind;
  box.textContent = "";
  if (!title) return;
  const b = document.createElement("b");
  b.textContent = title;
  box.appendChild(b);
  if (detail) box.appendChild(document.createElement("p")).textContent = detail;
  box.scrollIntoView({ block: "nearest" });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The session for the PoP in the field: reused while the PoP is unchanged, else a new handshake. */
async function session(): Promise<Session> {
  const pop = popIn.value.trim();
  if (sess && pop == sessPop) return sess;
  sess = undefined;
  if (!caps) caps = await probe(post);
  if (caps.secVer && !caps.noPop && !pop) throw new PortalError("pop", "");
  show("busy", "Opening a secure session…", "This can take up to a minute.");
  sess = await openSession(post, caps, pop, (n) => crypto.getRandomValues(new Uint8Array(n)));
  sessPop = pop;
  return sess;
}

/**
 * Runs a task in the session. A session that stopped working (the board restarted, or another client took
 * over) is replaced once by a new one; after any failure the next task starts a new session, since a lost
 * reply leaves the cipher streams of board and page out of step.
 */
async function run(task: (s: Session) => Promise<void>) {
  if (busy) return;
  busy = true;
  for (const b of buttons) b.disabled = true;
  try {
    const fresh = !sess;
    try {
      await task(await session());
    } catch (e) {
      sess = undefined;
      if (fresh || !(e instanceof PortalError) || e.why != "board") throw e;
      await task(await session());
    }
  } catch (e) {
    explain(e);
  } finally {
    busy = false;
    for (const b of buttons) b.disabled = false;
  }
}

function explain(e: unknown) {
  const why = e instanceof PortalError ? e.why : "board";
  if (why == "pop") {
    popIn.focus();
    return show("err", (e as Error).message ? "Wrong PoP" : "Enter the PoP", "The proof of possession is on the board's label.");
  }
  if (why == "locked") {
    return show("err", "Too many wrong PoPs", "The board refuses sessions for a few minutes (or until it restarts).");
  }
  show("err", why == "net" ? "No answer from the board" : "The board reported an error", why == "net" ? "Is this phone still on the board's Wi-Fi (PROV_…)?" : (e as Error).message);
}

/** Four signal bars from the RSSI (dBm). */
function bars(rssi: number): number {
  return rssi >= -55 ? 4 : rssi >= -67 ? 3 : rssi >= -78 ? 2 : 1;
}

function render(nets: Network[]) {
  list.textContent = "";
  for (const n of nets) {
    const b = document.createElement("button"), name = document.createElement("span"), sig = document.createElement("i");
    b.type = "button";
    b.className = "net";
    b.setAttribute("aria-label", n.ssid + ", signal " + bars(n.rssi) + " of 4, " + (n.open ? "open" : "secured"));
    name.textContent = n.ssid;
    b.appendChild(name);
    if (!n.open) b.appendChild(document.createElement("i")).className = "lock";
    sig.className = "sig s" + bars(n.rssi);
    sig.innerHTML = "<i></i><i></i><i></i><i></i>";
    b.appendChild(sig);
    b.onclick = () => {
      picked = n;
      ssidIn.value = n.ssid;
      list.querySelectorAll(".net").forEach((o) => o.removeAttribute("aria-current"));
      b.setAttribute("aria-current", "true");
      if (!n.open) pwIn.focus();
    };
    list.appendChild(document.createElement("li")).appendChild(b);
  }
}

async function scanTask(s: Session) {
  show("busy", "Looking for networks…");
  const nets = await scan(s);
  render(nets);
  show(nets.length ? "" : "err", nets.length ? "" : "No networks found");
}

function report(st: WifiState, ssid: string): boolean {
  if (st.state == "connected") {
    form.hidden = true; // the board is done: it leaves setup mode
    show("ok", "Connected to " + ssid, "The board saved the network" + (st.ip ? " and has IP address " + st.ip : "") + ". You can close this page.");
  } else if (st.state == "failed") {
    if (st.reason == "notfound") show("err", "Network " + ssid + " not found", "Check its name and that the board is in range, then retry.");
    else show("err", "Wrong password for " + ssid, "Correct it and retry.");
  } else {
    show("busy", "Connecting to " + ssid + "…");
    return false;
  }
  return true;
}

async function connectTask(s: Session) {
  const ssid = ssidIn.value, raw = picked && picked.ssid == ssid ? picked.raw : utf8(ssid);
  let st = await status(s);
  if (st.state == "failed") await reset(s); // prov-ctrl Reset: the board takes new credentials again
  if (st.state != "connected" && st.state != "connecting") {
    show("busy", "Sending the network to the board…");
    await sendCredentials(s, raw, utf8(pwIn.value));
    st = { state: "connecting" };
  }
  for (let t = 0; !report(st, ssid); t += POLL_MS) {
    if (t >= POLL_LIMIT_MS) return show("err", "No result from the board yet", "Press Connect to ask again.");
    await sleep(POLL_MS);
    st = await status(s);
  }
}

form.onsubmit = (e) => {
  e.preventDefault();
  if (!ssidIn.value) {
    ssidIn.focus();
    return show("err", "Choose a network");
  }
  run(connectTask);
};
$("rescan").onclick = () => run(scanTask);
const toggle = $("show");
toggle.onclick = () => {
  const hidden = pwIn.type == "password";
  pwIn.type = hidden ? "text" : "password";
  toggle.textContent = hidden ? "Hide" : "Show";
  toggle.setAttribute("aria-pressed", "" + hidden);
};

const m = /[#&]pop=([^&]*)/.exec(location.hash);
try {
  if (m) popIn.value = decodeURIComponent(m[1]!);
} catch (e) {
  // a malformed %-escape: leave the field for the user
}
// With the PoP known (from the label's QR code) the list fills itself; otherwise the user types it first.
probe(post).then((c) => {
  caps = c;
  $("popbox").hidden = c.secVer == 0 || c.noPop;
  if (!c.scan) $("scan").hidden = true;
  else if (popIn.value || $("popbox").hidden) run(scanTask);
  else show("", "");
}, explain);
