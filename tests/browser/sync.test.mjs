// The staff Sync screen on a joined gateway whose credential the central system refused, with its
// clock 3 min 20 s behind the central system's (the store planted by tests/kiosk_browser.rs as
// the sync task leaves it): both warnings on top, joined to which site, what waits and since
// when, the last pull and push, the last problem in plain words, the clock offset, the link
// places leased here, and the two events the central system refused. An instructor sees it all
// on a laptop-sized screen but gets no buttons; the admin, on the portrait
// kiosk, presses Sync now, retries one event and discards the other with a reason typed on the
// kiosk's keyboard, both kept in the audit log.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { LANDSCAPE, PORTRAIT, SCREENSHOTS, callApi, fixture, launch, msg, overflowing, screen, shot, smallTargets, touchPage, typeOnKeyboard } from "./lib/harness.mjs";
import { makeUser, signInOnKiosk } from "./lib/staff.mjs";

/** A common laptop screen: narrower and much shorter than the kiosk's landscape. */
const LAPTOP = { width: 1366, height: 768 };

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
});

const admin = { id: fixture.staff.id, pin: fixture.staff.pin };
const [retried, discarded] = fixture.dead_letters;
const token = fixture.staff.token;

async function looksRight(page, name) {
  await shot(page, name);
  assert.deepEqual(await smallTargets(page, 64), [], `${name}: small touch targets`);
  assert.deepEqual(await overflowing(page), [], `${name}: text overflows`);
}

async function openSync(page, who) {
  await signInOnKiosk(page, who);
  await page.tap('.staff-menu [data-area="sync"]');
  await screen(page, "staff-sync");
  await page.waitForSelector(".sync-overview");
}

const text = (page, selector) => page.locator(selector).first().textContent();
const fact = (page, name) => text(page, `[data-fact="${name}"] dd`);

/** What every staff member reads on the screen, checked against the API's answer. */
async function readsTheStatus(page) {
  const api = await callApi("GET", "/api/sync/status", undefined, { token });
  assert.equal(api.status, 200, JSON.stringify(api.body));
  const s = api.body;
  assert.equal(s.state, "credential_refused");

  // The warnings come first: the refused credential, and the clock (central is ahead: this box is behind).
  const credential = page.locator('[data-warning="credential"]');
  assert.equal(await credential.locator(".sync-warning-title").textContent(), msg("en", "staff.sync.warn_credential_title"));
  assert.equal(await credential.locator("p").last().textContent(), msg("en", "staff.sync.warn_credential"));
  assert.equal(await page.locator('[data-warning="clock"] p').last().textContent(), msg("en", "staff.sync.clock_warn_behind", { min: 3 }));
  const [warnTop, gridTop] = await Promise.all([page.locator(".sync-warnings").boundingBox(), page.locator(".sync-grid").boundingBox()]);
  assert.ok(warnTop.y < gridTop.y, "the warnings are above the rest");

  assert.equal(await page.locator(".sync-overview").getAttribute("data-state"), "credential_refused");
  assert.equal(await text(page, ".sync-pill"), msg("en", "staff.sync.state.credential_refused"));
  assert.equal(await page.locator(".sync-summary").count(), 0, "the banner says it; the card does not repeat it");
  assert.equal(await text(page, ".sync-joined"), msg("en", "staff.sync.joined", { site: fixture.sync.site_name, url: fixture.sync.central_url }));

  const pending = await fact(page, "pending");
  assert.ok(pending.startsWith(String(s.pending_events)), pending);
  assert.ok(pending.includes(msg("en", "staff.sync.oldest", { age: "" }).trim()), `the oldest's age is shown: ${pending}`);
  assert.notEqual(await fact(page, "last-pull"), msg("en", "staff.sync.never"));
  assert.notEqual(await fact(page, "last-push"), msg("en", "staff.sync.never"));
  const problem = page.locator('[data-fact="last-error"] dd');
  assert.equal(await problem.locator(".sync-error-text").textContent(), "This gateway's credential was refused; join again");
  assert.ok((await problem.locator(".row-meta").textContent()).startsWith(msg("en", "staff.sync.during.push")));
  assert.equal(await fact(page, "clock"), msg("en", "staff.sync.clock_value", { s: "+200" }));
  assert.equal(await fact(page, "gateway"), s.gateway_id);

  const lease = page.locator(`[data-section="leases"] [data-link-id="${fixture.sync.leased_link}"]`);
  assert.equal(await lease.locator(".row-title").textContent(), "Contractors — spring");
  assert.equal(await lease.locator(".row-meta").textContent(), msg("en", "staff.sync.lease", { granted: 10, used: 4, free: 6 }));
  assert.equal(await page.locator('[data-section="quarantine"] .staff-list').count(), 0);

  assert.equal(await page.locator(".dead-letter").count(), 2);
  const first = page.locator(`.dead-letter[data-seq="${retried}"]`);
  assert.equal(await first.locator(".row-title").textContent(), "user.created");
  assert.equal(await first.locator(".row-meta.strong").textContent(), "email: already used by another user");
}

