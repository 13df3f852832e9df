// The staff screens on the kiosk, against the real API: a manager gives a VR PIN (seen once),
// issues and revokes a one-time password, approves a headset's pairing request after comparing
// codes, ends a headset session, reads the audit log, and sets up an authenticator app, then
// signs in with PIN + code. An instructor is offered only what the API lets them do; a trainee
// is refused; an ended staff session returns the kiosk to the start screen, saying why.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  LANDSCAPE, LANGS, PORTRAIT, chooseLanguage, callApi, fixture, kioskUrl, launch, msg, overflowing, phoneUrl, screen, shot, smallTargets, touchPage,
  typeOnKeyboard,
} from "./lib/harness.mjs";
import { Headset, advanceClock, makeUser, otpauthSecret, serverNow, signInOnKiosk, totpCode } from "./lib/staff.mjs";

let browser;
let manager;
let trainee;
before(async () => {
  browser = await launch();
  manager = await makeUser("Marta", "Nowak", "manager");
  trainee = await makeUser("Tomasz", "Wiśniewski", "trainee");
});
after(async () => {
  await browser.close();
});

/** Layout checks every staff screen must pass: glove-sized targets, nothing cut off. */
async function looksRight(page, name) {
  await shot(page, name);
  assert.deepEqual(await smallTargets(page, 64), [], `${name}: small touch targets`);
  assert.deepEqual(await overflowing(page), [], `${name}: text overflows`);
}

async function openArea(page, area) {
  await page.tap(`.staff-menu [data-area="${area}"]`);
  await screen(page, `staff-${area}`);
}

async function backToMenu(page) {
  await page.tap('[data-action="staff-menu"]');
  await page.waitForSelector(".staff.signed-in");
}

