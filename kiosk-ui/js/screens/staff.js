// Staff sign-in on the kiosk: ID and PIN on the kiosk's own keypads (then the authenticator's
// code for staff who have one); once signed in, who it is, the staff menu (staff-menu.js) and a
// sign-out. (The kiosk's staff session ends after 2 idle minutes on the gateway's side, and at
// the kiosk's idle reset.)

import { get, post } from "../api.js";
import { h } from "../dom.js";
import { badgeRead, field, problemText } from "../fields.js";
import { formatUserId, parseUserId, typingForm } from "../ids.js";
import { watchScanner } from "../scanner.js";
import { staffMenu } from "./staff-menu.js";

/** Screens signed-in staff can open from here (badge printing, …): `open(app)` per key. */
const TOOLS = [];

/** For later screens: a button `staff.tool.<key>` on the signed-in screen opens `open(app)`. */
export function registerStaffTool(key, open) {
  if (!TOOLS.some((t) => t.key === key)) TOOLS.push({ key, open });
}

/**
 * opts.then: where a sign-in leads instead of the staff menu (back to a class roster after a
 * walk-in); opts.lead: the line above the form saying so.
 */
export function staffScreen(app, opts = {}) {
  // `totpFor`: the ID and PIN held (in memory only) while the authenticator's code is asked for.
  // `badge`: a scanned badge's payload standing in for the typed ID.
  const state = { checking: true, id: "", badge: null, pin: "", totp: "", totpFor: null, errors: {}, problem: null, busy: false };
  const screen = { name: "staff", render, leave: null };

  // Scanning one's badge fills in who it is; the PIN follows.
  screen.leave = watchScanner((payload) => {
    if (app.staff || state.totpFor || state.busy) return;
    state.badge = payload.slice(0, 64);
    state.id = "";
    state.errors = {};
    state.problem = null;
    app.render();
    const pin = document.getElementById("pin");
    if (pin) pin.focus();
  });

  /** Who the sign-in is for: the scanned badge, or the typed ID. */
  function claimed(idOk) {
    return state.badge ? { badge: state.badge } : { user_id: idOk };
  }

  get("/api/auth/me").then((res) => {
    state.checking = false;
    app.staff = res.ok ? { ...(app.staff || {}), ...res.data } : null;
    if (app.screen === screen) app.render();
  });

  async function signIn() {
    state.errors = {};
    state.problem = null;
    const id = state.badge ? { ok: true, id: null } : parseUserId(state.id);
    if (!id.ok) state.errors.user_id = app.t(id.code === "required" ? "error.required" : `error.${id.code}`);
    if (!state.pin.trim()) state.errors.pin = app.t("error.required");
    if (Object.keys(state.errors).length) return app.render();
    state.busy = true;
    app.render();
    const who = claimed(id.id);
    const res = await post("/api/auth/sign-in", { ...who, pin: state.pin.trim() });
    state.busy = false;
    if (res.ok || res.code !== "totp_required") state.pin = "";
    // A badge that is not a sitegate badge is put aside: scan again, or type the ID.
    if (!res.ok && res.code === "badge_not_sitegate") state.badge = null;
    if (!res.ok && res.code === "totp_required") {
      state.totpFor = { who, pin: state.pin.trim() };
      state.badge = null;
      state.pin = "";
      state.id = "";
      state.totp = "";
    } else if (res.ok) {
      const u = res.data.user || {};
      app.staff = { user_id: u.id || id.id, name: [u.given_name, u.family_name].filter(Boolean).join(" "), role: res.data.role };
      state.id = "";
      state.badge = null;
      if (opts.then) return opts.then();
    } else if (res.field === "user_id" || res.code === "id_typo") {
      state.errors.user_id = problemText(app, res.code, res.field);
    } else if (res.code === "forbidden") {
      state.problem = app.t("staff.not_staff");
    } else {
      state.problem = problemText(app, res.code, res.field);
    }
    if (app.screen === screen) app.render();
  }

  /** The second step for staff with an authenticator: its current code. */
  async function signInWithCode() {
    state.errors = {};
    state.problem = null;
    const code = state.totp.replace(/\s/g, "");
    if (!/^\d{6}$/.test(code)) {
      state.errors.totp = app.t("staff.totp.code_format");
      return app.render();
    }
    state.busy = true;
    app.render();
    const held = state.totpFor;
    const res = await post("/api/auth/sign-in", { ...held.who, pin: held.pin, totp: code });
    state.busy = false;
    state.totp = "";
    state.totpFor = null;
    if (res.ok) {
      const u = res.data.user || {};
      app.staff = { user_id: u.id || held.who.user_id, name: [u.given_name, u.family_name].filter(Boolean).join(" "), role: res.data.role };
      state.id = "";
      if (opts.then) return opts.then();
    } else {
      // Any refusal starts over from the PIN: nothing is kept.
      state.problem = problemText(app, res.code, res.field);
    }
    if (app.screen === screen) app.render();
  }

  function codeForm() {
    return h(
      "section",
      { class: "staff staff-totp-step" },
      h("h1", {}, app.t("staff.title")),
      h("p", { class: "lead" }, app.t("staff.totp_step.lead")),
      field(app, {
        id: "totp",
        label: app.t("staff.totp_step.code"),
        kb: "pin",
        value: state.totp,
        maxlength: 6,
        inputmode: "numeric",
        error: state.errors.totp,
        oninput: (v) => {
          state.totp = v;
        },
      }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "sign-in-code", disabled: state.busy, onclick: signInWithCode }, app.t("staff.sign_in")),
        h(
          "button",
          {
            type: "button",
            class: "button secondary",
            "data-action": "cancel-code",
            onclick: () => {
              state.totpFor = null;
              state.totp = "";
              app.render();
            },
          },
          app.t("common.cancel"),
        ),
      ),
    );
  }

  async function signOut() {
    state.busy = true;
    app.render();
    await post("/api/auth/sign-out", {});
    app.staff = null;
    state.busy = false;
    if (app.screen === screen) app.render();
  }

  function back() {
    app.goHome();
  }

  function signedIn() {
    const s = app.staff;
    return h(
      "section",
      { class: "staff signed-in" },
      h("h1", {}, app.t("staff.signed_in_title")),
      h(
        "p",
        { class: "staff-who", "data-user-id": formatUserId(s.user_id) },
        s.name ? h("strong", {}, s.name) : null,
        s.name ? " " : null,
        h("span", { class: "mono" }, formatUserId(s.user_id)),
      ),
      h("p", { class: "staff-role" }, app.t("staff.role", { role: app.t(`role.${s.role}`) })),
      staffMenu(app, () => app.show(staffScreen(app))),
      h("p", { class: "hint" }, app.t("staff.idle_note")),
      TOOLS.length
        ? h(
            "div",
            { class: "tiles staff-tools" },
            TOOLS.map((t) =>
              h("button", { type: "button", class: "tile staff-tool", "data-tool": t.key, onclick: () => t.open(app) }, h("span", { class: "tile-title" }, app.t(`staff.tool.${t.key}`))),
            ),
          )
        : null,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "sign-out", disabled: state.busy, onclick: signOut }, app.t("staff.sign_out")),
        h("button", { type: "button", class: "button secondary", "data-action": "back", onclick: back }, app.t("common.back_to_start")),
      ),
    );
  }

  function form() {
    return h(
      "section",
      { class: "staff" },
      h("h1", {}, app.t("staff.title")),
      h("p", { class: "lead", "data-message": opts.lead ? "walk-in-return" : undefined }, opts.lead || app.t("staff.lead")),
      state.problem ? h("p", { class: "notice error", role: "alert" }, state.problem) : null,
      state.badge
        ? badgeRead(app, () => {
            state.badge = null;
            app.render();
          })
        : field(app, {
            id: "user_id",
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
        id: "pin",
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
        h("button", { type: "button", class: "button primary", "data-action": "sign-in", disabled: state.busy, onclick: signIn }, app.t("staff.sign_in")),
        h("button", { type: "button", class: "button secondary", "data-action": "back", onclick: back }, app.t("common.back_to_start")),
      ),
    );
  }

  function render() {
    if (state.checking) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    if (app.staff) return signedIn();
    return state.totpFor ? codeForm() : form();
  }

  return screen;
}
