// What the staff-screen scenarios share: people made through the API, signing in on the kiosk's
// keypads, the gateway's clock moved through tests/kiosk_browser.rs, authenticator codes
// computed from an otpauth secret (RFC 6238), and a headset speaking the public API.

import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import assert from "node:assert/strict";
import { callApi, fixture, kioskUrl, screen, typeOnKeyboard } from "./harness.mjs";

/** The gateway's time now, in Unix seconds (the manual clock moves only when told). */
export let serverNow = fixture.now_unix;
let requests = 0;

/** Move the gateway's clock forward by `secs`; resolves with its time afterwards. */
export async function advanceClock(secs) {
  requests += 1;
  const name = `${process.pid}-${requests}`;
  writeFileSync(join(fixture.clock_dir, `${name}.req`), String(secs));
  const done = join(fixture.clock_dir, `${name}.done`);
  for (let i = 0; i < 200 && !existsSync(done); i += 1) await sleep(50);
  assert.ok(existsSync(done), "the test's clock control did not answer");
  serverNow = Number(readFileSync(done, "utf8"));
  return serverNow;
}

/** A new user made by the admin through the API, with a PIN when asked for. */
export async function makeUser(given, family, role, { pin = true } = {}) {
  const token = fixture.staff.token;
  const made = await callApi("POST", "/api/users", { given_name: given, family_name: family, language: "en", role }, { token });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const user = { id: made.body.id, given, family, role };
  if (pin) {
    const p = await callApi("POST", `/api/users/${user.id}/pin`, {}, { token });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    user.pin = p.body.pin;
  }
  return user;
}

/** Open the staff screen from the start screen and sign in on the kiosk's keypads. */
export async function signInOnKiosk(page, user, { expectCode = false } = {}) {
  if (!(await page.locator('main[data-screen="staff"]').count())) {
    await page.goto(kioskUrl("/"));
    await screen(page, "start");
    await page.tap('[data-action="staff"]');
    await screen(page, "staff");
  }
  await page.tap("#user_id");
  await typeOnKeyboard(page, user.id.replace("-", ""));
  await page.tap("#pin");
  await typeOnKeyboard(page, user.pin);
  await page.tap('[data-action="sign-in"]');
  await page.waitForSelector(expectCode ? "#totp" : ".staff.signed-in");
}

function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/[=\s]/g, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The 6-digit code an authenticator app shows for `secret` (base32) at `unix` seconds. */
export function totpCode(secret, unix) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unix / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}

/** The secret of an otpauth:// URI. */
export function otpauthSecret(uri) {
  return new URL(uri).searchParams.get("secret");
}

/** A headset using the public API as docs/headset-api.md describes it. */
export class Headset {
  constructor(name) {
    this.name = name;
    this.key = randomBytes(32).toString("base64url");
  }

  async call(method, path, body, headers = {}) {
    const h = { Accept: "application/json", ...headers };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    if (this.session) h["X-Sitegate-Session"] = this.session;
    if (body !== undefined) h["Content-Type"] = "application/json";
    const res = await fetch(kioskUrl(path), { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** Ask to pair; returns the gateway's answer and the code this headset computes itself. */
  async pair() {
    const res = await this.call("POST", "/api/devices/pair", { name: this.name, model: "Quest 3", firmware: "v72.0", device_key: this.key });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    this.id = res.body.device_id;
    const digest = createHash("sha256").update(Buffer.concat([Buffer.from("sitegate-pair-v1\0"), Buffer.from(this.key), Buffer.from("\0"), Buffer.from(res.body.fingerprint)])).digest();
    const n = digest.readUInt32BE(0) % 1_000_000;
    const s = String(n).padStart(6, "0");
    return { answer: res.body, ownCode: `${s.slice(0, 3)} ${s.slice(3)}` };
  }

  async claim() {
    const res = await this.call("POST", "/api/devices/pair/claim", { device_id: this.id, device_key: this.key });
    if (res.status === 200) this.token = res.body.device_token;
    return res;
  }

  async login(body) {
    const res = await this.call("POST", "/api/headset/login", body);
    if (res.status === 200) this.session = res.body.token;
    return res;
  }
}
