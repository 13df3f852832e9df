// Who is on site now, printed for a roll call: the instructor opens the on-site list on the kiosk,
// taps "Print the list", and sees the job's state live until the TCP test printer has it.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { PORTRAIT, fixture, launch, msg, overflowing, screen, shot, smallTargets, touchPage } from "./lib/harness.mjs";
import { signInOnKiosk } from "./lib/staff.mjs";

const room = fixture.classroom;
let browser;
before(async () => {
  browser = await launch();
  writeFileSync(join(fixture.printer_control, "printer-mode"), "normal");
});
after(async () => {
  await browser.close();
});

test("the instructor prints who is on site and follows the print to the end", async () => {
  const page = await touchPage(browser, PORTRAIT);
  await signInOnKiosk(page, room.instructor);
  await page.tap('[data-tool="classes"]');
  await screen(page, "classes");
  await page.tap('[data-action="on-site"]');
  await screen(page, "on-site");
  // The session is the page's own cookie (earlier files may have moved the clock past a token).
  const staffGet = (path) => page.evaluate(async (p) => {
    const r = await fetch(p, { headers: { Accept: "application/json" } });
    return { status: r.status, body: await r.json() };
  }, path);
  const listed = await staffGet("/api/on-site");
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  await page.waitForSelector(`.on-site .lead[data-count="${listed.body.length}"]`);

  await page.tap('[data-action="print"]');
  const job = page.locator(".print-job");
  await job.waitFor();
  const id = await job.getAttribute("data-job");
  assert.match(id, /^[0-9a-f-]{36}$/);
  await page.waitForSelector('.print-job[data-state="printed"]', { timeout: 10000 });
  assert.equal(await page.locator(".print-job .job-status").textContent(), msg("en", "onsite.print.printed"));
  assert.equal(await page.locator('[data-action="print"]').isDisabled(), false, "another copy may be printed");
  await shot(page, "on-site-printed-portrait");
  assert.deepEqual(await overflowing(page), []);
  assert.deepEqual(await smallTargets(page, 64), []);

  // The job the screen followed is the list, printed on the badge printer.
  const done = await staffGet(`/api/on-site/print/${id}`);
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.kind, "on_site_list");
  assert.equal(done.body.state, "printed");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
