// Badges at the kiosk through the real API and the TCP test printer: the enrollment result shows
// the badge's preview and its print state going from printing to printed; a printer out of paper
// is shown and the badge prints once paper is back; "Reprint my badge" by a badge scan (a
// scanner types the QR's text, then Enter) and by ID + PIN; forged, half and replaced scans are
// refused with their own messages; staff see printers and jobs and print a badge for someone.

import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  LANDSCAPE, PORTRAIT, callApi, chooseLanguage, fillOnKeyboard, fixture, kioskUrl, launch, msg, overflowing, screen, shot,
  smallTargets, touchPage, typeOnKeyboard, scan,
} from "./lib/harness.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  printerMode("normal");
  await browser.close();
});

/** The test printer's mode for the next connections: normal, silent, paper_out, cover_open. */
function printerMode(mode) {
  writeFileSync(join(fixture.printer_control, "printer-mode"), mode);
}

/** Move the gateway's clock on (a retry after a fault comes due), and wait until it moved. */
async function advanceClock(secs) {
  const file = join(fixture.printer_control, "advance-clock");
  writeFileSync(file, String(secs));
  for (let i = 0; i < 100 && existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(existsSync(file), false, "the test did not move the clock");
}

/** The control loop reads the mode every 50 ms. */
const settle = () => new Promise((r) => setTimeout(r, 200));

async function enrollAtKiosk(page, { lang, given, email }) {
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await chooseLanguage(page, lang);
  await page.locator(`.link-tile[data-token="${fixture.links.pinned.token}"]`).tap();
  await page.waitForSelector("#given_name");
  await fillOnKeyboard(page, "#given_name", given);
  await fillOnKeyboard(page, "#family_name", "Kowalski");
  await fillOnKeyboard(page, "#email", email);
  await page.tap('[data-action="accept"]');
  await page.tap('[data-action="submit"]');
  await screen(page, "result");
}

async function previewLoaded(page) {
  await page.waitForFunction(() => {
    const img = document.querySelector(".badge-job img.badge-preview");
    return img && img.complete && img.naturalWidth > 0;
  });
  const size = await page.evaluate(() => {
    const img = document.querySelector(".badge-job img.badge-preview");
    return { w: img.naturalWidth, h: img.naturalHeight, shownW: img.clientWidth };
  });
  assert.ok(size.w >= 300 && size.h >= 200, `a badge-sized bitmap: ${JSON.stringify(size)}`);
  assert.ok(size.shownW > 0 && size.shownW <= size.w + 1, "shown at its own size or smaller");
}

async function jobState(page, state, lang, key) {
  await page.waitForSelector(`.badge-job[data-state="${state}"] .job-status[data-message="${key}"]`, { timeout: 20_000 });
  assert.equal((await page.locator(".badge-job .job-status").textContent()).trim(), msg(lang, key));
}

test("an enrollment's result shows the badge preview, then printing, then printed", async () => {
  // A printer that does not answer status queries holds the job in `printing` for a moment.
  printerMode("silent");
  await settle();
  const page = await touchPage(browser, PORTRAIT);
  try {
    await enrollAtKiosk(page, { lang: "en", given: "Brygida", email: "brygida@example.com" });
    assert.equal(await page.locator(".badge h2").textContent(), msg("en", "result.badge_title"));
    await previewLoaded(page);
    assert.equal(await page.getAttribute(".badge-preview", "alt"), msg("en", "result.badge_alt"));
    const src = await page.getAttribute(".badge-preview", "src");
    assert.match(src, /^\/api\/kiosk\/print-jobs\/[0-9a-f-]{36}\/badge\.png$/, "no personal data in the URL");
    await jobState(page, "printing", "en", "badge.job.printing");
    await shot(page, "badge-enroll-printing-en-portrait");
    await jobState(page, "printed", "en", "badge.job.printed");
    await shot(page, "badge-enroll-printed-en-portrait");
    assert.deepEqual(await overflowing(page), []);
    assert.deepEqual(await smallTargets(page, 64), []);
    assert.deepEqual(page.errors, []);
  } finally {
    printerMode("normal");
    await page.context().close();
  }
});

test("a printer out of paper shows on the kiosk, and the badge prints once paper is back", async () => {
  printerMode("paper_out");
  await settle();
  const page = await touchPage(browser, LANDSCAPE);
  try {
    await enrollAtKiosk(page, { lang: "pl", given: "Łucja", email: "lucja@example.com" });
    await previewLoaded(page);
    await page.waitForSelector('.badge-job[data-fault="paper_out"]', { timeout: 20_000 });
    assert.equal((await page.locator(".badge-job .job-status").textContent()).trim(), msg("pl", "badge.job.paper_out"));
    await shot(page, "badge-enroll-paper-out-pl-landscape");
    assert.deepEqual(await overflowing(page), []);
    const id = await page.getAttribute(".badge-job", "data-job");
    const waiting = await callApi("GET", `/api/print-jobs/${id}`, undefined, { token: fixture.staff.token });
    assert.equal(waiting.status, 200, JSON.stringify(waiting.body));
    assert.equal(waiting.body.state, "queued", "waiting for paper, not given up");
    assert.equal(waiting.body.last_error, "paper_out");

    // Staff refill the printer: the retry comes due and the same job prints.
    printerMode("normal");
    await settle();
    await advanceClock(2);
    await jobState(page, "printed", "pl", "badge.job.printed");
    await shot(page, "badge-enroll-paper-back-pl-landscape");
    const done = await callApi("GET", `/api/print-jobs/${id}`, undefined, { token: fixture.staff.token });
    assert.equal(done.body.state, "printed");
    assert.ok(done.body.attempts >= 2, JSON.stringify(done.body));
    assert.deepEqual(page.errors, []);
  } finally {
    printerMode("normal");
    await page.context().close();
  }
});

async function openReprint(page, lang = "en") {
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  if (lang !== "en") await chooseLanguage(page, lang);
  const tile = page.locator('.feature-tile[data-feature="reprint"]');
  assert.equal((await tile.locator(".tile-title").textContent()).trim(), msg(lang, "start.reprint.title"));
  await tile.tap();
  await screen(page, "reprint");
}

const SYMBOLS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

test("reprint by badge scan: the new badge prints, and the old one is refused from then on", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await shot(page, "badge-start-with-reprint-en-portrait");
  await openReprint(page);
  assert.equal(await page.locator(".reprint h1").textContent(), msg("en", "reprint.title"));
  await shot(page, "badge-reprint-en-portrait");
  assert.deepEqual(await smallTargets(page, 64), []);
  assert.deepEqual(await overflowing(page), []);

  const old = fixture.existing_user.badge_payload;
  await scan(page, old);
  await page.waitForSelector(".reprint.done .badge-job");
  assert.equal(await page.locator(".reprint.done h1").textContent(), msg("en", "reprint.printing_title"));
  await previewLoaded(page);
  await jobState(page, "printed", "en", "badge.job.printed");
  await shot(page, "badge-reprint-scan-printed-en-portrait");
  assert.deepEqual(await overflowing(page), []);

  // Done: back to the start. The replaced badge no longer works.
  await page.tap('[data-action="done"]');
  await screen(page, "start");
  await page.locator('.feature-tile[data-feature="reprint"]').tap();
  await screen(page, "reprint");
  await scan(page, old);
  await page.waitForSelector('.reprint .notice.error[data-code="badge_retired"]');
  assert.equal(await page.locator(".reprint .notice.error").textContent(), msg("en", "error.badge_retired"));
  await shot(page, "badge-reprint-retired-en-portrait");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("forged, half, foreign, unknown and switched-off badges are refused, each with its own message in the worker's language", async () => {
  const page = await touchPage(browser, LANDSCAPE);
  const real = fixture.existing_user.badge_payload;
  const last = real[real.length - 1];
  const forged = real.slice(0, -1) + SYMBOLS[(SYMBOLS.indexOf(last) + 1) % SYMBOLS.length];
  const cases = [
    { lang: "pt", text: forged, code: "badge_forged", name: "forged" },
    { lang: "es", text: real.slice(0, Math.floor(real.length / 2)), code: "badge_not_sitegate", name: "half" },
    { lang: "pl", text: "https://example.com/not-a-badge", code: "badge_not_sitegate", name: "foreign" },
    { lang: "en", text: "X".repeat(260), code: "invalid_field", name: "overlong", key: "error.invalid_field.badge" },
    { lang: "es", text: fixture.badges.unknown, code: "badge_unknown", name: "unknown" },
    { lang: "pl", text: fixture.badges.deactivated, code: "user_deactivated", name: "deactivated" },
  ];
  for (const c of cases) {
    await openReprint(page, c.lang);
    await scan(page, c.text);
    const notice = page.locator(`.reprint .notice.error[data-code="${c.code}"]`);
    await notice.waitFor();
    assert.equal(await notice.textContent(), msg(c.lang, c.key || `error.${c.code}`), c.name);
    assert.equal(await page.locator(".badge-job").count(), 0, `${c.name}: nothing printed`);
    await shot(page, `badge-reprint-${c.name}-${c.lang}-landscape`);
    assert.deepEqual(await overflowing(page), [], c.name);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("reprint with ID and PIN on the keypads: a wrong PIN is refused, the right one prints", async () => {
  const page = await touchPage(browser, LANDSCAPE);
  const ex = fixture.existing_user;
  await openReprint(page, "es");
  await fillOnKeyboard(page, "#reprint_id", ex.id.replace("-", ""));
  assert.equal(await page.inputValue("#reprint_id"), ex.id);
  await fillOnKeyboard(page, "#reprint_pin", ex.pin === "000000" ? "111111" : "000000");
  await shot(page, "badge-reprint-pin-keypad-es-landscape");
  assert.deepEqual(await smallTargets(page, 64), []);
  await page.tap('[data-action="reprint-pin"]');
  const refused = page.locator('.reprint .notice.error[data-code="invalid_credentials"]');
  await refused.waitFor();
  assert.equal(await refused.textContent(), msg("es", "error.invalid_credentials"));
  assert.equal(await page.inputValue("#reprint_pin"), "", "a refused PIN is not kept");
  await shot(page, "badge-reprint-wrong-pin-es-landscape");

  await fillOnKeyboard(page, "#reprint_pin", ex.pin);
  await page.tap('[data-action="reprint-pin"]');
  await page.waitForSelector(".reprint.done .badge-job");
  await previewLoaded(page);
  await jobState(page, "printed", "es", "badge.job.printed");
  assert.equal(await page.locator(".reprint.done .lead").textContent(), msg("es", "reprint.old_retired"));
  await shot(page, "badge-reprint-pin-printed-es-landscape");
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("staff see the printers and print jobs, and print a new badge for someone with its preview", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(kioskUrl("/"));
  await screen(page, "start");
  await page.tap('[data-action="staff"]');
  await screen(page, "staff");
  await fillOnKeyboard(page, "#user_id", fixture.staff.id.replace("-", ""));
  await fillOnKeyboard(page, "#pin", fixture.staff.pin);
  await page.tap('[data-action="sign-in"]');
  await page.waitForSelector(".staff.signed-in");
  const tool = page.locator('.staff-tool[data-tool="printing"]');
  assert.equal((await tool.textContent()).trim(), msg("en", "staff.tool.printing"));
  await tool.tap();
  await screen(page, "staff-printing");
  await page.waitForSelector('.printer[data-printer="gate"]');
  assert.equal(await page.getAttribute('.printer[data-printer="gate"]', "data-status"), "ready");
  await page.waitForSelector(".job-list .job");
  // The job that waited out the paper shortage shows as printed, with what went wrong on the way.
  assert.ok((await page.locator('.job[data-state="printed"]').count()) >= 1);

  const ex = fixture.existing_user;
  await fillOnKeyboard(page, "#badge_user_id", ex.id.replace("-", ""));
  await page.tap('[data-action="staff-reprint"]');
  await page.waitForSelector(".staff-reprint-job .badge-job");
  await previewLoaded(page);
  await jobState(page, "printed", "en", "badge.job.printed_staff");
  await page.waitForFunction(() => document.querySelectorAll(".job-list .job").length >= 3);
  await shot(page, "badge-staff-printing-en-portrait");
  assert.deepEqual(await smallTargets(page, 64), []);
  assert.deepEqual(await overflowing(page), []);

  // A name the printer's fonts lack: staff are told which characters will print as boxes.
  await fillOnKeyboard(page, "#badge_user_id", fixture.cjk_user.id.replace("-", ""));
  await page.tap('[data-action="staff-reprint"]');
  const glyphs = page.locator('.staff-reprint-job [data-code="missing_glyphs"]');
  await glyphs.waitFor();
  assert.equal((await glyphs.textContent()).trim(), msg("en", "print.missing_glyphs", { chars: "王 小 明" }));
  await shot(page, "badge-staff-printing-missing-glyphs-en-portrait");

  // An unknown person: told at the field, nothing printed.
  await fillOnKeyboard(page, "#badge_user_id", "ZZZZZZZZZ");
  await page.tap('[data-action="staff-reprint"]');
  await page.waitForSelector('[data-field="badge_user_id"] .field-error');
  await page.tap('[data-action="back-to-staff"]');
  await page.waitForSelector(".staff.signed-in");
  await page.tap('[data-action="sign-out"]');
  await page.waitForSelector("#user_id");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
