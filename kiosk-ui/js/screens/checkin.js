// Self check-in at the kiosk: while a class is open, a badge scan (the scanner types the payload
// and Enter) or ID + PIN checks the person in, with a large confirmation (name, class, time) or
// the reason it refused.

import { get, post } from "../api.js";
import { h } from "../dom.js";
import { field, problemText } from "../fields.js";
import { parseUserId, typingForm } from "../ids.js";
import { watchScanner } from "../scanner.js";
import { hhmm } from "../time.js";

export function checkinScreen(app) {
  const state = { classes: null, chosen: null, scan: "", id: "", pin: "", errors: {}, result: null, busy: false };
  const screen = { name: "checkin", render, afterRender, leave: null };
  // A scan made while the ID or PIN field has the focus still counts as a scan.
  screen.leave = watchScanner((payload) => state.chosen && !state.busy && send({ badge: payload.slice(0, 64) }), {
    skip: (el) => el.id === "self_scan",
  });

  get("/api/kiosk/classes").then((res) => {
    state.classes = res.ok ? res.data : [];
    if (state.classes.length === 1) state.chosen = state.classes[0];
    if (!res.ok) state.result = { ok: false, code: res.code };
    if (app.screen === screen) app.render();
  });

  async function send(body) {
    state.busy = true;
    app.render();
    const res = await post("/api/kiosk/check-in", { class_id: state.chosen.id, ...body });
    state.busy = false;
    state.pin = "";
    state.result = res.ok ? { ok: true, data: res.data } : { ok: false, code: res.code, field: res.field };
    if (res.ok) state.id = "";
    app.render();
  }

  function submitScan() {
    const text = state.scan.trim();
    state.scan = "";
    if (text) send({ badge: text.slice(0, 64) });
  }

  function submitIdPin() {
    state.errors = {};
    const id = parseUserId(state.id);
    if (!id.ok) state.errors.user_id = app.t(id.code === "required" ? "error.required" : `error.${id.code}`);
    if (!state.pin) state.errors.pin = app.t("error.required");
    if (Object.keys(state.errors).length) return app.render();
    send({ user_id: id.id, pin: state.pin });
  }

  function afterRender() {
    const active = document.activeElement;
    const box = document.getElementById("self_scan");
    if (box && !(active && active.tagName === "INPUT" && active.id !== "self_scan")) box.focus();
  }

  function confirmation() {
    const r = state.result;
    if (r.ok) {
      const d = r.data;
      return h(
        "div",
        { class: `checkin-confirm ${d.status}`, role: "status", "data-status": d.status },
        h("div", { class: "confirm-mark", "aria-hidden": "true" }, "✓"),
        h("p", { class: "confirm-name" }, `${d.given_name} ${d.family_name}`),
        h("p", { class: "confirm-what" }, app.t(d.status === "already_checked_in" ? "checkin.already" : "checkin.done", { time: hhmm(d.at) })),
        h("p", { class: "confirm-class" }, `${d.class_title} · ${d.room}`),
        h("button", { type: "button", class: "button primary", "data-action": "done", onclick: () => app.goHome() }, app.t("result.done")),
      );
    }
    return h(
      "div",
      { class: "checkin-confirm refused", role: "alert", "data-code": r.code },
      h("div", { class: "confirm-mark", "aria-hidden": "true" }, "✗"),
      h("p", { class: "confirm-what" }, problemText(app, r.code, r.field)),
      h("button", { type: "button", class: "button primary", "data-action": "again", onclick: () => { state.result = null; app.render(); } }, app.t("checkin.try_again")),
    );
  }

  function render() {
    if (!state.classes) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    if (state.result) return h("section", { class: "checkin" }, confirmation());
    const back = h("div", { class: "actions" }, h("button", { type: "button", class: "button secondary", "data-action": "back", onclick: () => app.goHome() }, app.t("common.back_to_start")));
    if (!state.classes.length) return h("section", { class: "checkin" }, h("h1", {}, app.t("start.checkin.title")), h("p", { class: "notice" }, app.t("checkin.none_open")), back);
    if (!state.chosen) {
      return h(
        "section",
        { class: "checkin" },
        h("h1", {}, app.t("checkin.which_class")),
        h("div", { class: "tiles" }, state.classes.map((c) => h("button", { type: "button", class: "tile", "data-class": c.id, onclick: () => { state.chosen = c; app.render(); } },
          h("span", { class: "tile-title" }, c.title), h("span", { class: "tile-text" }, `${hhmm(c.starts_at)}–${hhmm(c.ends_at)} · ${c.room}`)))),
        back,
      );
    }
    const c = state.chosen;
    return h(
      "section",
      { class: "checkin" },
      h("h1", {}, app.t("start.checkin.title")),
      h("p", { class: "class-meta" }, h("strong", {}, c.title), ` · ${c.room} · ${hhmm(c.starts_at)}–${hhmm(c.ends_at)}`),
      h("label", { class: "scan-label", for: "self_scan" }, app.t("checkin.scan")),
      h("input", {
        id: "self_scan", class: "scan-input", type: "text", value: state.scan, autocomplete: "off", spellcheck: "false", inputmode: "none", "data-kb": "scan",
        placeholder: app.t("roster.scan_placeholder"),
        oninput: (e) => { state.scan = e.target.value; },
        onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); submitScan(); } },
      }),
      h("h2", {}, app.t("checkin.or_id_pin")),
      field(app, { id: "user_id", label: app.t("staff.id"), kb: "id", value: state.id, maxlength: 64, error: state.errors.user_id, oninput: (v, el) => { state.id = typingForm(v); if (el.value !== state.id) el.value = state.id; } }),
      field(app, { id: "pin", label: app.t("staff.pin"), kb: "pin", secret: true, value: state.pin, maxlength: 10, inputmode: "numeric", error: state.errors.pin, oninput: (v) => { state.pin = v; } }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "check-in", disabled: state.busy, onclick: submitIdPin }, app.t("checkin.submit")),
        h("button", { type: "button", class: "button secondary", "data-action": "back", onclick: () => app.goHome() }, app.t("common.back_to_start"))),
    );
  }
  return screen;
}
