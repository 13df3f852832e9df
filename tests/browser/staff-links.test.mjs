// The staff Links screen against the real API: a manager makes an access link with a cap and an
// allocation (the API's refusals shown at their fields), finds it in the list, edits it, shows
// its poster (QR and the phone URL), watches its usage fill in while someone enrolls through it,
// and deactivates and reactivates it; in Polish too; on a laptop the usage comes as CSV; and on a
// gateway that knows no address a phone can open, the screen says so instead of showing a QR.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import {
  LANGS, PORTRAIT, callApi, chooseLanguage, fixture, launch, msg, overflowing, phoneUrl, screen, shot, smallTargets, touchPage,
  typeOnKeyboard,
} from "./lib/harness.mjs";
import { makeUser, signInOnKiosk } from "./lib/staff.mjs";
import { formatUserId } from "../../kiosk-ui/js/ids.js";

const LAPTOP = { width: 1280, height: 800 };
const admin = { token: fixture.staff.token };

let browser;
let manager;
let region;
/** The link the first scenario makes: {id, name, token, url}. */
let made;
before(async () => {
  browser = await launch();
  manager = await makeUser("Lena", "Kowalczyk", "manager");
  const r = await callApi("POST", "/api/units", { kind: "region", name: "North region" }, admin);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  region = r.body;
});
after(async () => {
  await browser.close();
});

/** Glove-sized targets, nothing cut off; a screenshot named `name`. */
async function looksRight(page, name) {
  await shot(page, name);
  assert.deepEqual(await smallTargets(page, 64), [], `${name}: small touch targets`);
  assert.deepEqual(await overflowing(page), [], `${name}: text overflows`);
}

async function openLinks(page) {
  await page.tap('.staff-menu [data-area="links"]');
  await screen(page, "staff-links");
  await page.waitForSelector(".link-list, [data-links='0']");
}

/** The list shows ten links at a time: "show more" until the link's row is there. */
async function findRow(page, id) {
  const row = page.locator(`.link-row[data-link-id="${id}"]`);
  while (!(await row.count()) && (await page.locator('[data-action="more-links"]').count())) await page.tap('[data-action="more-links"]');
  return row;
}

async function fieldError(page, field) {
  return page.locator(`[data-field="${field}"] .field-error`).textContent();
}