test("a manager gives a VR PIN once, and issues and revokes a one-time password", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await signInOnKiosk(page, manager);
  // Managers must have an authenticator: the menu says so until they do.
  await page.waitForSelector('[data-required="totp"]');
  assert.equal(await page.locator('[data-required="totp"] p').textContent(), msg("en", "staff.totp.required"));
  assert.equal(await page.locator(".staff-menu [data-area]").count(), 6);
  await looksRight(page, "staff-menu-manager-portrait");

  await openArea(page, "users");
  await page.tap("#user_query");
  await typeOnKeyboard(page, "wiśniew");
  await page.tap('[data-action="search"]');
  await page.waitForSelector(`[data-results="1"] [data-user-id="${trainee.id}"]`);
  await looksRight(page, "staff-users-found-portrait");
  await page.tap(`[data-results="1"] [data-user-id="${trainee.id}"]`);
  await page.waitForSelector(`.staff-user[data-user-id="${trainee.id}"]`);

  // A new PIN, after saying the old one stops working; shown once, big, with the hand-over step.
  await page.tap('[data-action="new-pin"]');
  assert.equal(await page.locator(".banner.confirm p").textContent(), msg("en", "staff.users.pin_confirm"));
  await page.tap('[data-action="confirm-yes"]');
  const pinBox = page.locator('[data-once="pin"]');
  await pinBox.waitFor();
  const pin = await pinBox.locator(".big-code").getAttribute("data-code");
  assert.match(pin, /^\d{6}$/);
  assert.equal(await pinBox.locator(".warning").textContent(), msg("en", "staff.once.warning"));
  await looksRight(page, "staff-pin-once-portrait");
  const fontSize = await pinBox.locator(".big-code").evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(fontSize >= 60, `the PIN is big (${fontSize}px)`);
  await page.tap('[data-action="once-done"]');
  await page.waitForSelector('[data-once="pin"]', { state: "detached" });
  assert.equal(await page.locator(`text=${pin}`).count(), 0, "the PIN is gone from the screen");
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + location.href);
  assert.ok(!stored.includes(pin), "the PIN is kept nowhere in the browser");
  trainee.pin = pin;

  // A one-time password: 8 digits, once; then listed without its code, and revocable.
  await page.tap('[data-action="new-otp"]');
  const otpBox = page.locator('[data-once="otp"]');
  await otpBox.waitFor();
  const otp = await otpBox.locator(".big-code").getAttribute("data-code");
  assert.match(otp, /^\d{8}$/);
  await shot(page, "staff-otp-once-portrait");
  await page.tap('[data-action="once-done"]');
  await page.waitForSelector('.otp-list [data-otp-id]');
  assert.equal(await page.locator(".otp-list [data-otp-id]").count(), 1);
  assert.ok(!(await page.locator(".otp-list").textContent()).includes(otp), "the list does not show the code");
  const listed = await callApi("GET", `/api/otps?user_id=${trainee.id}`, undefined, { token: fixture.staff.token });
  assert.equal(listed.body.length, 1);
  await page.tap('.otp-list [data-action="revoke-otp"]');
  await page.waitForSelector('[data-outcome="ok"]');
  assert.equal(await page.locator('[data-outcome="ok"]').textContent(), msg("en", "staff.users.otp_revoked"));
  await page.waitForSelector(".otp-list [data-otp-id]", { state: "detached" });
  const after = await callApi("GET", `/api/otps?user_id=${trainee.id}`, undefined, { token: fixture.staff.token });
  assert.equal(after.body.length, 0, "revoked on the gateway");
  await looksRight(page, "staff-user-portrait");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a manager approves a headset after comparing codes, places it in a room and ends a session", async () => {
  const page = await touchPage(browser, LANDSCAPE);
  const headset = new Headset("Headset 7");
  const { answer, ownCode } = await headset.pair();
  assert.equal(answer.comparison_code, ownCode, "the headset computes the gateway's code");
  assert.equal((await headset.claim()).status, 409, "waiting for staff");

  await signInOnKiosk(page, manager);
  await openArea(page, "devices");
  const card = page.locator(`.pairing[data-device-id="${headset.id}"]`);
  await card.waitFor();
  assert.equal(await card.locator(".compare-code").textContent(), ownCode, "staff see the code the headset shows");
  await looksRight(page, "staff-devices-pending-landscape");
  await card.locator('[data-action="approve"]').tap();
  await page.waitForSelector('[data-outcome="ok"]');
  await page.waitForSelector(`.pairing[data-device-id="${headset.id}"]`, { state: "detached" });
  assert.equal((await headset.claim()).status, 200, "approved: the headset collects its token");

  // Place it in a room, typed on the kiosk's keyboard.
  const paired = page.locator(`[data-section="devices"] [data-device-id="${headset.id}"]`);
  await paired.locator('[data-action="room"]').tap();
  await page.tap("#device_room");
  await typeOnKeyboard(page, "Room 2");
  await page.tap('[data-action="save"]');
  await page.waitForSelector('[data-outcome="ok"]');
  await page.waitForFunction((id) => document.querySelector(`[data-section="devices"] [data-device-id="${id}"]`)?.textContent.includes("Room 2"), headset.id);

  // Someone logs in on it; staff see the session and end it.
  const login = await headset.login({ user_id: trainee.id, pin: trainee.pin });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  await page.tap('[data-action="refresh"]');
  const row = page.locator(`[data-section="sessions"] [data-session-id="${login.body.session_id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /Tomasz W\./);
  await looksRight(page, "staff-devices-session-landscape");
  await row.locator('[data-action="end-session"]').tap();
  await page.waitForSelector(`[data-session-id="${login.body.session_id}"]`, { state: "detached" });
  assert.equal((await headset.call("GET", "/api/headset/me")).status, 401, "the headset's session is over");

  // Where multicast is blocked: the gateway's address and fingerprint, as text and QR.
  await page.tap('[data-action="setup"]');
  const info = await callApi("GET", "/api/gateway/info", undefined, { token: fixture.staff.token });
  if (info.status === 200) {
    const fp = page.locator(`[data-fingerprint="${info.body.fingerprint}"]`);
    await fp.waitFor();
    assert.equal(await fp.textContent(), info.body.fingerprint_hex);
    assert.equal(info.body.fingerprint, answer.fingerprint, "the certificate the headset paired with");
    if (info.body.qr_svg) assert.equal(await page.locator(".setup svg.qr").count(), 1);
    await page.locator(".setup").scrollIntoViewIfNeeded();
  } else {
    await page.waitForSelector('[data-setup="unavailable"]');
  }
  await looksRight(page, "staff-devices-setup-landscape");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a manager reads the odds, the throttling and the audit log, filtered", async () => {
  const page = await touchPage(browser, PORTRAIT);
  // A wrong PIN for the audit log to show (someone else's account: the trainee's stays unthrottled).
  const guessed = await makeUser("Gus", "Guessed", "trainee");
  const wrong = await callApi("POST", "/api/auth/sign-in", { user_id: guessed.id, pin: guessed.pin === "00000000" ? "11111111" : "00000000" });
  assert.equal(wrong.status, 401);
  await signInOnKiosk(page, manager);
  await openArea(page, "security");
  const odds = page.locator(".odds");
  await odds.waitFor();
  const api = await callApi("GET", "/api/security/odds", undefined, { token: fixture.staff.token });
  assert.equal(await odds.getAttribute("data-one-in"), String(api.body.one_in), "the site's own odds");
  assert.ok(api.body.per_day < 0.001, "the defaults meet the goal");
  assert.equal(await odds.locator(".hint").textContent(), msg("en", "staff.security.odds_good"));
  await page.waitForSelector(".audit-entry");
  for (const event of ["user.pin_issue", "user.otp_issue", "user.otp_revoke", "headset.session_end"]) {
    assert.ok((await page.locator(`.audit-entry[data-event="${event}"]`).count()) >= 1, `the log shows ${event}`);
  }
  await looksRight(page, "staff-security-portrait");
  // The guessed account is held back; a manager clears it.
  const held = page.locator(`[data-account="${guessed.id}"]`);
  await held.waitFor();
  await held.locator('[data-action="clear-account"]').tap();
  await page.waitForSelector('[data-outcome="ok"]');
  assert.equal(await page.locator('[data-outcome="ok"]').textContent(), msg("en", "staff.security.cleared"));
  await page.waitForSelector(`[data-account="${guessed.id}"]`, { state: "detached" });
  const throttle = await callApi("GET", "/api/security/throttle", undefined, { token: fixture.staff.token });
  assert.ok(!throttle.body.accounts.some((a) => a.user_id === guessed.id), "cleared on the gateway");
  // Only failures.
  await page.tap('[data-filter="failure"]');
  await page.waitForSelector('[data-filter="failure"][aria-pressed="true"]');
  const outcomes = await page.locator(".audit-entry").evaluateAll((els) => els.map((e) => e.dataset.outcome));
  assert.ok(outcomes.length >= 1);
  assert.deepEqual([...new Set(outcomes)], ["failure"]);
  // And text typed on the keyboard keeps only the entries that mention it.
  await page.tap('[data-filter="all"]');
  await page.tap("#audit_text");
  await typeOnKeyboard(page, "otp");
  const shown = await page.locator(".audit-entry:not([hidden])").evaluateAll((els) => els.map((e) => [e.dataset.event, e.textContent]));
  const events = shown.map(([e]) => e);
  assert.ok(events.includes("user.otp_issue") && events.includes("user.otp_revoke"), events.join(", "));
  assert.ok(shown.every(([, text]) => text.toLowerCase().includes("otp")), events.join(", "));
  assert.ok(!events.includes("user.pin_issue"));
  assert.equal(await page.inputValue("#audit_text"), "otp", "the keyboard stays on the search field");
  await page.tap('.kb [data-key="next"]');
  await page.locator(".audit-count").scrollIntoViewIfNeeded();
  await looksRight(page, "staff-audit-filtered-portrait");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a manager sets up an authenticator, then signs in with PIN and code", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await signInOnKiosk(page, manager);
  await page.tap('[data-action="totp-now"]');
  await screen(page, "staff-totp");
  const answer = page.waitForResponse((r) => r.url().endsWith("/api/auth/totp") && r.request().method() === "POST");
  await page.tap('[data-action="totp-begin"]');
  await page.waitForSelector(".qr-box svg.qr path");
  // The code comes from the secret in the otpauth URI the QR carries; the key shown for typing by hand is the same.
  const uri = (await (await answer).json()).otpauth_uri;
  assert.match(uri, /^otpauth:\/\/totp\/.*issuer=sitegate/);
  const secret = otpauthSecret(uri);
  assert.equal(await page.locator(".secret-text").getAttribute("data-secret"), secret);
  await looksRight(page, "staff-totp-qr-portrait");
  // A wrong code is refused and nothing is enrolled.
  await page.tap("#totp_code");
  await typeOnKeyboard(page, totpCode(secret, serverNow) === "000000" ? "111111" : "000000");
  await page.tap('[data-action="totp-confirm"]');
  await page.waitForSelector('[data-field="totp_code"] .field-error');
  await page.tap("#totp_code");
  await typeOnKeyboard(page, totpCode(secret, serverNow));
  await page.tap('[data-action="totp-confirm"]');
  await page.waitForSelector('[data-outcome="ok"]');
  assert.equal(await page.locator('[data-outcome="ok"]').textContent(), msg("en", "staff.totp.done"));
  await shot(page, "staff-totp-done-portrait");
  await backToMenu(page);
  assert.equal(await page.locator('[data-required="totp"]').count(), 0, "no more reminder");
  await page.tap('[data-action="sign-out"]');
  await page.waitForSelector("#user_id");

  // The same code again is a replay; half a minute later, the new code signs in.
  await signInOnKiosk(page, manager, { expectCode: true });
  assert.equal(await page.locator(".staff-totp-step .lead").textContent(), msg("en", "staff.totp_step.lead"));
  await shot(page, "staff-sign-in-code-portrait");
  await page.tap("#totp");
  await typeOnKeyboard(page, totpCode(secret, serverNow));
  await page.tap('[data-action="sign-in-code"]');
  await page.waitForSelector(".staff .notice.error");
  assert.equal(await page.locator(".staff .notice.error").textContent(), msg("en", "error.invalid_credentials"));
  const now = await advanceClock(30);
  await signInOnKiosk(page, manager, { expectCode: true });
  await page.tap("#totp");
  await typeOnKeyboard(page, totpCode(secret, now));
  await page.tap('[data-action="sign-in-code"]');
  await page.waitForSelector(".staff.signed-in");
  assert.equal(await page.locator(".staff-who").getAttribute("data-user-id"), manager.id);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  manager.secret = secret;
});

test("on a laptop over HTTPS a manager signs in with PIN and code, and no secret is kept in the browser", async () => {
  const page = await touchPage(browser, { width: 1366, height: 768 });
  await page.goto(phoneUrl("/"));
  await screen(page, "start");
  await page.tap('[data-action="staff"]');
  await screen(page, "staff");
  // The laptop's own keyboard: no on-screen one, and the PIN is a password field.
  assert.equal(await page.getAttribute("#pin", "type"), "password");
  await page.fill("#user_id", manager.id);
  await page.fill("#pin", manager.pin);
  await page.tap('[data-action="sign-in"]');
  await page.waitForSelector("#totp");
  const now = await advanceClock(30);
  await page.fill("#totp", totpCode(manager.secret, now));
  await page.tap('[data-action="sign-in-code"]');
  await page.waitForSelector(".staff.signed-in");
  await openArea(page, "users");
  await page.fill("#user_query", "wisniewski");
  await page.press("#user_query", "Enter");
  await page.tap(`[data-results="1"] [data-user-id="${trainee.id}"]`);
  await page.tap('[data-action="new-otp"]');
  const otp = await page.locator('[data-once="otp"] .big-code').getAttribute("data-code");
  await shot(page, "staff-otp-once-laptop");
  assert.deepEqual(await overflowing(page), []);
  const kept = await page.evaluate(() => ({
    storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    href: location.href,
    cookie: document.cookie,
  }));
  for (const secret of [otp, manager.pin, manager.secret]) {
    assert.ok(!kept.storage.includes(secret) && !kept.href.includes(secret) && !kept.cookie.includes(secret), "no secret kept in the browser");
  }
  assert.equal(kept.cookie, "", "the session cookie is HttpOnly");
  await page.tap('[data-action="once-done"]');
  await page.tap('.otp-list [data-action="revoke-otp"]');
  await page.waitForSelector(".otp-list [data-otp-id]", { state: "detached" });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a manager with an authenticator signs back in on an open roster with PIN and code", async () => {
  const at = (secs) => new Date((serverNow + secs) * 1000).toISOString();
  const token = fixture.staff.token;
  const made = await callApi("POST", "/api/classes", { title: "Rescue drill", room: "Yard 2", starts_at: at(-60), ends_at: at(3600), instructors: [fixture.classroom.instructor.id] }, { token });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const opened = await callApi("POST", `/api/classes/${made.body.id}/open`, {}, { token });
  assert.equal(opened.status, 200, JSON.stringify(opened.body));
  const page = await touchPage(browser, PORTRAIT);
  let now = await advanceClock(30);
  await signInOnKiosk(page, manager, { expectCode: true });
  await page.tap("#totp");
  await typeOnKeyboard(page, totpCode(manager.secret, now));
  await page.tap('[data-action="sign-in-code"]');
  await page.waitForSelector(".staff.signed-in");
  await page.goto(kioskUrl(`/?screen=roster#class=${made.body.id}`));
  await screen(page, "roster");
  await page.waitForSelector('.roster[data-state="open"]');
  // The session ends while the roster stays on screen: the next action asks to sign in again,
  // and for a manager with an authenticator, its code after the PIN.
  await page.evaluate(async () => fetch("/api/auth/sign-out", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }));
  await page.tap("#typed_id");
  await typeOnKeyboard(page, manager.id.replace("-", ""));
  await page.tap('[data-action="submit-id"]');
  await page.waitForSelector('.sign-in-again[data-code="unauthenticated"]');
  await page.tap("#again_id");
  await typeOnKeyboard(page, manager.id.replace("-", ""));
  await page.tap("#again_pin");
  await typeOnKeyboard(page, manager.pin);
  await page.tap('[data-action="sign-in-again"]');
  await page.waitForSelector("#again_totp");
  await shot(page, "roster-sign-in-again-code-portrait");
  now = await advanceClock(30);
  await page.tap("#again_totp");
  await typeOnKeyboard(page, totpCode(manager.secret, now));
  await page.tap('[data-action="sign-in-again"]');
  await page.waitForSelector(".sign-in-again", { state: "detached" });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a manager resets an instructor's authenticator, and is not offered an administrator's", async () => {
  const token = fixture.staff.token;
  const instructor = await makeUser("Ilse", "Authenticated", "instructor");
  const begun = await callApi("POST", `/api/users/${instructor.id}/totp`, {}, { token });
  assert.equal(begun.status, 200, JSON.stringify(begun.body));
  const confirmed = await callApi("POST", `/api/users/${instructor.id}/totp/confirm`, { code: totpCode(otpauthSecret(begun.body.otpauth_uri), serverNow) }, { token });
  assert.equal(confirmed.status, 204, JSON.stringify(confirmed.body));
  // The administrator has started setting one up: pending, and above a manager.
  assert.equal((await callApi("POST", "/api/auth/totp", {}, { token })).status, 200);

  const page = await touchPage(browser, PORTRAIT);
  const now = await advanceClock(30);
  await signInOnKiosk(page, manager, { expectCode: true });
  await page.tap("#totp");
  await typeOnKeyboard(page, totpCode(manager.secret, now));
  await page.tap('[data-action="sign-in-code"]');
  await page.waitForSelector(".staff.signed-in");
  await openArea(page, "users");
  await page.tap("#user_query");
  await typeOnKeyboard(page, "Ilse");
  await page.tap('[data-action="search"]');
  await page.tap(`[data-user-id="${instructor.id}"]`);
  await page.waitForSelector('[data-totp="enrolled"]');
  await page.tap('[data-action="reset-totp"]');
  assert.equal(await page.locator(".banner.confirm p").textContent(), msg("en", "staff.users.totp_reset_confirm"));
  await shot(page, "staff-totp-reset-confirm-portrait");
  await page.tap('[data-action="confirm-yes"]');
  await page.waitForSelector('[data-totp="none"]');
  assert.equal(await page.locator('[data-outcome="ok"]').textContent(), msg("en", "staff.users.totp_reset_done"));
  const status = await callApi("GET", `/api/users/${instructor.id}/totp`, undefined, { token });
  assert.equal(status.body.enrolled, false, "removed on the gateway");

  // Back to the search, which keeps what was typed: rub it out on the keyboard.
  await page.tap('[data-action="other-user"]');
  assert.equal(await page.inputValue("#user_query"), "Ilse");
  await page.tap("#user_query");
  for (let i = 0; i < 4; i += 1) await page.tap('.kb [data-key="back"]');
  await typeOnKeyboard(page, fixture.staff.id.replace("-", ""));
  await page.tap('[data-action="search"]');
  await page.tap(`.staff-list [data-user-id="${fixture.staff.id}"]`);
  await page.waitForSelector('[data-totp="pending"]');
  assert.equal(await page.locator('[data-action="reset-totp"]').count(), 0, "not offered for a higher role");
  assert.equal(await page.locator('[data-totp="pending"] .hint').textContent(), msg("en", "staff.users.totp_higher_role"));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("an instructor is offered only what they may do; a trainee is refused", async () => {
  const instructor = await makeUser("Inés", "Oliveira", "instructor");
  const headset = new Headset("Headset 8");
  await headset.pair();
  const page = await touchPage(browser, PORTRAIT);
  await signInOnKiosk(page, instructor);
  const areas = await page.locator(".staff-menu [data-area]").evaluateAll((els) => els.map((e) => e.dataset.area));
  assert.deepEqual(areas, ["devices", "security", "sync", "totp"], "no PINs or passwords for an instructor");
  assert.equal(await page.locator('[data-required="totp"]').count(), 0, "instructors need no authenticator");
  await looksRight(page, "staff-menu-instructor-portrait");
  await openArea(page, "devices");
  const card = page.locator(`.pairing[data-device-id="${headset.id}"]`);
  await card.waitFor();
  assert.equal(await card.locator("button").count(), 0, "no approve or reject");
  assert.equal(await card.locator(".notice").textContent(), msg("en", "staff.devices.managers_decide"));
  // The API agrees.
  await backToMenu(page);
  await openArea(page, "security");
  await page.waitForSelector(".odds");
  assert.equal(await page.locator(".audit").count(), 0);
  assert.equal(await page.locator('[data-action^="clear-"]').count(), 0);
  await page.tap('[data-action="staff-menu"]');
  await page.tap('[data-action="sign-out"]');
  await page.waitForSelector("#user_id");

  await page.tap("#user_id");
  await typeOnKeyboard(page, trainee.id.replace("-", ""));
  await page.tap("#pin");
  await typeOnKeyboard(page, trainee.pin);
  await page.tap('[data-action="sign-in"]');
  await page.waitForSelector(".staff .notice.error");
  assert.equal(await page.locator(".staff .notice.error").textContent(), msg("en", "staff.not_staff"));
  await shot(page, "staff-trainee-refused-portrait");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const [orientation, viewport] of [["portrait", PORTRAIT], ["landscape", LANDSCAPE]]) {
  test(`the staff screens fit in every language, ${orientation}`, async () => {
    const boss = await makeUser("Łucja", "Przybylska-Gonçalves", "manager");
    const headset = new Headset(`Headset ${orientation}`);
    await headset.pair();
    const page = await touchPage(browser, viewport);
    await signInOnKiosk(page, boss);
    for (const lang of LANGS) {
      await chooseLanguage(page, lang);
      await looksRight(page, `staff-menu-${lang}-${orientation}`);
      await openArea(page, "users");
      await page.tap("#user_query");
      await typeOnKeyboard(page, "Tomasz");
      await page.tap('[data-action="search"]');
      await page.tap(`[data-user-id="${trainee.id}"]`);
      await page.waitForSelector('[data-totp]');
      await page.tap('[data-action="new-pin"]');
      await looksRight(page, `staff-user-${lang}-${orientation}`);
      await page.tap('[data-action="confirm-no"]');
      await backToMenu(page);
      await openArea(page, "devices");
      await page.waitForSelector(`.pairing[data-device-id="${headset.id}"]`);
      await looksRight(page, `staff-devices-${lang}-${orientation}`);
      await backToMenu(page);
      await openArea(page, "security");
      await page.waitForSelector(".audit-entry");
      await looksRight(page, `staff-security-${lang}-${orientation}`);
      await backToMenu(page);
      // Sync: both warnings and the refused events planted by tests/kiosk_browser.rs.
      await openArea(page, "sync");
      await page.waitForSelector('.dead-letter [data-action="discard"]');
      await page.waitForSelector('[data-warning="clock"]');
      await looksRight(page, `staff-sync-${lang}-${orientation}`);
      await backToMenu(page);
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test("an ended staff session takes the kiosk back to the start screen, saying why", async () => {
  const page = await touchPage(browser, PORTRAIT);
  const instructor = await makeUser("Ivo", "Timeout", "instructor");
  await signInOnKiosk(page, instructor);
  await openArea(page, "devices");
  // Two minutes untouched on the gateway's clock: the kiosk session is over.
  await advanceClock(121);
  await page.tap('[data-action="refresh"]');
  await screen(page, "start");
  const notice = page.locator('[data-notice="staff-expired"]');
  await notice.waitFor();
  assert.equal(await notice.locator("p").textContent(), msg("en", "staff.session.ended_expired"));
  await looksRight(page, "staff-session-ended-portrait");
  await page.tap('[data-action="notice-ok"]');
  await page.waitForSelector(".overlay", { state: "detached" });

  // The kiosk's own idle reset signs staff out too, and says so.
  await page.clock.install();
  await page.goto(kioskUrl("/"));
  await signInOnKiosk(page, instructor);
  await page.clock.fastForward((fixture.idle_seconds + 5) * 1000);
  await page.waitForSelector('[data-notice="staff-idle"]');
  await screen(page, "start");
  assert.equal(await page.locator('[data-notice="staff-idle"] p').textContent(), msg("en", "staff.session.ended_idle"));
  const me = await page.evaluate(async () => (await fetch("/api/auth/me")).status);
  assert.equal(me, 401, "signed out on the gateway too");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
