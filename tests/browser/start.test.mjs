// The start screen in every language and both orientations, the language switch, the idle
// reset, and what the kiosk says when the gateway's API cannot be reached.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  LANDSCAPE, LANGS, PORTRAIT, chooseLanguage, kioskUrl, launch, msg, overflowing, screen, shot, smallTargets,
  touchPage, typeOnKeyboard,
} from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

for (const [orientation, viewport] of [["portrait", PORTRAIT], ["landscape", LANDSCAPE]]) {
  test(`start screen in every language, ${orientation}`, async () => {
    const page = await touchPage(browser, viewport);
    await page.goto(kioskUrl("/"));
    await screen(page, "start");
    assert.equal(await page.locator(".site-name").textContent(), "Northgate Plant — Gate 3");
    for (const lang of LANGS) {
      await chooseLanguage(page, lang);
      assert.equal(await page.locator("h1.welcome").textContent(), msg(lang, "start.welcome"));
      assert.equal(await page.locator(".start h2").first().textContent(), msg(lang, "start.links_title"));
      assert.equal(await page.locator('[data-action="staff"]').textContent(), msg(lang, "start.staff"));
      await page.waitForSelector(".link-tile, .start .notice:not([aria-busy])");
      await shot(page, `start-${lang}-${orientation}`);
      assert.deepEqual(await overflowing(page), [], `${lang} ${orientation}`);
      assert.deepEqual(await smallTargets(page, 64), [], `${lang} ${orientation}`);
    }
    // A tile only for a feature whose API and screen are there: no dead buttons. Class check-in
    // and badge reprint are.
    assert.deepEqual(await page.locator(".feature-tile").evaluateAll((els) => els.map((e) => e.dataset.feature)), ["checkin", "reprint"]);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("the language chosen on the start screen carries to the next screens", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await chooseLanguage(page, "pt");
  await page.tap('[data-action="staff"]');
  await screen(page, "staff");
  assert.equal(await page.locator("h1").textContent(), msg("pt", "staff.title"));
  assert.match(await page.locator('[data-action="language"]').textContent(), /Português/);
  // Switch from the top bar's chooser: the screen redraws in Polish and keeps what was typed.
  await page.tap("#user_id");
  await typeOnKeyboard(page, "7X2");
  await chooseLanguage(page, "pl");
  assert.equal(await page.locator("h1").textContent(), msg("pl", "staff.title"));
  assert.equal(await page.inputValue("#user_id"), "7X2");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("after the idle time the kiosk warns, then returns to the start and forgets what was typed", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.clock.install();
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await chooseLanguage(page, "es");
  await page.tap('[data-action="staff"]');
  await screen(page, "staff");
  await page.tap("#user_id");
  await typeOnKeyboard(page, "ABC12");
  assert.equal(await page.inputValue("#user_id"), "ABC12");

  // A touch before the time is up keeps everything.
  await page.clock.runFor(45_000);
  await page.tap("#pin");
  await page.clock.runFor(45_000);
  await screen(page, "staff");
  assert.equal(await page.inputValue("#user_id"), "ABC12");

  // Untouched: a translated warning, then the start screen in the site's first language.
  await page.clock.runFor(6_000);
  await page.waitForSelector(".overlay .idle-count");
  assert.equal(await page.locator(".overlay h2").textContent(), msg("es", "idle.title"));
  await shot(page, "idle-warning-es-portrait");
  await page.clock.runFor(12_000);
  await screen(page, "start");
  assert.equal(await page.locator(".overlay").count(), 0);
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  await page.tap('[data-action="staff"]');
  await screen(page, "staff");
  assert.equal(await page.inputValue("#user_id"), "", "what was typed is forgotten");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("without the gateway's API the kiosk says so in the worker's language, with no dead ends", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.route("**/api/**", (route) => route.abort("connectionrefused"));
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await chooseLanguage(page, "pl");
  const notice = page.locator(".start .notice.error");
  await notice.waitFor();
  assert.equal(await notice.textContent(), msg("pl", "start.links_unavailable"));
  assert.equal(await page.locator(".link-tile").count(), 0);
  await shot(page, "start-api-unreachable-pl-portrait");

  await page.goto(kioskUrl("/enroll/AAAAAAAAAAAAAAAAAAAAAA"));
  await screen(page, "link-problem");
  assert.equal(await page.locator(".banner h2").textContent(), msg("en", "link.other.title"));
  assert.equal(await page.locator(".banner p").first().textContent(), msg("en", "error.network"));
  await shot(page, "link-unreachable-en-portrait");
  await page.tap('[data-action="leave"]');
  await screen(page, "start");
  assert.equal(await page.evaluate(() => location.pathname), "/");
  await page.context().close();
});
