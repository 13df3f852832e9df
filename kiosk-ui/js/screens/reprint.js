// "Reprint my badge", a start-screen feature of the kiosk: the worker scans their badge (a
// scanner types the QR's text, then Enter) or types their ID and PIN on the keypads; the gateway
// retires the old badge and prints a new one, followed here like an enrollment's badge. Every
// refusal (not a sitegate badge, forged, unknown, replaced, switched off, wrong PIN, too many
// tries) has its own message.

import { post } from "../api.js";
import { h } from "../dom.js";
import { field, problemText } from "../fields.js";
import { parseUserId, typingForm } from "../ids.js";
import { badgeJob } from "./badge-job.js";
import { registerFeature } from "./start.js";

/** A scanner types fast; keys further apart than this start a new scan. */
const SCAN_GAP_MS = 1500;
/** The API refuses longer scans; a longer one is not a sitegate badge. */
const SCAN_MAX = 200;

export function reprintScreen(app) {
  const state = { id: "", pin: "", errors: {}, problem: null, busy: false, job: null, scanning: false };
  const screen = { name: "reprint", render };
  let buffer = "";
  let last = 0;

  // Scans arrive as key presses outside the ID and PIN fields (those keep what is typed there).
  function onKey(e) {
    if (app.screen !== screen) return document.removeEventListener("keydown", onKey, true);
    if (state.job || state.busy) return;
    const t = e.target;
    if (t && t.tagName === "INPUT") return;
    const now = Date.now();
    if (now - last > SCAN_GAP_MS) buffer = "";
    last = now;
    if (e.key === "Enter") {
      e.preventDefault();
      const scanned = buffer.trim();
      buffer = "";
      if (scanned) submit({ badge: scanned.slice(0, SCAN_MAX + 1) });
      return;
    }
    if (e.key.length === 1) {
      buffer += e.key;
      if (!state.scanning) {
        state.scanning = true;
        app.render();
      }
    }
  }
  document.addEventListener("keydown", onKey, true);

  async function submit(body) {
    state.busy = true;
    state.scanning = false;
    state.problem = null;
    app.render();
    const res = await post("/api/kiosk/reprint", body);
    state.busy = false;
    state.pin = "";
    if (app.screen !== screen) return;
    if (res.ok && res.data && res.data.job_id) {
      state.job = badgeJob(app, screen, { jobId: res.data.job_id, job: res.data });
      app.keyboard.close();
    } else if (body.badge === undefined && (res.code === "id_typo" || (res.field === "user_id" && res.code !== "invalid_credentials"))) {
      state.errors.user_id = problemText(app, res.code, res.field);
    } else {
      state.problem = { code: res.code, text: problemText(app, res.code, res.field) };
    }
    app.render();
  }

  function withPin() {
    state.errors = {};
    state.problem = null;
    const id = parseUserId(state.id);
    if (!id.ok) state.errors.user_id = app.t(id.code === "required" ? "error.required" : `error.${id.code}`);
    if (!state.pin.trim()) state.errors.pin = app.t("error.required");
    if (Object.keys(state.errors).length) return app.render();
    submit({ user_id: id.id, pin: state.pin.trim() });
  }

  function printed() {
    return h(
      "section",
      { class: "reprint done" },
      h("h1", {}, app.t("reprint.printing_title")),
      h("p", { class: "lead" }, app.t("reprint.old_retired")),
      state.job.render(),
      h("div", { class: "actions" }, h("button", { type: "button", class: "button primary", "data-action": "done", onclick: () => app.reset() }, app.t("result.done"))),
    );
  }

  function form() {
    return h(
      "section",
      { class: "reprint" },
      h("h1", {}, app.t("reprint.title")),
      state.problem
        ? h("p", { class: "notice error", role: "alert", "data-code": state.problem.code }, state.problem.text)
        : null,
      h(
        "div",
        { class: `scan-panel${state.scanning ? " scanning" : ""}`, "data-action": "scan-area", "aria-busy": state.busy ? "true" : undefined },
        h("span", { class: "scan-icon", "aria-hidden": "true" }, h("span", {}), h("span", {}), h("span", {}), h("span", {})),
        h(
          "div",
          {},
          h("h2", {}, app.t("reprint.scan_title")),
          h("p", { class: "lead" }, app.t(state.busy ? "common.working" : state.scanning ? "reprint.scan_reading" : "reprint.scan_text")),
        ),
      ),
      h("h2", {}, app.t("reprint.pin_title")),
      h("p", { class: "hint" }, app.t("reprint.pin_text")),
      field(app, {
        id: "reprint_id",
        label: app.t("staff.id"),
        kb: "id",
        value: state.id,
        maxlength: 64,
        error: state.errors.user_id,
        oninput: (v, el) => {
          state.id = typingForm(v);
          if (el.value !== state.id) el.value = state.id;
        },
      }),
      field(app, {
        id: "reprint_pin",
        label: app.t("staff.pin"),
        kb: "pin",
        secret: true,
        value: state.pin,
        maxlength: 10,
        inputmode: "numeric",
        error: state.errors.pin,
        oninput: (v) => {
          state.pin = v;
        },
      }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "reprint-pin", disabled: state.busy, onclick: withPin }, app.t("reprint.print")),
        h("button", { type: "button", class: "button secondary", "data-action": "back", onclick: () => app.goHome() }, app.t("common.back_to_start")),
      ),
      h("p", { class: "hint" }, app.t("reprint.help")),
    );
  }

  function render() {
    return state.job ? printed() : form();
  }

  return screen;
}

registerFeature("reprint", (app) => app.show(reprintScreen(app)));
