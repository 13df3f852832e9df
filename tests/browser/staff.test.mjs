// Staff sign-in on the kiosk with its own ID keypad and PIN keypad, against the real API.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  LANDSCAPE, PORTRAIT, chooseLanguage, fixture, kioskUrl, launch, msg, overflowing, screen, shot, smallTargets,
  touchPage, typeOnKeyboard,
} from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

function typo(id) {
  // Change one symbol: the check symbol no longer fits.
  const compact = id.replace("-", "");
  const swapped = compact[0] === "A" ? "B" : "A";
  return swapped + compact.slice(1);
}

for (const [orientation, viewport] of [["portrait", PORTRAIT], ["landscape", LANDSCAPE]]) {
  test(`staff sign in and out on the keypads, ${orientation}`, async () => {
    const page = await touchPage(browser, viewport);
    await page.goto(kioskUrl("/"));
    await screen(page, "start");
    await page.tap('[data-action="staff"]');
    await screen(page, "staff");

    // The ID keypad has the 32 symbols of an ID and no others.
    await page.tap("#user_id");
    assert.equal(await page.locator('.kb[data-layout="id"] .key:not(.key-back):not(.key-next)').count(), 32);
    assert.equal(await page.locator('.kb [data-key="I"]').count(), 0);
    await shot(page, `staff-id-keypad-en-${orientation}`);
    assert.deepEqual(await smallTargets(page, 64), []);

    // A mistyped ID is caught at the kiosk.
    await typeOnKeyboard(page, typo(fixture.staff.id));
    assert.equal(await page.inputValue("#user_id"), (() => { const t = typo(fixture.staff.id); return `${t.slice(0, 5)}-${t.slice(5)}`; })());
    await page.tap("#pin");
    assert.equal(await page.locator('.kb[data-layout="pin"] .key').count(), 13);
    await typeOnKeyboard(page, "000000");
    await page.tap('[data-action="sign-in"]');
    await page.waitForSelector('[data-field="user_id"] .field-error');
    assert.equal(await page.locator('[data-field="user_id"] .field-error').textContent(), msg("en", "error.id_typo"));

    // The right ID with a wrong PIN: the generic refusal, in Polish.
    await chooseLanguage(page, "pl");
    await page.tap("#user_id");
    while ((await page.inputValue("#user_id")) !== "") await page.tap('.kb [data-key="back"]');
    await typeOnKeyboard(page, fixture.staff.id.replace("-", ""));
    assert.equal(await page.inputValue("#user_id"), fixture.staff.id);
    await page.tap("#pin");
    await typeOnKeyboard(page, fixture.staff.pin === "000000" ? "111111" : "000000");
    await page.tap('[data-action="sign-in"]');
    const problem = page.locator(".staff .notice.error");
    await problem.waitFor();
    assert.equal(await problem.textContent(), msg("pl", "error.invalid_credentials"));
    assert.equal(await page.inputValue("#pin"), "", "a refused PIN is not kept");
    await shot(page, `staff-refused-pl-${orientation}`);

    await page.tap("#pin");
    await typeOnKeyboard(page, fixture.staff.pin);
    await page.tap('[data-action="sign-in"]');
    await page.waitForSelector(".staff.signed-in");
    assert.equal(await page.locator(".staff-who").getAttribute("data-user-id"), fixture.staff.id);
    assert.match(await page.locator(".staff-role").textContent(), new RegExp(msg("pl", "role.admin")));
    await shot(page, `staff-signed-in-pl-${orientation}`);
    assert.deepEqual(await overflowing(page), []);
    const me = await page.evaluate(async () => (await fetch("/api/auth/me")).status);
    assert.equal(me, 200, "the browser holds a session");

    await page.tap('[data-action="sign-out"]');
    await page.waitForSelector("#user_id");
    const after = await page.evaluate(async () => (await fetch("/api/auth/me")).status);
    assert.equal(after, 401, "signed out on the gateway too");
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}
