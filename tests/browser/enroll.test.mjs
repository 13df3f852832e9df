// Enrollment at the kiosk through the real API: the happy path from a pinned tile in every
// language (portrait and landscape), an existing user proving who they are, validation errors,
// the keyboards of each language, and the idle reset in the middle of a form.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { formatUserId, parseUserId } from "../../kiosk-ui/js/ids.js";
import {
  LANDSCAPE, PORTRAIT, callApi, chooseLanguage, fillOnKeyboard, fixture, kioskUrl, launch, msg, overflowing, screen, shot,
  smallTargets, touchPage, scan,
} from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

const PEOPLE = [
  { lang: "en", orientation: "portrait", given: "Amy", family: "O'Neill-Brown", email: "amy.oneill@example.com", employer: "Acme Scaffolding" },
  { lang: "es", orientation: "landscape", given: "José", family: "Núñez Peña", email: "jose.nunez@example.com", employer: "Montajes Ibéricos" },
  { lang: "pt", orientation: "portrait", given: "João", family: "Gonçalves", email: "joao.goncalves@example.com", employer: "Construções Lusas" },
  { lang: "pl", orientation: "landscape", given: "Zofia", family: "Łukasiewicz-Wróbel", email: "zofia.lw@example.com", employer: "Żuraw Śląsk" },
];

