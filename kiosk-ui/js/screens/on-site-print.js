// Printing the on-site list on the badge printer, from the on-site screen: a "Print the list"
// button that queues the list as it is now (POST /api/on-site/print) and the job's state in
// words, polled from the staff job route once a second until it is printed or failed, or the
// screen is left. Polling stops after POLL_LIMIT looks, so a printer that stays down does not
// keep a signed-in staff session awake on an unattended screen.

import { get, post } from "../api.js";
import { h } from "../dom.js";
import { problemText } from "../fields.js";
import { glyphNotice, jobFault } from "./badge-job.js";

const POLL_MS = 1000;
const POLL_LIMIT = 120;

/** The print control of `screen`: {button(), status()} to place in the screen's own render. */
export function onSitePrint(app, screen) {
  const state = { job: null, busy: false, problem: null, unseen: false, glyphs: null };
  let polls = 0;
  const done = () => Boolean(state.job) && (state.job.state === "printed" || state.job.state === "failed");
  const waiting = () => state.busy || (Boolean(state.job) && !done() && polls < POLL_LIMIT);

  async function poll() {
    if (app.screen !== screen || !state.job) return;
    const id = state.job.id;
    const res = await get(`/api/on-site/print/${encodeURIComponent(id)}`);
    if (app.screen !== screen || !state.job || state.job.id !== id) return;
    if (res.ok && res.data) state.job = res.data;
    polls += 1;
    state.unseen = !res.ok || (!done() && polls >= POLL_LIMIT);
    app.render();
    if (!done() && polls < POLL_LIMIT) setTimeout(poll, POLL_MS);
  }

  async function print() {
    if (waiting()) return;
    state.busy = true;
    state.problem = null;
    app.render();
    const res = await post("/api/on-site/print", {});
    state.busy = false;
    if (res.ok && res.data) {
      state.job = res.data.job;
      state.glyphs = res.data.missing_glyphs || null;
      state.unseen = false;
      polls = 0;
      setTimeout(poll, 300);
    } else {
      state.problem = res.code;
    }
    if (app.screen === screen) app.render();
  }

  function message(j) {
    const fault = jobFault(j);
    const reason = fault ? app.t(`badge.fault.${fault}`) : "";
    if (j.state === "printed") return { key: "onsite.print.printed", text: app.t("onsite.print.printed") };
    if (j.state === "failed") return { key: "onsite.print.failed", text: app.t("onsite.print.failed", { reason }) };
    if (fault) return { key: "onsite.print.fault", text: app.t("onsite.print.fault", { reason }) };
    if (j.state === "printing") return { key: "onsite.print.printing", text: app.t("onsite.print.printing") };
    return { key: "onsite.print.queued", text: app.t("onsite.print.queued") };
  }

  function button() {
    return h(
      "button",
      { type: "button", class: "button secondary", "data-action": "print", disabled: waiting(), onclick: print },
      app.t("onsite.print.button"),
    );
  }

  function status() {
    if (state.problem) {
      const text = state.problem === "printing_unavailable" ? app.t("onsite.print.unavailable") : problemText(app, state.problem);
      return h("p", { class: "notice error", role: "alert", "data-code": state.problem }, text);
    }
    const j = state.job;
    if (!j) return null;
    const m = message(j);
    const tone = j.state === "printed" ? "ok" : j.state === "failed" || jobFault(j) ? "error" : "busy";
    return h(
      "div",
      { class: "print-job", "data-job": j.id, "data-state": j.state, "data-fault": j.last_error || undefined },
      h(
        "p",
        { class: `job-status ${tone}`, role: "status", "aria-live": "polite", "data-message": m.key },
        tone === "busy" ? h("span", { class: "spinner", "aria-hidden": "true" }) : null,
        m.text,
      ),
      state.unseen ? h("p", { class: "hint" }, app.t("badge.job.unknown_state")) : null,
      glyphNotice(app, state.glyphs),
    );
  }

  return { button, status };
}