async function apiLink(id) {
  const res = await callApi("GET", `/api/links/${id}`, undefined, admin);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function unitIds(kind) {
  const res = await callApi("GET", `/api/units?kind=${kind}`, undefined, admin);
  return res.body;
}

async function enrollThrough(token, given, family, email) {
  const res = await callApi("POST", `/api/enroll/${token}`, {
    given_name: given,
    family_name: family,
    email,
    language: "en",
    terms_version: fixture.terms_version,
    accept_terms: true,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.user;
}

test("a manager makes a link with a cap and an allocation, edits it, shows its poster, watches its usage, deactivates and reactivates it", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await signInOnKiosk(page, manager);
  assert.equal(await page.locator('.staff-menu [data-area="links"] .tile-title').textContent(), msg("en", "staff.links.tile.title"));
  await openLinks(page);
  assert.equal(await page.locator("h1").textContent(), msg("en", "staff.links.title"));
  await looksRight(page, "staff-links-list-en-portrait");

  // The API's refusals show at their fields: no name, then an expiry in the past.
  await page.tap('[data-action="new-link"]');
  await page.waitForSelector('.link-form[data-mode="create"]');
  await page.waitForSelector(".unit-choices");
  await page.tap('[data-action="save-link"]');
  await page.waitForSelector('[data-field="link_name"] .field-error');
  assert.equal(await fieldError(page, "link_name"), msg("en", "staff.links.error.name"));
  const name = "Scaffolders East yard";
  await page.tap("#link_name");
  await typeOnKeyboard(page, name);
  await page.tap("#link_description");
  await typeOnKeyboard(page, "Induction before the first shift");
  await page.fill("#link_expires", "2026-11-01");
  await page.tap('[data-action="save-link"]');
  await page.waitForSelector('[data-field="link_expires"] .field-error');
  assert.equal(await fieldError(page, "link_expires"), msg("en", "staff.links.error.expires_at"));
  assert.equal(await page.inputValue("#link_name"), name, "what was typed stays");
  assert.equal(await page.locator('[data-field="link_name"] .field-error').count(), 0);
  // A cap that is not a number is caught before asking.
  await page.tap("#link_cap");
  await typeOnKeyboard(page, "0");
  await page.fill("#link_cap", "2x");
  await page.tap('[data-action="save-link"]');
  assert.equal(await fieldError(page, "link_cap"), msg("en", "staff.links.error.cap"));
  await page.fill("#link_cap", "");
  await page.tap("#link_cap");
  await typeOnKeyboard(page, "2");
  assert.equal(await page.locator('[data-field="link_cap"] .field-error').count(), 0, "corrected: the error goes");

  await page.fill("#link_expires", "2027-03-31");
  const [site] = (await unitIds("site")).filter((u) => u.name === "Northgate");
  const [group] = (await unitIds("group")).filter((u) => u.name === fixture.group_name);
  for (const u of [group, site, region]) {
    await page.tap(`.unit-choices [data-unit-id="${u.id}"]`);
    assert.equal(await page.getAttribute(`.unit-choices [data-unit-id="${u.id}"]`, "aria-pressed"), "true");
  }
  await page.tap('[data-action="pinned"]');
  assert.equal(await page.getAttribute('[data-action="pinned"]', "aria-checked"), "true");
  await page.locator(".link-form h2").scrollIntoViewIfNeeded();
  await looksRight(page, "staff-links-create-en-portrait");
  await page.tap('[data-action="save-link"]');

  const detail = page.locator(".link-detail");
  await detail.waitFor();
  assert.equal(await page.locator('[data-outcome="ok"]').textContent(), msg("en", "staff.links.created", { name }));
  const id = await detail.getAttribute("data-link-id");
  let link = await apiLink(id);
  assert.equal(link.name, name);
  assert.equal(link.description, "Induction before the first shift");
  assert.equal(link.cap, 2);
  assert.equal(link.pinned, true);
  assert.ok(link.expires_at.startsWith("2027-03-31T23:59:59"), link.expires_at);
  assert.deepEqual(link.allocation, { groups: [group.id], sites: [site.id], regions: [region.id] });
  assert.equal(await detail.getAttribute("data-state"), "active");
  assert.equal(await detail.locator("dd.link-used").textContent(), msg("en", "staff.links.used_of", { used: 0, cap: 2 }));
  made = { id, name, token: link.token, url: link.url };

  // In the list, newest first, with its state, use, expiry and where it puts people.
  await page.tap('[data-action="all-links"]');
  const row = page.locator(`.link-row[data-link-id="${id}"]`);
  await row.waitFor();
  assert.equal(await page.locator(".link-row").first().getAttribute("data-link-id"), id, "newest first");
  assert.equal(await row.getAttribute("data-state"), "active");
  assert.equal(await row.locator(".link-state").textContent(), msg("en", "staff.links.state.active"));
  assert.equal(await row.locator(".link-used").textContent(), msg("en", "staff.links.used_of", { used: 0, cap: 2 }));
  assert.match(await row.locator(".link-expiry").textContent(), /2027/);
  assert.equal(await row.locator(".link-places").textContent(), `Groups: ${fixture.group_name} · Sites: Northgate · Regions: North region`);
  assert.equal(await row.locator(".link-no-url").count(), 0, "this gateway has a phone URL");
  // The list shows a page at a time.
  assert.ok((await page.locator(".link-row").count()) <= 10);
  if (await page.locator('[data-action="more-links"]').count()) {
    await page.tap('[data-action="more-links"]');
    assert.ok((await page.locator(".link-row").count()) > 10);
  }

  // Edit: a bigger cap, no region, off the start screen. Only what changed is sent.
  await row.tap();
  await page.tap('[data-action="edit-link"]');
  await page.waitForSelector('.link-form[data-mode="edit"]');
  assert.equal(await page.inputValue("#link_name"), name);
  assert.equal(await page.inputValue("#link_cap"), "2");
  assert.equal(await page.inputValue("#link_expires"), "2027-03-31");
  await page.tap("#link_cap");
  await page.tap('.kb [data-key="back"]');
  await typeOnKeyboard(page, "3");
  await page.tap(`.unit-choices [data-unit-id="${region.id}"]`);
  await page.tap('[data-action="pinned"]');
  const patch = page.waitForRequest((r) => r.method() === "PATCH" && r.url().endsWith(`/api/links/${id}`));
  await page.tap('[data-action="save-link"]');
  assert.deepEqual(Object.keys((await patch).postDataJSON()).sort(), ["allocation", "cap", "pinned"]);
  await page.waitForSelector('[data-outcome="ok"]');
  assert.equal(await page.locator('[data-outcome="ok"]').textContent(), msg("en", "staff.links.saved", { name }));
  link = await apiLink(id);
  assert.equal(link.cap, 3);
  assert.equal(link.pinned, false);
  assert.deepEqual(link.allocation, { groups: [group.id], sites: [site.id], regions: [] });
  assert.equal(link.expires_at.slice(0, 19), "2027-03-31T23:59:59", "the expiry did not move");
  assert.equal(await detail.locator("dd.link-places").textContent(), `Groups: ${fixture.group_name} · Sites: Northgate`);

  // The poster: the QR and the URL a phone on the site LAN opens, and a print button.
  await page.tap('[data-tab="poster"]');
  await page.waitForSelector(".poster-qr svg.qr");
  assert.ok((await page.locator(".poster-qr svg.qr > *").count()) > 0, "the QR has its shapes");
  const url = await page.locator(".poster-url").textContent();
  assert.equal(url, link.url);
  assert.ok(url.startsWith(`https://${fixture.public_hostname}:`) && url.endsWith(`/enroll/${link.token}`), url);
  assert.equal(await page.locator(".poster-name").textContent(), name);
  const qrSize = await page.locator(".poster-qr svg").evaluate((el) => el.getBoundingClientRect().width);
  assert.ok(qrSize >= 500, `the QR is big on the kiosk (${qrSize}px)`);
  assert.equal(await page.locator('[data-action="poster-page"]').count(), 0, "no new window on the kiosk");
  await looksRight(page, "staff-links-poster-en-portrait");
  await page.evaluate(() => {
    window.printed = 0;
    window.print = () => {
      window.printed += 1;
    };
  });
  await page.tap('[data-action="print-poster"]');
  assert.equal(await page.evaluate(() => window.printed), 1);
  await page.emulateMedia({ media: "print" });
  await shot(page, "staff-links-poster-print-en");
  assert.equal(await page.locator(".link-tabs").evaluate((el) => getComputedStyle(el).visibility), "hidden");
  await page.emulateMedia({ media: "screen" });

  // Usage, live: nobody yet; then someone enrolls through the link and shows up by themselves.
  await page.tap('[data-tab="usage"]');
  await page.waitForSelector('.usage-count[data-count="0"]');
  assert.equal(await page.locator('[data-users="0"]').textContent(), msg("en", "staff.links.usage_none"));
  assert.equal(await page.locator('[data-action="usage-csv"]').count(), 0, "no download on the kiosk");
  const user = await enrollThrough(link.token, "Piotr", "Zieliński", "piotr.z@example.com");
  const person = page.locator(`.usage-list [data-user-id="${user.id}"]`);
  await person.waitFor({ timeout: 10000 });
  assert.equal(await page.locator(".usage-count").getAttribute("data-count"), "1");
  assert.equal(await page.locator(".usage-label").textContent(), msg("en", "staff.links.usage_of", { cap: 3 }));
  const personText = await person.textContent();
  assert.ok(personText.includes("Piotr Zieliński"), personText);
  assert.ok(personText.includes(formatUserId(user.id)), personText);
  assert.equal(await person.locator(".usage-places").textContent(), `Groups: ${fixture.group_name} · Sites: Northgate`);
  await looksRight(page, "staff-links-usage-en-portrait");

  // Deactivate, after saying what it does; then reactivate.
  await page.tap('[data-tab="details"]');
  await page.tap('[data-action="deactivate"]');
  assert.equal(await page.locator(".banner.confirm p").textContent(), msg("en", "staff.links.deactivate_confirm", { name }));
  await page.tap('[data-action="confirm-no"]');
  assert.equal((await apiLink(id)).state, "active", "cancel changes nothing");
  await page.tap('[data-action="deactivate"]');
  await page.tap('[data-action="confirm-yes"]');
  await page.waitForSelector('.link-detail[data-state="deactivated"]');
  assert.equal(await page.locator('[data-outcome="ok"]').textContent(), msg("en", "staff.links.deactivated", { name }));
  assert.equal((await apiLink(id)).state, "deactivated");
  assert.equal(await page.locator(".link-title .link-state").textContent(), msg("en", "staff.links.state.deactivated"));
  await shot(page, "staff-links-deactivated-en-portrait");
  await page.tap('[data-action="reactivate"]');
  assert.equal(await page.locator(".banner.confirm p").textContent(), msg("en", "staff.links.reactivate_confirm", { name }));
  await page.tap('[data-action="confirm-yes"]');
  await page.waitForSelector('.link-detail[data-state="active"]');
  assert.equal((await apiLink(id)).state, "active");
  await page.tap('[data-action="all-links"]');
  await page.waitForSelector(`.link-row[data-link-id="${id}"][data-state="active"]`);
  assert.equal(await page.locator(`.link-row[data-link-id="${id}"] .link-used`).textContent(), msg("en", "staff.links.used_of", { used: 1, cap: 3 }));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the Links screen in every language: list, form, poster and usage fit, in the staff member's words", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await signInOnKiosk(page, manager);
  await openLinks(page);
  const full = fixture.links.full;
  const fullRow = await findRow(page, full.id);
  for (const lang of LANGS) {
    await chooseLanguage(page, lang);
    assert.equal(await page.locator("h1").textContent(), msg(lang, "staff.links.title"));
    assert.equal(await fullRow.locator(".link-state").textContent(), msg(lang, "staff.links.state.full"));
    assert.deepEqual(await overflowing(page), [], `${lang}: list`);
  }
  await chooseLanguage(page, "pl");
  await shot(page, "staff-links-list-pl-portrait");
  await page.tap('[data-action="new-link"]');
  await page.waitForSelector(".unit-choices");
  await page.tap('[data-action="save-link"]');
  await page.waitForSelector('[data-field="link_name"] .field-error');
  assert.equal(await fieldError(page, "link_name"), msg("pl", "staff.links.error.name"));
  await looksRight(page, "staff-links-create-pl-portrait");
  await page.tap('[data-action="cancel"]');

  // A full link: its poster says it lets nobody in for now; its usage lists who filled it.
  await (await findRow(page, full.id)).tap();
  await page.waitForSelector('.link-detail[data-state="full"]');
  assert.equal(await page.locator("dd.link-state-text").textContent(), msg("pl", "staff.links.state_text.full"));
  await page.tap('[data-tab="poster"]');
  await page.waitForSelector(".poster-qr svg.qr");
  assert.equal(await page.locator("[data-poster-warning]").textContent(), msg("pl", "staff.links.poster_not_active", { state: msg("pl", "staff.links.state.full") }));
  assert.equal(await page.locator('.poster-scan [lang="pl"]').textContent(), msg("pl", "staff.links.poster_scan"));
  await looksRight(page, "staff-links-poster-pl-portrait");
  await page.tap('[data-tab="usage"]');
  await page.waitForSelector('.usage-list[data-users="1"]');
  assert.ok((await page.locator(".usage-list").textContent()).includes("First Seeded"));
  assert.equal(await page.locator(".usage-label").textContent(), msg("pl", "staff.links.usage_of", { cap: 1 }));
  await looksRight(page, "staff-links-usage-pl-portrait");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("on a laptop over HTTPS the usage downloads as CSV and the A4 poster opens", async () => {
  assert.ok(made, "the first scenario made a link");
  const page = await touchPage(browser, LAPTOP);
  await page.goto(phoneUrl("/"));
  await screen(page, "start");
  await page.tap('[data-action="staff"]');
  await screen(page, "staff");
  await page.fill("#user_id", manager.id);
  await page.fill("#pin", manager.pin);
  await page.tap('[data-action="sign-in"]');
  await page.waitForSelector(".staff.signed-in");
  await openLinks(page);
  await looksRight(page, "staff-links-list-en-laptop");
  await (await findRow(page, made.id)).tap();
  await page.tap('[data-tab="usage"]');
  await page.waitForSelector('.usage-list[data-users="1"]');
  await looksRight(page, "staff-links-usage-en-laptop");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-action="usage-csv"]')]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.ok(csv.startsWith("\uFEFFUser ID,Given name,Family name"), csv.slice(0, 80));
  assert.ok(csv.includes("Piotr,Zieliński"), csv);

  await page.tap('[data-tab="poster"]');
  await page.waitForSelector(".poster-qr svg.qr");
  await looksRight(page, "staff-links-poster-en-laptop");
  assert.equal(await page.getAttribute('[data-action="poster-page"]', "href"), `/api/links/${made.id}/poster`);
  const [poster] = await Promise.all([page.context().waitForEvent("page"), page.click('[data-action="poster-page"]')]);
  await poster.waitForLoadState();
  assert.equal(await poster.locator("p.url").textContent(), made.url);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("on a gateway that knows no address a phone can open, the screen says so instead of a QR", async () => {
  const gw = fixture.no_url;
  const page = await touchPage(browser, PORTRAIT);
  await page.goto(`${gw.kiosk_url}/`);
  await screen(page, "start");
  await page.tap('[data-action="staff"]');
  await screen(page, "staff");
  await page.tap("#user_id");
  await typeOnKeyboard(page, gw.staff.id.replace("-", ""));
  await page.tap("#pin");
  await typeOnKeyboard(page, gw.staff.pin);
  await page.tap('[data-action="sign-in"]');
  await page.waitForSelector(".staff.signed-in");
  await openLinks(page);
  const row = await findRow(page, gw.link.id);
  assert.equal(await row.locator(".link-no-url").textContent(), msg("en", "staff.links.no_url_short"));
  assert.equal(await row.locator(".link-no-url").getAttribute("data-no-url"), gw.link.url_unavailable);
  await row.tap();
  await page.waitForSelector(".link-detail");
  assert.equal(await page.locator(".link-details .link-no-url").textContent(), msg("en", "staff.links.no_url"));
  assert.equal(await page.locator(".link-url").count(), 0);
  await looksRight(page, "staff-links-no-url-en-portrait");
  await page.tap('[data-tab="poster"]');
  await page.waitForSelector('.link-poster[data-url="none"]');
  assert.equal(await page.locator(".link-poster svg").count(), 0, "no QR");
  assert.equal(await page.locator('[data-action="print-poster"]').count(), 0, "nothing to print");
  assert.ok(!(await page.locator(".link-poster").textContent()).includes("/enroll/"), "no URL that cannot work");
  for (const lang of ["es", "pt", "pl"]) {
    await chooseLanguage(page, lang);
    assert.equal(await page.locator(".link-poster .link-no-url").textContent(), msg(lang, "staff.links.no_url"));
    assert.deepEqual(await overflowing(page), [], lang);
  }
  await chooseLanguage(page, "es");
  await looksRight(page, "staff-links-no-url-poster-es-portrait");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
