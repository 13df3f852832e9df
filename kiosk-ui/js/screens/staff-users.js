// Staff: find a user by ID or name, then give them a new VR PIN or a one-time password (each
// shown this once, with the hand-over step), see and revoke their outstanding one-time
// passwords, and reset their authenticator. What the signed-in role may not do is not offered.

import { h } from "../dom.js";
import { field } from "../fields.js";
import { formatUserId } from "../ids.js";
import { confirmRow, failText, isManager, outcome, outranks, shownOnce, staffCall, staffFrame, when } from "./staff-common.js";

export function staffUsersScreen(app, back) {
  const state = {
    query: "",
    results: null,
    searching: false,
    user: null,
    totp: null,
    otps: [],
    allOtps: null,
    secret: null,
    confirm: null,
    msg: null,
    busy: false,
  };
  const screen = { name: "staff-users", render };
  const redraw = () => app.screen === screen && app.render();

  async function loadAllOtps() {
    if (!isManager(app)) return;
    const res = await staffCall(app, "GET", "/api/otps");
    if (res.ended) return;
    state.allOtps = res.ok && Array.isArray(res.data) ? res.data : [];
    redraw();
  }
  loadAllOtps();

  async function search() {
    const q = state.query.trim();
    state.msg = null;
    if (!q) {
      state.msg = { error: true, text: app.t("staff.users.query_required") };
      return redraw();
    }
    state.searching = true;
    redraw();
    const res = await staffCall(app, "GET", `/api/users?limit=50&q=${encodeURIComponent(q)}`);
    state.searching = false;
    if (res.ended) return;
    if (!res.ok) state.msg = { error: true, text: failText(app, res) };
    state.results = res.ok ? res.data.users || [] : [];
    app.keyboard.close();
    redraw();
  }

  async function open(id) {
    state.msg = null;
    state.secret = null;
    state.confirm = null;
    const res = await staffCall(app, "GET", `/api/users/${encodeURIComponent(id)}`);
    if (res.ended) return;
    if (!res.ok) {
      state.msg = { error: true, text: failText(app, res) };
      return redraw();
    }
    state.user = res.data.user;
    state.totp = null;
    state.otps = [];
    redraw();
    await refreshCredentials();
  }

  async function refreshCredentials() {
    if (!state.user || !isManager(app)) return;
    const id = encodeURIComponent(state.user.id);
    const [totp, otps] = await Promise.all([staffCall(app, "GET", `/api/users/${id}/totp`), staffCall(app, "GET", `/api/otps?user_id=${id}`)]);
    if (totp.ended || otps.ended) return;
    state.totp = totp.ok ? totp.data : null;
    state.otps = otps.ok && Array.isArray(otps.data) ? otps.data : [];
    redraw();
    loadAllOtps();
  }

  async function act(method, path, body, onOk) {
    state.busy = true;
    state.msg = null;
    state.confirm = null;
    redraw();
    const res = await staffCall(app, method, path, body);
    state.busy = false;
    if (res.ended) return;
    if (res.ok) onOk(res.data);
    else state.msg = { error: true, text: failText(app, res) };
    redraw();
    if (res.ok && state.user) refreshCredentials();
    else if (res.ok) loadAllOtps();
  }

  const uid = () => encodeURIComponent(state.user.id);

  function newPin() {
    act("POST", `/api/users/${uid()}/pin`, {}, (d) => {
      state.secret = { kind: "pin", code: d.pin };
    });
  }

  function newOtp() {
    act("POST", `/api/users/${uid()}/otp`, {}, (d) => {
      state.secret = { kind: "otp", code: d.code, expires: d.expires_at };
    });
  }

  function revokeOtp(id) {
    act("POST", `/api/otps/${encodeURIComponent(id)}/revoke`, {}, () => {
      state.msg = { text: app.t("staff.users.otp_revoked") };
    });
  }

  function resetTotp() {
    act("POST", `/api/users/${uid()}/totp/reset`, {}, () => {
      state.msg = { text: app.t("staff.users.totp_reset_done") };
    });
  }

  function ask(kind) {
    state.confirm = kind;
    redraw();
  }

  function searchForm() {
    const queryField = field(app, {
      id: "user_query",
      label: app.t("staff.users.query"),
      hint: app.t("staff.users.query_hint"),
      kb: "text",
      value: state.query,
      maxlength: 64,
      oninput: (v) => {
        state.query = v;
      },
    });
    // A laptop's Enter searches too.
    queryField.querySelector("input").addEventListener("keydown", (e) => {
      if (e.key === "Enter") search();
    });
    return h(
      "div",
      { class: "staff-search" },
      queryField,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "search", disabled: state.searching, onclick: search }, app.t("staff.users.search")),
      ),
    );
  }

  function results() {
    if (state.results === null) return null;
    if (!state.results.length) return h("p", { class: "notice", "data-results": "0" }, app.t("staff.users.none_found"));
    return h(
      "ul",
      { class: "staff-list", "data-results": String(state.results.length) },
      state.results.map((u) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "row-button", "data-user-id": u.id, onclick: () => open(u.id) },
            h("span", { class: "row-title" }, `${u.given_name} ${u.family_name}`),
            h("span", { class: "row-meta mono" }, formatUserId(u.id)),
            h("span", { class: "row-meta" }, app.t(`role.${u.role}`), u.status === "active" ? "" : ` · ${app.t("staff.users.inactive")}`),
          ),
        ),
      ),
    );
  }

  function otpList(list, { withUser }) {
    if (!list.length) return h("p", { class: "hint" }, app.t("staff.users.no_otps"));
    return h(
      "ul",
      { class: "staff-list otp-list" },
      list.map((o) =>
        h(
          "li",
          { class: "row", "data-otp-id": o.id },
          h(
            "div",
            { class: "row-text" },
            withUser ? h("span", { class: "row-title mono" }, formatUserId(o.user_id)) : null,
            h("span", { class: "row-meta" }, app.t("staff.users.otp_expires", { time: when(app, o.expires_at) })),
            h("span", { class: "row-meta" }, app.t("staff.users.otp_issued_by", { who: o.issued_by })),
          ),
          h("button", { type: "button", class: "button secondary", "data-action": "revoke-otp", disabled: state.busy, onclick: () => revokeOtp(o.id) }, app.t("staff.users.revoke")),
        ),
      ),
    );
  }

  function totpPart() {
    const t = state.totp;
    if (!t) return null;
    const status = t.enrolled ? "enrolled" : t.pending ? "pending" : "none";
    let reset = null;
    if (t.enrolled || t.pending) {
      // Nobody manages the authenticator of a higher role: not offered, the API would refuse.
      if (!outranks(app, state.user.role)) reset = h("p", { class: "hint" }, app.t("staff.users.totp_higher_role"));
      else if (state.confirm === "totp") {
        reset = confirmRow(app, { text: app.t("staff.users.totp_reset_confirm"), yes: app.t("staff.users.totp_reset"), onYes: resetTotp, onNo: () => ask(null) });
      } else {
        reset = h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "button secondary", "data-action": "reset-totp", onclick: () => ask("totp") }, app.t("staff.users.totp_reset")),
        );
      }
    }
    return h(
      "div",
      { class: "staff-card", "data-totp": status },
      h("h3", {}, app.t("staff.users.totp_title")),
      h("p", {}, app.t(`staff.users.totp_${status}`)),
      t.required && !t.enrolled ? h("p", { class: "notice warn" }, app.t("staff.users.totp_required")) : null,
      reset,
    );
  }

  function userPanel() {
    const u = state.user;
    const name = `${u.given_name} ${u.family_name}`;
    const manager = isManager(app);
    return h(
      "div",
      { class: "staff-user", "data-user-id": u.id },
      h(
        "div",
        { class: "id-box" },
        h("p", { class: "label" }, name),
        h("p", { class: "big-code user-id" }, formatUserId(u.id)),
        h("p", {}, app.t(`role.${u.role}`), u.status === "active" ? "" : ` · ${app.t("staff.users.inactive")}`),
      ),
      state.secret
        ? shownOnce(app, {
            kind: state.secret.kind,
            code: state.secret.code,
            who: name,
            note:
              state.secret.kind === "pin"
                ? app.t("staff.once.pin_note")
                : app.t("staff.once.otp_note", { time: when(app, state.secret.expires) }),
            onDone: () => {
              state.secret = null;
              redraw();
            },
          })
        : null,
      !manager ? h("p", { class: "notice" }, app.t("staff.users.managers_only")) : null,
      manager && !state.secret
        ? h(
            "div",
            { class: "staff-card" },
            h("h3", {}, app.t("staff.users.pin_title")),
            h("p", { class: "hint" }, app.t("staff.users.pin_text")),
            state.confirm === "pin"
              ? confirmRow(app, { text: app.t("staff.users.pin_confirm"), yes: app.t("staff.users.pin_new"), onYes: newPin, onNo: () => ask(null) })
              : h(
                  "div",
                  { class: "actions" },
                  h("button", { type: "button", class: "button primary", "data-action": "new-pin", disabled: state.busy, onclick: () => ask("pin") }, app.t("staff.users.pin_new")),
                ),
          )
        : null,
      manager && !state.secret
        ? h(
            "div",
            { class: "staff-card" },
            h("h3", {}, app.t("staff.users.otp_title")),
            h("p", { class: "hint" }, app.t("staff.users.otp_text")),
            h(
              "div",
              { class: "actions" },
              h("button", { type: "button", class: "button primary", "data-action": "new-otp", disabled: state.busy, onclick: newOtp }, app.t("staff.users.otp_new")),
            ),
            h("h4", {}, app.t("staff.users.otp_outstanding")),
            otpList(state.otps, { withUser: false }),
          )
        : null,
      manager && !state.secret ? totpPart() : null,
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "button secondary",
            "data-action": "other-user",
            onclick: () => {
              state.user = null;
              state.secret = null;
              state.msg = null;
              redraw();
            },
          },
          app.t("staff.users.other"),
        ),
      ),
    );
  }

  function render() {
    return staffFrame(
      app,
      { title: app.t("staff.users.title"), name: "users", back },
      outcome(state.msg),
      state.user
        ? userPanel()
        : [
            searchForm(),
            results(),
            isManager(app) && state.allOtps
              ? h("section", { class: "staff-card all-otps" }, h("h2", {}, app.t("staff.users.all_otps")), otpList(state.allOtps, { withUser: true }))
              : null,
          ],
    );
  }

  return screen;
}
