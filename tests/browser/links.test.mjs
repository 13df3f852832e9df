// A link that cannot be used gets its own message in the worker's language: unknown, expired,
// switched off, full. When that happens while the worker is typing, nothing typed is lost
// until they leave.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  LANGS, PORTRAIT, callApi, chooseLanguage, fillOnKeyboard, fixture, kioskUrl, launch, msg, overflowing, screen, shot,
  touchPage,
} from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

const CASES = [
  ["link_unknown", () => "x".repeat(22)],
  ["link_expired", () => fixture.links.expired.token],
  ["link_deactivated", () => fixture.links.deactivated.token],
  ["link_full", () => fixture.links.full.token],
];

for (const [code, token] of CASES) {
  test(`${code}: its own message, in every language`, async () => {
    const page = await touchPage(browser, PORTRAIT);
    await page.goto(kioskUrl(`/enroll/${token()}`));
    await screen(page, "link-problem");
    assert.equal(await page.getAttribute(".link-problem", "data-code"), code);
    for (const lang of LANGS) {
      await chooseLanguage(page, lang);
      assert.equal(await page.locator(".banner h2").textContent(), msg(lang, `link.${code}.title`));
      assert.equal(await page.locator(".banner p").textContent(), msg(lang, `link.${code}.body`));
      await shot(page, `link-${code.replace("link_", "")}-${lang}-portrait`);
      assert.deepEqual(await overflowing(page), [], lang);
    }
    await page.tap('[data-action="leave"]');
    await screen(page, "start");
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

async function typeForm(page, given, email) {
  await page.waitForSelector("#given_name");
  await fillOnKeyboard(page, "#given_name", given);
  await fillOnKeyboard(page, "#family_name", "Kowalska");
  await fillOnKeyboard(page, "#email", email);
  await page.tap('[data-action="accept"]');
}

test("the link is switched off while the worker types: the message shows and the form keeps what was typed", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(kioskUrl(`/enroll/${fixture.links.race_off.token}`));
  await chooseLanguage(page, "pl");
  await typeForm(page, "Małgorzata", "m.kowalska@example.com");
  const off = await callApi("POST", `/api/links/${fixture.links.race_off.id}/deactivate`, {}, { token: fixture.staff.token });
  assert.ok(off.status < 300, JSON.stringify(off.body));
  await page.tap('[data-action="submit"]');
  await page.waitForSelector('.banner[data-code="link_deactivated"]');
  assert.equal(await page.locator(".banner h2").textContent(), msg("pl", "link.link_deactivated.title"));
  assert.equal(await page.inputValue("#given_name"), "Małgorzata");
  assert.equal(await page.inputValue("#email"), "m.kowalska@example.com");
  await shot(page, "link-deactivated-while-typing-pl-portrait");
  await page.tap('.banner [data-action="leave"]');
  await screen(page, "start");
  await page.context().close();
});

test("the link fills up while the worker types: the full message, and the form keeps what was typed", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(kioskUrl(`/enroll/${fixture.links.race_full.token}`));
  await chooseLanguage(page, "es");
  await typeForm(page, "Lucía", "lucia.k@example.com");
  const rival = await callApi("POST", `/api/enroll/${fixture.links.race_full.token}`, {
    given_name: "Rival",
    family_name: "Worker",
    email: "rival@example.com",
    language: "en",
    terms_version: fixture.terms_version,
    accept_terms: true,
  });
  assert.equal(rival.status, 201, JSON.stringify(rival.body));
  await page.tap('[data-action="submit"]');
  await page.waitForSelector('.banner[data-code="link_full"]');
  assert.equal(await page.locator(".banner h2").textContent(), msg("es", "link.link_full.title"));
  assert.equal(await page.inputValue("#given_name"), "Lucía");
  assert.equal(await page.inputValue("#email"), "lucia.k@example.com");
  await shot(page, "link-full-while-typing-es-portrait");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