for (const p of PEOPLE) {
  test(`a newcomer enrolls through a pinned link in ${p.lang}, ${p.orientation}`, async () => {
    const page = await touchPage(browser, p.orientation === "portrait" ? PORTRAIT : LANDSCAPE);
    const tag = `${p.lang}-${p.orientation}`;
    await page.goto(kioskUrl("/"));
    await screen(page, "start");
    await chooseLanguage(page, p.lang);
    const tile = page.locator(`.link-tile[data-token="${fixture.links.pinned.token}"]`);
    assert.equal(await tile.locator(".tile-title").textContent(), fixture.links.pinned.name);
    await tile.tap();
    await screen(page, "enroll");
    await page.waitForSelector("#given_name");
    assert.equal(await page.locator(".enroll h1").textContent(), fixture.links.pinned.name);

    await fillOnKeyboard(page, "#given_name", p.given);
    await shot(page, `enroll-form-keyboard-${tag}`);
    assert.deepEqual(await smallTargets(page, 64), [], tag);
    await fillOnKeyboard(page, "#family_name", p.family);
    await fillOnKeyboard(page, "#email", p.email);
    assert.equal(await page.getAttribute(".kb", "data-layout"), "email");
    await fillOnKeyboard(page, "#employer", p.employer);
    assert.equal(await page.inputValue("#given_name"), p.given);
    assert.equal(await page.inputValue("#family_name"), p.family);
    assert.equal(await page.inputValue("#email"), p.email);
    assert.equal(await page.inputValue("#employer"), p.employer);
    // The preferred language follows the screen's language unless chosen.
    assert.equal(await page.getAttribute(`[role=radio][data-lang="${p.lang}"]`, "aria-checked"), "true");
    await page.tap('[data-action="accept"]');
    assert.equal(await page.getAttribute('[data-action="accept"]', "aria-checked"), "true");
    await shot(page, `enroll-form-filled-${tag}`);
    assert.deepEqual(await overflowing(page), [], tag);
    await page.tap('[data-action="submit"]');

    await screen(page, "result");
    const shownId = await page.locator(".user-id").textContent();
    assert.match(shownId, /^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    assert.equal(parseUserId(shownId).ok, true, "the ID carries a right check symbol");
    const pin = await page.locator(".pin").textContent();
    assert.match(pin, /^\d{6}$/);
    assert.equal(await page.locator(".pin-box .warning").textContent(), msg(p.lang, "result.pin_warning"));
    assert.equal(await page.locator("h1").textContent(), msg(p.lang, "result.title", { name: p.given }));
    assert.match(await page.locator(".training-list").textContent(), new RegExp(fixture.module_title));
    assert.match(await page.locator(".allocated").textContent(), new RegExp(fixture.group_name));
    // The badge: its preview (addressed by job, no personal data) and its print state.
    assert.equal(await page.locator(".badge h2").textContent(), msg(p.lang, "result.badge_title"));
    assert.match(await page.getAttribute(".badge-preview", "src"), /^\/api\/kiosk\/print-jobs\/[0-9a-f-]{36}\/badge\.png$/);
    await page.waitForSelector('.badge-job[data-state="printed"]');
    assert.equal(await page.locator(".badge-job .job-status").textContent(), msg(p.lang, "badge.job.printed"));
    await shot(page, `enroll-result-${tag}`);
    assert.deepEqual(await overflowing(page), [], tag);

    // The gateway holds what was typed, as typed.
    const user = await callApi("GET", `/api/users/${encodeURIComponent(shownId)}`, undefined, { token: fixture.staff.token });
    assert.equal(user.status, 200, JSON.stringify(user.body));
    assert.equal(user.body.user.given_name, p.given);
    assert.equal(user.body.user.family_name, p.family);
    assert.equal(user.body.user.language, p.lang);
    assert.equal(user.body.user.email, p.email);
    assert.equal(user.body.user.employer, p.employer);

    // Done asks once more about the PIN, then the kiosk is back at the start, in English.
    await page.tap('[data-action="done"]');
    assert.equal(await page.locator(".banner.confirm p").textContent(), msg(p.lang, "result.confirm_text"));
    await shot(page, `enroll-result-confirm-${tag}`);
    await page.tap('[data-action="confirm-done"]');
    await screen(page, "start");
    assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
    assert.equal(await page.locator(".pin").count(), 0);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("someone already registered proves who they are with ID and PIN, and keeps their PIN", async () => {
  const page = await touchPage(browser, LANDSCAPE);
  const ex = { ...fixture.existing_user, id: formatUserId(fixture.existing_user.id.replace("-", "")) };
  await page.goto(kioskUrl(`/enroll/${fixture.links.existing.token}`));
  await screen(page, "enroll");
  await page.waitForSelector("#given_name");
  await fillOnKeyboard(page, "#given_name", ex.given_name);
  await fillOnKeyboard(page, "#family_name", ex.family_name);
  await fillOnKeyboard(page, "#email", ex.email);
  await page.tap('[data-action="accept"]');
  await page.tap('[data-action="submit"]');

  await page.waitForSelector("#existing_id");
  assert.equal(await page.locator(".existing h1").textContent(), msg("en", "existing.title"));
  assert.equal(await page.locator(".existing .lead").textContent(), msg("en", "existing.lead_email"));
  await fillOnKeyboard(page, "#existing_id", ex.id.replace("-", ""));
  assert.equal(await page.inputValue("#existing_id"), ex.id);
  await fillOnKeyboard(page, "#existing_pin", ex.pin === "000000" ? "111111" : "000000");
  await page.tap('[data-action="prove"]');
  await page.waitForSelector('.existing .notice.error[data-code="invalid_credentials"]');
  assert.equal(await page.locator(".existing .notice.error").textContent(), msg("en", "error.invalid_credentials"));
  await shot(page, "enroll-existing-refused-en-landscape");

  // Back to the form and forward again: nothing typed is lost.
  await page.tap('[data-action="back-to-form"]');
  assert.equal(await page.inputValue("#email"), ex.email);
  await page.tap('[data-action="submit"]');
  await page.waitForSelector("#existing_id");
  await fillOnKeyboard(page, "#existing_id", ex.id.replace("-", ""));
  await fillOnKeyboard(page, "#existing_pin", ex.pin);
  await shot(page, "enroll-existing-proof-en-landscape");
  await page.tap('[data-action="prove"]');

  await screen(page, "result");
  assert.equal(await page.locator("h1").textContent(), msg("en", "result.title_existing", { name: ex.given_name }));
  assert.equal(await page.locator(".user-id").textContent(), ex.id);
  assert.equal(await page.locator(".pin").count(), 0, "no new PIN for an existing user");
  assert.equal(await page.locator(".pin-box").textContent(), msg("en", "result.pin_unchanged"));
  // Their badge still works: kept, nothing printed.
  assert.equal(await page.locator(".badge .badge-note").textContent(), msg("en", "result.badge_kept"));
  assert.equal(await page.locator(".badge-job").count(), 0);
  await shot(page, "enroll-existing-result-en-landscape");
  // Their old PIN still works for the proof: it was not changed.
  const again = await callApi("POST", `/api/enroll/${fixture.links.existing.token}/existing`, { user_id: ex.id, pin: ex.pin });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Scan, and wait for the gateway's answer to the proof. */
async function scanProof(page, payload) {
  const answer = page.waitForResponse((r) => r.url().endsWith("/existing") && r.request().method() === "POST");
  await scan(page, payload);
  return (await answer).status();
}

test("someone already registered proves who they are by scanning their badge; bad badges are refused alike", async () => {
  const page = await touchPage(browser, PORTRAIT);
  const who = fixture.returning;
  await page.goto(kioskUrl(`/enroll/${fixture.links.existing.token}`));
  await screen(page, "enroll");
  await page.waitForSelector("#given_name");
  // A scan on the form, while a field has the focus: the proof step, the field as it was.
  await fillOnKeyboard(page, "#given_name", "Ha");
  await page.focus("#given_name");
  assert.equal(await scanProof(page, who.retired_badge), 401);
  await page.waitForSelector('.existing .notice.error[data-code="badge_refused"]');
  assert.equal(await page.locator(".existing .notice.error").textContent(), msg("en", "existing.badge_refused"));
  assert.equal(await page.locator(".existing .lead").textContent(), msg("en", "existing.lead_scan"));
  assert.equal(await page.locator('[data-hint="scan"]').textContent(), msg("en", "existing.scan_hint"));
  await shot(page, "enroll-existing-badge-refused-en-portrait");
  await page.tap('[data-action="back-to-form"]');
  assert.equal(await page.inputValue("#given_name"), "Ha", "the scan did not land in the field");
  // Forged, unknown, a deactivated holder's: the same message, nothing more.
  const forged = who.badge.slice(0, -1) + (who.badge.endsWith("0") ? "1" : "0");
  for (const bad of [forged, fixture.badges.unknown, fixture.badges.deactivated]) {
    assert.equal(await scanProof(page, bad), 401);
    await page.waitForSelector('.existing .notice.error[data-code="badge_refused"]');
  }
  // Their own badge, scanned while the ID field has the focus: through, PIN unchanged.
  await page.tap("#existing_id");
  assert.equal(await scanProof(page, who.badge), 200);
  await screen(page, "result");
  assert.equal(await page.locator("h1").textContent(), msg("en", "result.title_existing", { name: who.given_name }));
  assert.equal(await page.locator(".pin").count(), 0, "no new PIN for an existing user");
  await shot(page, "enroll-existing-badge-result-en-portrait");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("validation errors are shown at their fields in the worker's language, and what was typed stays", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(kioskUrl(`/enroll/${fixture.links.forms.token}`));
  await screen(page, "enroll");
  await page.waitForSelector("#given_name");
  await chooseLanguage(page, "pt");
  await page.tap('[data-action="submit"]');
  for (const [field, key] of [["given_name", "error.required"], ["family_name", "error.required"], ["email", "error.contact_required"], ["accept", "error.terms_not_accepted"]]) {
    assert.equal(await page.locator(`[data-field="${field}"] .field-error`).textContent(), msg("pt", key), field);
  }
  await shot(page, "enroll-errors-empty-pt-portrait");

  await fillOnKeyboard(page, "#given_name", "Inês");
  await fillOnKeyboard(page, "#family_name", "Conceição");
  await fillOnKeyboard(page, "#email", "ines.at.example");
  await page.tap('[data-action="accept"]');
  await page.tap('[data-action="submit"]');
  await page.waitForSelector('[data-field="email"] .field-error');
  assert.equal(await page.locator('[data-field="email"] .field-error').textContent(), msg("pt", "error.invalid_field.email"));
  assert.equal(await page.locator('[data-field="given_name"] .field-error').count(), 0);
  assert.equal(await page.inputValue("#given_name"), "Inês");
  assert.equal(await page.inputValue("#family_name"), "Conceição");
  assert.equal(await page.getAttribute('[data-action="accept"]', "aria-checked"), "true");
  await shot(page, "enroll-errors-email-pt-portrait");

  await fillOnKeyboard(page, "#phone", "12");
  await page.tap('[data-action="submit"]');
  await page.waitForSelector('[data-field="email"] .field-error, [data-field="phone"] .field-error');
  await shot(page, "enroll-errors-phone-pt-portrait");
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

const ACCENTS = { en: "éç", es: "ñáéíóúü", pt: "ãõçáâêóô", pl: "ąćęłńóśźż" };

for (const [orientation, viewport] of [["portrait", PORTRAIT], ["landscape", LANDSCAPE]]) {
  test(`each language's keyboard has its accented letters, and every key label fits, ${orientation}`, async () => {
    const page = await touchPage(browser, viewport);
    await page.goto(kioskUrl(`/enroll/${fixture.links.forms.token}`));
    await page.waitForSelector("#given_name");
    for (const [lang, letters] of Object.entries(ACCENTS)) {
      await chooseLanguage(page, lang);
      for (const [field, layout] of [["#phone", "phone"], ["#email", "email"], ["#family_name", "text"]]) {
        await page.tap(field);
        await page.waitForSelector(`.kb[data-layout="${layout}"]`);
        assert.deepEqual(await overflowing(page, ".kb"), [], `${lang} ${layout}`);
      }
      for (const letter of letters) {
        assert.equal(await page.locator(`.kb [data-key="${letter}"]`).count(), 1, `${lang} ${letter}`);
      }
      assert.equal(await page.locator('.kb [data-key="space"]').textContent(), msg(lang, "kb.space"));
      assert.equal(await page.locator('.kb [data-key="next"]').textContent(), msg(lang, "kb.done"));
      await shot(page, `keyboard-${lang}-${orientation}`);
    }
    // The extra panel holds every accented letter of all four, and more.
    await page.tap('.kb [data-key="more"]');
    for (const letter of "ąñãçßøå") assert.equal(await page.locator(`.kb [data-key="${letter}"]`).count(), 1, letter);
    // Shift is on at the start of a name: capitals, except ß, which has no single-letter one.
    assert.equal(await page.locator('.kb [data-key="ą"]').textContent(), "Ą");
    assert.equal(await page.locator('.kb [data-key="ß"]').textContent(), "ß");
    assert.deepEqual(await overflowing(page, ".kb"), []);
    await shot(page, `keyboard-more-accents-${orientation}`);
    await page.context().close();
  });
}

test("idle in the middle of a form: back to the start, and the form is empty again", async () => {
  const page = await touchPage(browser, LANDSCAPE);
  await page.clock.install();
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await page.locator(`.link-tile[data-token="${fixture.links.pinned.token}"]`).tap();
  await page.waitForSelector("#given_name");
  await fillOnKeyboard(page, "#given_name", "Idle");
  await fillOnKeyboard(page, "#email", "idle@example.com");
  await page.clock.runFor(fixture.idle_seconds * 1000 - 5_000);
  await page.waitForSelector(".overlay .idle-count");
  await shot(page, "idle-warning-enroll-en-landscape");
  await page.clock.runFor(6_000);
  await screen(page, "start");
  await page.locator(`.link-tile[data-token="${fixture.links.pinned.token}"]`).tap();
  await page.waitForSelector("#given_name");
  assert.equal(await page.inputValue("#given_name"), "");
  assert.equal(await page.inputValue("#email"), "");
  await page.context().close();
});
