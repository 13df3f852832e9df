// What every browser test shares: the gateway the Rust test started (SITEGATE_FIXTURE), Debian's
// chromium driven by playwright-core in touch contexts, and screenshots of every screen.

import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(here, "..", "..", "output", "screenshots");

/**
 * Written by tests/kiosk_browser.rs: {kiosk_url, https_url, staff: {id, pin}, links: {...},
 * existing: {...}}. Missing: the tests cannot run (start them through `cargo test --test
 * kiosk_browser`, which starts the gateway).
 */
export const fixture = JSON.parse(process.env.SITEGATE_FIXTURE || "null");
if (!fixture) throw new Error("SITEGATE_FIXTURE is not set: run these through `cargo test --test kiosk_browser`");

export const LANGS = ["en", "es", "pt", "pl"];
export const PORTRAIT = { width: 1080, height: 1920 };
export const LANDSCAPE = { width: 1920, height: 1080 };
export const PHONE = { width: 390, height: 844 };

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A touch page. Page errors and failed console asserts fail the test through `errors`. */
export async function touchPage(browser, viewport, { phone = false, locale = "en-GB" } = {}) {
  const context = await browser.newContext({
    viewport,
    hasTouch: true,
    isMobile: phone,
    ignoreHTTPSErrors: true,
    locale,
  });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  return page;
}

export function kioskUrl(path = "/") {
  return fixture.kiosk_url + path;
}

export function phoneUrl(path) {
  return fixture.https_url + path;
}

/** Save the page as tests/output/screenshots/<name>.png. */
export async function shot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

export async function screen(page, name) {
  await page.waitForSelector(`main[data-screen="${name}"]`);
}

/** Choose a language on the start screen or through the top bar's chooser. */
export async function chooseLanguage(page, lang) {
  if (await page.locator('main[data-screen="start"]').count()) {
    await page.tap(`.lang-grid [data-lang="${lang}"]`);
  } else {
    await page.tap('[data-action="language"]');
    await page.tap(`.dialog [data-lang="${lang}"]`);
  }
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

/** Type on the kiosk's own keyboard, key by key (the field must be tapped first). */
export async function typeOnKeyboard(page, text) {
  for (const ch of text) {
    const key = ch === " " ? "space" : ch;
    const lower = key.toLocaleLowerCase();
    let button = page.locator(`.kb [data-key="${key}"]`);
    if (!(await button.count())) button = page.locator(`.kb [data-key="${lower}"]`);
    if (!(await button.count())) {
      await page.tap('.kb [data-key="more"]');
      button = page.locator(`.kb [data-key="${lower}"]`);
    }
    const letter = ch.toLocaleLowerCase() !== ch.toLocaleUpperCase();
    const wantUpper = letter && ch === ch.toLocaleUpperCase();
    const shift = page.locator('.kb [data-key="shift"]');
    if (letter && (await shift.count())) {
      const on = (await shift.getAttribute("aria-pressed")) === "true";
      if (on !== wantUpper) await shift.tap();
    }
    await button.first().tap();
  }
}

/**
 * A badge scanner: a USB keyboard that types the payload into whatever has the focus, holding
 * Shift for each capital letter as real ones do, then Enter. The burst is played inside the page
 * in one go, as fast as a scanner types: key by key over the DevTools protocol, a loaded test
 * machine spaced the keys wider than any scanner does and than the kiosk takes for a scan. Each
 * key the page does not take for itself lands in the focused field, as a real key would.
 */
export async function scan(page, payload) {
  await page.evaluate((text) => {
    const key = (type, k, shiftKey) => {
      const target = document.activeElement || document.body;
      const e = new KeyboardEvent(type, { key: k, shiftKey, bubbles: true, cancelable: true, composed: true });
      return { target, taken: !target.dispatchEvent(e) };
    };
    for (const ch of text) {
      const shift = /[A-Z]/.test(ch);
      if (shift) key("keydown", "Shift", true);
      const { target, taken } = key("keydown", ch, shift);
      if (!taken && (target.tagName === "INPUT" || target.tagName === "TEXTAREA") && !target.readOnly) {
        target.value += ch;
        target.dispatchEvent(new Event("input", { bubbles: true }));
      }
      key("keyup", ch, shift);
      if (shift) key("keyup", "Shift", false);
    }
    key("keydown", "Enter", false);
    key("keyup", "Enter", false);
  }, payload);
}

/** No text inside `selector` is cut or runs out of its box. Returns the offenders. */
export async function overflowing(page, selector = "body") {
  return page.evaluate((sel) => {
    const bad = [];
    const root = document.querySelector(sel);
    const vw = document.documentElement.clientWidth;
    for (const el of root.querySelectorAll("*")) {
      if (!el.offsetParent && el.tagName !== "BODY") continue;
      const cs = getComputedStyle(el);
      if (cs.overflowY === "auto" || cs.overflowY === "scroll") continue;
      const r = el.getBoundingClientRect();
      if (el.scrollWidth > el.clientWidth + 1 && cs.overflowX !== "auto" && el.clientWidth > 0) {
        bad.push(`${el.tagName}.${el.className} "${(el.textContent || "").trim().slice(0, 40)}" is wider than its box`);
      }
      if (r.right > vw + 1 || r.left < -1) {
        bad.push(`${el.tagName}.${el.className} "${(el.textContent || "").trim().slice(0, 40)}" runs off the screen`);
      }
    }
    return bad;
  }, selector);
}

/** Every button and input on screen is at least `min` CSS px in both directions. */
export async function smallTargets(page, min = 48) {
  return page.evaluate((m) => {
    const bad = [];
    for (const el of document.querySelectorAll("button, input, [role=checkbox], [role=radio]")) {
      if (!el.offsetParent) continue;
      const r = el.getBoundingClientRect();
      if (r.width < m || r.height < m) bad.push(`${el.tagName} "${(el.textContent || el.id).trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return bad;
  }, min);
}

const catalogueCache = {};
/** A message as the catalogue of `lang` has it (English when it lacks it), placeholders filled. */
export function msg(lang, key, params = {}) {
  for (const l of [lang, "en"]) {
    catalogueCache[l] ??= JSON.parse(readFileSync(join(here, "..", "..", "..", "kiosk-ui", "i18n", `${l}.json`), "utf8"));
    const text = catalogueCache[l][key];
    if (text) return text.replace(/\{(\w+)\}/g, (w, n) => (n in params ? String(params[n]) : w));
  }
  throw new Error(`no message ${key}`);
}

/** Call the gateway's API from the test (staff actions, a rival enrollment), as a script would. */
export async function callApi(method, path, body, { token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(fixture.kiosk_url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Tap a field, then type into it on the kiosk's keyboard. */
export async function fillOnKeyboard(page, selector, text) {
  await page.tap(selector);
  await typeOnKeyboard(page, text);
}