test("an instructor reads the sync and its warnings on a laptop, with nothing to press but Refresh", async () => {
  const instructor = await makeUser("Iris", "Synchro", "instructor");
  const page = await touchPage(browser, LAPTOP);
  await signInOnKiosk(page, instructor);
  assert.equal(await page.locator('.staff-menu [data-area="sync"] .tile-text').textContent(), msg("en", "staff.menu.sync.text_limited"));
  await page.tap('.staff-menu [data-area="sync"]');
  await screen(page, "staff-sync");
  await page.waitForSelector(".sync-overview");
  await readsTheStatus(page);
  for (const action of ["sync-now", "retry", "discard"]) {
    assert.equal(await page.locator(`[data-action="${action}"]`).count(), 0, `no ${action} for an instructor`);
  }
  assert.equal(await page.locator('[data-section="dead-letters"] .hint').first().textContent(), msg("en", "staff.sync.dead_hint_limited"));
  // Status and facts side by side on a laptop.
  const [overview, facts] = await Promise.all([page.locator(".sync-overview").boundingBox(), page.locator(".sync-facts").boundingBox()]);
  assert.ok(facts.x > overview.x + overview.width - 1, "two columns on a laptop-sized screen");
  await looksRight(page, "staff-sync-instructor-laptop");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the Sync screen on the landscape kiosk, warnings and refused events shown", async () => {
  const page = await touchPage(browser, LANDSCAPE);
  await openSync(page, admin);
  await readsTheStatus(page);
  await looksRight(page, "staff-sync-landscape");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the admin syncs now, retries one refused event and discards another with a reason", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await openSync(page, admin);
  await readsTheStatus(page);
  const before = (await callApi("GET", "/api/sync/status", undefined, { token })).body;
  await looksRight(page, "staff-sync-portrait");
  // The whole screen at once, warnings and refused events in one picture, for review (the
  // kiosk scrolls inside its frame, so a tall window rather than a full-page shot).
  await page.setViewportSize({ width: PORTRAIT.width, height: 3200 });
  await page.screenshot({ path: join(SCREENSHOTS, "staff-sync-portrait-full.png") });
  await page.setViewportSize(PORTRAIT);

  // Sync now: the task is woken (it has nothing it may do until a technician joins again).
  await page.tap('[data-action="sync-now"]');
  await page.waitForSelector('[data-outcome="ok"]');
  assert.equal(await text(page, '[data-outcome="ok"]'), msg("en", "staff.sync.now_done"));

  // Retry: back in the outbox, gone from the list.
  await page.locator(`.dead-letter[data-seq="${retried}"] [data-action="retry"]`).tap();
  await page.waitForSelector(`.dead-letter[data-seq="${retried}"]`, { state: "detached" });
  assert.equal(await text(page, '[data-outcome="ok"]'), msg("en", "staff.sync.retried", { seq: retried }));
  await page.waitForFunction(
    (n) => document.querySelector('[data-fact="pending"] dd')?.textContent.startsWith(String(n)),
    before.pending_events + 1,
  );

  // Discard: a reason first, typed on the kiosk's keyboard.
  const second = page.locator(`.dead-letter[data-seq="${discarded}"]`);
  await second.locator('[data-action="discard"]').tap();
  await page.waitForSelector("#discard_reason");
  await second.locator('[data-action="confirm-discard"]').tap();
  await page.waitForSelector('[data-field="discard_reason"] .field-error');
  assert.equal(await text(page, '[data-field="discard_reason"] .field-error'), msg("en", "staff.sync.reason_needed"));
  await page.tap("#discard_reason");
  await typeOnKeyboard(page, "Fixed centrally");
  assert.equal(await page.locator('[data-field="discard_reason"] .field-error').count(), 0, "typing a reason clears the complaint");
  await looksRight(page, "staff-sync-discard-portrait");
  await second.locator('[data-action="confirm-discard"]').tap();
  await page.waitForSelector(`.dead-letter[data-seq="${discarded}"]`, { state: "detached" });
  assert.equal(await text(page, '[data-outcome="ok"]'), msg("en", "staff.sync.discarded", { seq: discarded }));
  assert.equal(await page.locator('[data-section="dead-letters"] .hint').last().textContent(), msg("en", "staff.sync.none"));
  await looksRight(page, "staff-sync-done-portrait");

  const status = await callApi("GET", "/api/sync/status", undefined, { token });
  assert.deepEqual(status.body.dead_letters, []);
  const audit = await callApi("GET", "/api/audit?limit=50", undefined, { token });
  const discard = audit.body.find((e) => e.event === "sync.dead_letter_discard");
  assert.ok(discard, "the discard is audited");
  assert.equal(discard.detail, "Fixed centrally");
  assert.equal(discard.actor, fixture.staff.id);
  const retry = audit.body.find((e) => e.event === "sync.dead_letter_retry");
  assert.ok(retry, "the retry is audited");
  assert.equal(retry.actor, fixture.staff.id);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
