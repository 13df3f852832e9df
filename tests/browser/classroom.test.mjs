// The instructor's morning: sign in on the kiosk, open today's class, check people in by every
// method with a simulated scanner (it types the payload and Enter), watch a second screen follow
// the roster live, close the class and export the CSV; then a participant's self check-in.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import {
  LANDSCAPE, PORTRAIT, callApi, fillOnKeyboard, fixture, kioskUrl, launch, msg, overflowing, screen, shot, smallTargets,
  touchPage, typeOnKeyboard, scan,
} from "./lib/harness.mjs";

const room = fixture.classroom;
let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

async function result(page) {
  const r = page.locator(".scan-result:not(.empty)");
  await r.waitFor();
  return r;
}

async function present(page) {
  return Number(await page.locator('.count-present .count-n').textContent());
}

test("an instructor runs a class: sign-in, open, every check-in method, live second screen, close, CSV", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await page.tap('[data-action="staff"]');
  await screen(page, "staff");
  await page.tap("#user_id");
  await typeOnKeyboard(page, room.instructor.id.replace("-", ""));
  await page.tap("#pin");
  await typeOnKeyboard(page, room.instructor.pin);
  await page.tap('[data-action="sign-in"]');
  await page.waitForSelector(".staff.signed-in");
  await page.tap('[data-tool="classes"]');
  await screen(page, "classes");
  await page.waitForSelector(`.class-tile[data-class="${room.class.id}"]`);
  assert.equal(await page.locator(".class-tile").count(), 2, "both of today's classes");
  await shot(page, "classroom-today-portrait");
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(await smallTargets(page, 64), []);

  await page.tap(`.class-tile[data-class="${room.class.id}"] [data-action="open"]`);
  await screen(page, "roster");
  await page.waitForSelector('.roster[data-state="open"]');
  assert.equal(await present(page), 0);
  assert.equal(await page.locator(".roster-line").count(), 3, "the three expected");

  // A second screen (a laptop beside the instructor), signed in as the same instructor.
  const watcher = await touchPage(browser, LANDSCAPE);
  await watcher.goto(kioskUrl("/"));
  await screen(watcher, "start");
  const signIn = await watcher.evaluate(async ({ id, pin }) => {
    const r = await fetch("/api/auth/sign-in", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user_id: id, pin }) });
    return r.status;
  }, room.instructor);
  assert.equal(signIn, 200);
  await watcher.goto(kioskUrl(`/?screen=2#class=${room.class.id}`));
  await screen(watcher, "roster");
  await watcher.waitForSelector('.roster[data-state="open"]');

  // The scan box has the focus: a scanner sends garbage, half a payload, an unknown badge.
  assert.equal(await page.evaluate(() => document.activeElement.id), "scan");
  await scan(page, "HELLO WORLD 42");
  assert.equal(await (await result(page)).getAttribute("data-code"), "badge_not_sitegate");
  assert.equal(await page.locator(".scan-result .result-text").textContent(), msg("en", "error.badge_not_sitegate"));
  await shot(page, "classroom-scan-refused-portrait");
  await scan(page, "SG1ABCDE12345");
  assert.equal(await (await result(page)).getAttribute("data-code"), "badge_not_sitegate");
  await scan(page, "SG1ABCDE12345FGHJK67890");
  await page.waitForSelector('.scan-result[data-code="badge_forged"]');

  // José's badge, scanned.
  const [jose, zoe, alexei, zofia] = room.people;
  await scan(page, jose.badge);
  await page.waitForSelector(`.scan-result.checked_in[data-user-id="${jose.id}"]`);
  await shot(page, "classroom-scan-checked-in-portrait");
  // Scanned twice: "already checked in at …".
  await scan(page, jose.badge);
  const again = await result(page);
  await page.waitForSelector(".scan-result.already_checked_in");
  assert.match(await again.textContent(), /already checked in at \d\d:\d\d/);
  await shot(page, "classroom-double-scan-portrait");
  // A scan while the typed-ID field has the focus is still a scan, and leaves that field as it was.
  await page.tap("#typed_id");
  await typeOnKeyboard(page, "7");
  await page.evaluate(() => {
    document.querySelector(".scan-result").dataset.seen = "1";
  });
  await scan(page, jose.badge);
  await page.waitForSelector(".scan-result.already_checked_in:not([data-seen])");
  assert.equal(await page.inputValue("#typed_id"), "7");
  await page.fill("#typed_id", "");

  // The typed ID, on the ID keypad.
  await page.tap("#typed_id");
  await typeOnKeyboard(page, zofia.id.replace("-", ""));
  await page.tap('[data-action="submit-id"]');
  await page.waitForSelector(`.scan-result.checked_in[data-user-id="${zofia.id}"]`);
  assert.match(await page.locator(".scan-result").textContent(), new RegExp(msg("en", "roster.walk_in")));

  // Name search, then the participant's own PIN.
  await page.tap("#name_search");
  await typeOnKeyboard(page, "Zo");
  await page.tap('[data-action="search"]');
  await page.tap(`.found [data-user-id="${zoe.id}"]`);
  await page.tap("#person_pin");
  await typeOnKeyboard(page, zoe.pin);
  await page.tap('[data-action="submit-pin"]');
  await page.waitForSelector(`.scan-result.checked_in[data-user-id="${zoe.id}"]`);

  // The instructor marks someone present.
  await page.tap(`.roster-line[data-user-id="${alexei.id}"] [data-action="mark-in"]`);
  await page.waitForSelector(`.scan-result.checked_in[data-user-id="${alexei.id}"]`);
  await page.waitForFunction(() => document.querySelector(".count-present .count-n")?.textContent === "4", null, { timeout: 3000 });
  await shot(page, "classroom-roster-portrait");
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(await smallTargets(page, 64), []);

  // The second screen followed within a second, without a reload.
  await watcher.waitForFunction(() => document.querySelector(".count-present .count-n")?.textContent === "4", null, { timeout: 3000 });
  await shot(watcher, "classroom-roster-second-screen-landscape");
  assert.deepEqual(await overflowing(watcher), []);
  // And it survives a reload.
  await watcher.reload();
  await screen(watcher, "roster");
  await watcher.waitForFunction(() => document.querySelector(".count-present .count-n")?.textContent === "4");

  // Check-out: switch the mode, scan.
  await page.tap('[data-mode="out"]');
  await page.evaluate(() => document.getElementById("scan").focus());
  await scan(page, alexei.id);
  await page.waitForSelector(`.scan-result.checked_out[data-user-id="${alexei.id}"]`);
  await watcher.waitForFunction(() => document.querySelector(".count-present .count-n")?.textContent === "3", null, { timeout: 3000 });

  // The staff session ends (idle on a shared kiosk): the next action asks to sign in again,
  // and the roster stays.
  await page.evaluate(async () => fetch("/api/auth/sign-out", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }));
  await page.tap('[data-mode="in"]');
  await page.evaluate(() => document.getElementById("scan").focus());
  await scan(page, alexei.id);
  await page.waitForSelector('.sign-in-again[data-code="unauthenticated"]');
  await shot(page, "classroom-sign-in-again-portrait");
  // The instructor scans their own badge to sign back in (it is not taken as a check-in).
  await scan(page, room.instructor.badge);
  await page.waitForSelector('.sign-in-again .badge-read[data-badge="read"]');
  await page.tap("#again_pin");
  await typeOnKeyboard(page, room.instructor.pin);
  await page.tap('[data-action="sign-in-again"]');
  await page.waitForSelector(".sign-in-again", { state: "detached" });
  await page.evaluate(() => document.getElementById("scan").focus());
  await scan(page, alexei.id);
  await page.waitForSelector(`.scan-result.checked_in[data-user-id="${alexei.id}"]`);

  // A walk-in without an account: the instructor picks the link, is signed out, hands over the
  // screen; the newcomer enrolls and comes back checked in; the instructor signs in to the roster.
  await page.tap('[data-action="walk-in"]');
  await page.waitForSelector(`.walkin-links [data-link="${fixture.links.pinned.token}"]`);
  await shot(page, "classroom-walk-in-links-portrait");
  // If the instructor's sign-out does not go through, the screen is not handed over.
  await page.route("**/api/auth/sign-out", (r) =>
    r.fulfill({ status: 503, contentType: "application/problem+json", body: JSON.stringify({ status: 503, code: "unavailable", title: "Service Unavailable" }) }),
  );
  await page.tap(`.walkin-links [data-link="${fixture.links.pinned.token}"]`);
  await page.waitForSelector(".walkin-dialog .notice.error");
  assert.equal(await page.locator("main").getAttribute("data-screen"), "roster");
  await page.unroute("**/api/auth/sign-out");
  await page.tap(`.walkin-links [data-link="${fixture.links.pinned.token}"]`);
  await screen(page, "enroll");
  await page.waitForSelector("#given_name");
  assert.equal(
    await page.locator(".walkin-banner").textContent(),
    msg("en", "walkin.banner", { class: room.class.title }),
  );
  const me = await page.evaluate(async () => (await fetch("/api/auth/me")).status);
  assert.equal(me, 401, "the instructor's session ended before the hand-over");
  await fillOnKeyboard(page, "#given_name", "Walter");
  await fillOnKeyboard(page, "#family_name", "Walk-In");
  await fillOnKeyboard(page, "#email", "walter.walkin@example.com");
  await page.tap('[data-action="accept"]');
  await shot(page, "classroom-walk-in-enroll-portrait");
  await page.tap('[data-action="submit"]');
  await screen(page, "result");
  await page.waitForSelector(".walkin-card.checked_in");
  assert.match(await page.locator(".walkin-card").textContent(), new RegExp(`${room.class.title}.*\\d\\d:\\d\\d`));
  await shot(page, "classroom-walk-in-checked-in-portrait");
  assert.deepEqual(await overflowing(page), []);
  await watcher.waitForFunction(() => document.querySelector(".count-present .count-n")?.textContent === "5", null, { timeout: 3000 });
  await page.tap('[data-action="done"]');
  await page.tap('[data-action="confirm-done"]');
  await screen(page, "staff");
  assert.equal(
    await page.locator('[data-message="walk-in-return"]').textContent(),
    msg("en", "walkin.sign_in_again", { class: room.class.title }),
  );
  // This time the instructor scans their badge instead of typing the ID.
  await scan(page, room.instructor.badge);
  await page.waitForSelector('.badge-read[data-badge="read"]');
  assert.equal(await page.evaluate(() => document.activeElement.id), "pin");
  await shot(page, "staff-sign-in-badge-read-portrait");
  await page.tap("#pin");
  await typeOnKeyboard(page, room.instructor.pin);
  await page.tap('[data-action="sign-in"]');
  await screen(page, "roster");
  await page.waitForFunction(() => document.querySelector(".count-present .count-n")?.textContent === "5");
  assert.equal(await page.locator('.roster-line .walkin-tag').count() >= 2, true, "Zofia and Walter are walk-ins");

  // Close the class; everyone's outcome shows.
  await page.tap('[data-action="close-class"]');
  await shot(page, "classroom-close-confirm-portrait");
  await page.tap('[data-action="confirm-close"]');
  await page.waitForSelector('.roster[data-state="closed"]');
  assert.equal(await page.locator(".roster-line").count(), 5);
  await shot(page, "classroom-closed-portrait");
  await watcher.waitForSelector('.roster-list[data-state="closed"], .roster[data-state="closed"]', { timeout: 3000 });

  // Export the CSV.
  const [download] = await Promise.all([page.waitForEvent("download"), page.tap('[data-action="export"]')]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.ok(csv.startsWith("\uFEFFUser ID,Given name,Family name,"), csv.slice(0, 80));
  assert.ok(csv.includes("Núñez Peña") && csv.includes("O'Brien") && csv.includes("Смирнов") && csv.includes("Łukasiewicz-Wróbel"));
  assert.ok(csv.includes('"Acme Scaffolding, Ltd."'), "a comma is quoted");
  assert.ok(csv.includes(",attended,") && csv.includes("walk-in"));
  assert.ok(csv.includes("Walk-In") && csv.includes("enrollment"), "the walk-in, checked in by enrollment");
  assert.equal(csv.trimEnd().split("\r\n").length, 6);

  assert.deepEqual(page.errors, []);
  assert.deepEqual(watcher.errors, []);
  await watcher.context().close();
  await page.context().close();
});

