// The link's page on a phone (what the poster's QR opens): over HTTPS, in the phone's language,
// with the phone's own keyboard, no kiosk keyboard and no idle reset.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PHONE, fixture, launch, msg, overflowing, phoneUrl, screen, shot, smallTargets, touchPage } from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

test("a worker enrolls on their phone, in their phone's language", async () => {
  const page = await touchPage(browser, PHONE, { phone: true, locale: "pl-PL" });
  await page.clock.install();
  await page.goto(phoneUrl(`/enroll/${fixture.links.phone.token}`));
  await screen(page, "enroll");
  await page.waitForSelector("#given_name");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "pl");
  assert.equal(await page.locator(".enroll h1").textContent(), fixture.links.phone.name);
  assert.equal(await page.getAttribute("#email", "type"), "email");
  assert.equal(await page.getAttribute("#phone", "type"), "tel");
  await shot(page, "phone-form-pl");
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(await smallTargets(page, 48), []);

  await page.tap("#given_name");
  assert.equal(await page.locator(".kb").isVisible(), false, "a phone uses its own keyboard");
  await page.fill("#given_name", "Wojciech");
  await page.fill("#family_name", "Szczęsny-Żak");
  await page.fill("#phone", "+48 512 345 678");
  await page.tap('[data-action="accept"]');
  await shot(page, "phone-form-filled-pl");
  // Reading the terms slowly is fine on one's own phone.
  await page.clock.runFor(5 * 60_000);
  await page.tap('[data-action="submit"]');

  await screen(page, "result");
  assert.match(await page.locator(".pin").textContent(), /^\d{6}$/);
  assert.equal(await page.locator(".pin-box .warning").textContent(), msg("pl", "result.pin_warning"));
  // The badge prints at the gate: the phone says where to pick it up, and shows no preview.
  assert.equal(await page.getAttribute(".badge .badge-note", "data-message"), "result.badge_gate");
  assert.match(await page.locator(".badge .badge-note").textContent(), /Northgate Plant/);
  assert.equal(await page.locator(".badge-preview").count(), 0);
  await shot(page, "phone-result-pl");
  assert.deepEqual(await overflowing(page), []);
  await page.tap('[data-action="done"]');
  await page.tap('[data-action="confirm-done"]');
  await page.waitForSelector(".result.finished");
  assert.equal(await page.locator(".finished h1").textContent(), msg("pl", "result.finished_title"));
  assert.equal(await page.locator(".pin").count(), 0);
  await shot(page, "phone-finished-pl");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a phone opening an expired link gets the message in its language, with no kiosk buttons", async () => {
  const page = await touchPage(browser, PHONE, { phone: true, locale: "pt-PT" });
  await page.goto(phoneUrl(`/enroll/${fixture.links.expired.token}`));
  await screen(page, "link-problem");
  assert.equal(await page.locator(".banner h2").textContent(), msg("pt", "link.link_expired.title"));
  assert.equal(await page.locator('[data-action="leave"]').count(), 0);
  await shot(page, "phone-link-expired-pt");
  assert.deepEqual(await overflowing(page), []);
  await page.context().close();
});