test("self check-in on the kiosk: refused scan, then ID + PIN with a large confirmation", async () => {
  const opened = await callApi("POST", `/api/classes/${room.later.id}/open`, {}, { token: room.instructor_token });
  assert.equal(opened.status, 200, JSON.stringify(opened.body));
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await page.tap('.feature-tile[data-feature="checkin"]');
  await screen(page, "checkin");
  await page.waitForSelector("#self_scan, .checkin .tile");
  // With another class open too, the participant picks theirs first.
  if (await page.locator(".checkin .tile").count()) {
    await shot(page, "checkin-which-class-portrait");
    await page.tap(`.checkin .tile[data-class="${room.later.id}"]`);
    await page.waitForSelector("#self_scan");
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), "self_scan");
  await shot(page, "checkin-start-portrait");
  assert.deepEqual(await smallTargets(page, 64), []);
  await scan(page, "SG1ABC");
  await page.waitForSelector('.checkin-confirm.refused[data-code="badge_not_sitegate"]');
  await shot(page, "checkin-refused-portrait");
  await page.tap('[data-action="again"]');
  // A scan while the ID field has the focus is still a scan.
  await page.tap("#user_id");
  await scan(page, fixture.badges.unknown);
  await page.waitForSelector('.checkin-confirm.refused[data-code="badge_unknown"]');
  await page.tap('[data-action="again"]');
  assert.equal(await page.inputValue("#user_id"), "");
  const zofia = room.people[3];
  await page.tap("#user_id");
  await typeOnKeyboard(page, zofia.id.replace("-", ""));
  await page.tap("#pin");
  await typeOnKeyboard(page, zofia.pin);
  await page.tap('[data-action="check-in"]');
  await page.waitForSelector(".checkin-confirm.checked_in");
  assert.equal(await page.locator(".confirm-name").textContent(), `${zofia.given_name} ${zofia.family_name}`);
  assert.match(await page.locator(".confirm-class").textContent(), /Fire extinguishers · Yard/);
  await shot(page, "checkin-confirmed-portrait");
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
