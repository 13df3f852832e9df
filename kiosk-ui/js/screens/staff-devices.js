// Staff: headsets and kiosk tablets. Pairing requests waiting for a decision with the code to
// compare against the one the headset shows; approve or reject; paired devices to rename, place
// in a room or revoke; the headset sessions now open, each with "end session"; and, for headsets
// set up by hand where multicast is blocked, the gateway's address and certificate fingerprint as
// text and QR. Managers decide and change; every staff member sees the lists and may end a session.

import { h } from "../dom.js";
import { field } from "../fields.js";
import { formatUserId } from "../ids.js";
import { confirmRow, failText, isManager, outcome, staffCall, staffFrame, when } from "./staff-common.js";
import { qrFromSvg } from "./staff-totp.js";

/** The hex fingerprint in groups of 8 bytes that wrap only between groups (reading it aloud, line by line). */
function fingerprintGroups(hex) {
  const bytes = String(hex || "").split(":");
  const groups = [];
  for (let i = 0; i < bytes.length; i += 8) {
    const last = i + 8 >= bytes.length;
    groups.push(h("span", { class: "fp-group" }, bytes.slice(i, i + 8).join(":") + (last ? "" : ":")));
  }
  return groups;
}

export function staffDevicesScreen(app, back) {
  const state = { devices: null, sessions: null, msg: null, busy: false, edit: null, confirm: null, setup: null };
  const screen = { name: "staff-devices", render };
  const redraw = () => app.screen === screen && app.render();

  async function load() {
    const [devices, sessions] = await Promise.all([staffCall(app, "GET", "/api/devices"), staffCall(app, "GET", "/api/headset-sessions")]);
    if (devices.ended || sessions.ended) return;
    state.devices = devices.ok && Array.isArray(devices.data) ? devices.data : [];
    state.sessions = sessions.ok && Array.isArray(sessions.data) ? sessions.data : [];
    if (!devices.ok) state.msg = { error: true, text: failText(app, devices) };
    else if (!sessions.ok) state.msg = { error: true, text: failText(app, sessions) };
    redraw();
  }
  load();

  async function act(path, body, okKey, params) {
    state.busy = true;
    state.msg = null;
    state.confirm = null;
    redraw();
    const res = await staffCall(app, "POST", path, body);
    state.busy = false;
    if (res.ended) return;
    if (res.ok) {
      state.edit = null;
      state.msg = { text: app.t(okKey, params) };
    } else {
      state.msg = { error: true, text: failText(app, res) };
    }
    redraw();
    load();
  }

  const dev = (id, what) => `/api/devices/${encodeURIComponent(id)}/${what}`;

  function pending() {
    const list = (state.devices || []).filter((d) => d.state === "pending" && !d.lapsed);
    return h(
      "section",
      { class: "staff-section", "data-section": "pending" },
      h("h2", {}, app.t("staff.devices.pending_title")),
      !list.length
        ? h("p", { class: "hint" }, app.t("staff.devices.pending_none"))
        : h(
            "ul",
            { class: "staff-list" },
            list.map((d) =>
              h(
                "li",
                { class: "staff-card pairing", "data-device-id": d.id },
                h("p", { class: "row-title" }, d.name),
                h("p", { class: "row-meta" }, `${d.model} · ${d.firmware}`, d.source ? ` · ${d.source}` : ""),
                h("p", { class: "label" }, app.t("staff.devices.compare")),
                h("p", { class: "big-code compare-code", "data-code": d.comparison_code }, d.comparison_code),
                h("p", { class: "hint" }, app.t("staff.devices.compare_hint")),
                isManager(app)
                  ? h(
                      "div",
                      { class: "actions" },
                      h("button", { type: "button", class: "button primary", "data-action": "approve", disabled: state.busy, onclick: () => act(dev(d.id, "approve"), {}, "staff.devices.approved", { name: d.name }) }, app.t("staff.devices.approve")),
                      h("button", { type: "button", class: "button danger", "data-action": "reject", disabled: state.busy, onclick: () => act(dev(d.id, "reject"), {}, "staff.devices.rejected", { name: d.name }) }, app.t("staff.devices.reject")),
                    )
                  : h("p", { class: "notice" }, app.t("staff.devices.managers_decide")),
              ),
            ),
          ),
    );
  }

  function editor(d) {
    const e = state.edit;
    const isRoom = e.what === "room";
    return h(
      "div",
      { class: "staff-edit" },
      field(app, {
        id: `device_${e.what}`,
        label: app.t(isRoom ? "staff.devices.room_label" : "staff.devices.name_label"),
        hint: isRoom ? app.t("staff.devices.room_hint") : null,
        kb: "text",
        value: e.value,
        maxlength: 64,
        oninput: (v) => {
          e.value = v;
        },
      }),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "button primary",
            "data-action": "save",
            disabled: state.busy,
            onclick: () => {
              const v = e.value.trim();
              if (isRoom) act(dev(d.id, "room"), { room: v || null }, "staff.devices.placed", { name: d.name });
              else if (v) act(dev(d.id, "rename"), { name: v }, "staff.devices.renamed", { name: v });
            },
          },
          app.t("staff.devices.save"),
        ),
        h("button", { type: "button", class: "button secondary", "data-action": "cancel", onclick: () => { state.edit = null; redraw(); } }, app.t("common.cancel")),
      ),
    );
  }

  function paired() {
    const list = (state.devices || []).filter((d) => d.state === "approved");
    const manager = isManager(app);
    return h(
      "section",
      { class: "staff-section", "data-section": "devices" },
      h("h2", {}, app.t("staff.devices.paired_title")),
      !list.length
        ? h("p", { class: "hint" }, app.t("staff.devices.paired_none"))
        : h(
            "ul",
            { class: "staff-list" },
            list.map((d) =>
              h(
                "li",
                { class: "staff-card", "data-device-id": d.id },
                h("p", { class: "row-title" }, d.name),
                h("p", { class: "row-meta" }, `${d.model} · ${d.firmware}`),
                h("p", { class: "row-meta" }, d.room ? app.t("staff.devices.in_room", { room: d.room }) : app.t("staff.devices.no_room")),
                h("p", { class: "row-meta" }, d.paired ? (d.last_seen ? app.t("staff.devices.last_seen", { time: when(app, d.last_seen) }) : app.t("staff.devices.paired")) : app.t("staff.devices.not_claimed")),
                state.edit && state.edit.id === d.id
                  ? editor(d)
                  : state.confirm === d.id
                    ? confirmRow(app, {
                        text: app.t("staff.devices.revoke_confirm", { name: d.name }),
                        yes: app.t("staff.devices.revoke"),
                        onYes: () => act(dev(d.id, "revoke"), {}, "staff.devices.revoked", { name: d.name }),
                        onNo: () => { state.confirm = null; redraw(); },
                      })
                    : manager
                      ? h(
                          "div",
                          { class: "actions" },
                          h("button", { type: "button", class: "button secondary", "data-action": "rename", onclick: () => { state.edit = { id: d.id, what: "name", value: d.name }; redraw(); } }, app.t("staff.devices.rename")),
                          h("button", { type: "button", class: "button secondary", "data-action": "room", onclick: () => { state.edit = { id: d.id, what: "room", value: d.room || "" }; redraw(); } }, app.t("staff.devices.place")),
                          h("button", { type: "button", class: "button danger", "data-action": "revoke", onclick: () => { state.confirm = d.id; redraw(); } }, app.t("staff.devices.revoke")),
                        )
                      : null,
              ),
            ),
          ),
    );
  }

  function sessions() {
    const list = state.sessions || [];
    return h(
      "section",
      { class: "staff-section", "data-section": "sessions" },
      h("h2", {}, app.t("staff.devices.sessions_title")),
      !list.length
        ? h("p", { class: "hint" }, app.t("staff.devices.sessions_none"))
        : h(
            "ul",
            { class: "staff-list" },
            list.map((s) =>
              h(
                "li",
                { class: "row", "data-session-id": s.id },
                h(
                  "div",
                  { class: "row-text" },
                  h("span", { class: "row-title" }, s.user_name, " ", h("span", { class: "mono" }, formatUserId(s.user_id))),
                  h("span", { class: "row-meta" }, app.t("staff.devices.session_on", { device: s.device_name })),
                  h("span", { class: "row-meta" }, app.t("staff.devices.session_since", { time: when(app, s.created_at) })),
                ),
                h(
                  "button",
                  { type: "button", class: "button danger", "data-action": "end-session", disabled: state.busy, onclick: () => act(`/api/headset-sessions/${encodeURIComponent(s.id)}/end`, {}, "staff.devices.session_ended", { name: s.user_name }) },
                  app.t("staff.devices.end_session"),
                ),
              ),
            ),
          ),
    );
  }

  async function toggleSetup() {
    if (state.setup) {
      state.setup = null;
      return redraw();
    }
    const res = await staffCall(app, "GET", "/api/gateway/info");
    if (res.ended) return;
    state.setup = res.ok ? res.data : { problem: res.code };
    redraw();
  }

  /** The gateway's address and fingerprint, for a headset that cannot find it by itself. */
  function setupPart() {
    const s = state.setup;
    const toggle = h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "button secondary", "data-action": "setup", "aria-expanded": String(Boolean(s)), onclick: toggleSetup }, app.t(s ? "staff.devices.setup_hide" : "staff.devices.setup_show")),
    );
    if (!s) return toggle;
    if (s.problem) return [toggle, h("p", { class: "notice error", role: "alert", "data-setup": "unavailable" }, app.t("staff.devices.setup_unavailable"))];
    const qr = s.qr_svg ? qrFromSvg(s.qr_svg, app.t("staff.devices.setup_qr")) : null;
    return [
      toggle,
      h(
        "section",
        { class: "staff-card setup", "data-setup": "shown" },
        h("h2", {}, app.t("staff.devices.setup_title")),
        h("p", { class: "hint" }, app.t("staff.devices.setup_text")),
        qr ? h("div", { class: "qr-box" }, qr) : null,
        h("p", { class: "label" }, app.t("staff.devices.setup_urls")),
        h("ul", { class: "staff-list" }, (s.urls || []).map((u) => h("li", { class: "mono secret-text" }, u))),
        h("p", { class: "label" }, app.t("staff.devices.setup_fingerprint")),
        h("p", { class: "mono fingerprint", "data-fingerprint": s.fingerprint }, fingerprintGroups(s.fingerprint_hex)),
      ),
    ];
  }

  function render() {
    return staffFrame(
      app,
      { title: app.t("staff.devices.title"), name: "devices", back },
      outcome(state.msg),
      h("div", { class: "actions" }, h("button", { type: "button", class: "button secondary", "data-action": "refresh", onclick: () => { state.msg = null; load(); } }, app.t("staff.refresh"))),
      state.devices === null ? h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading")) : [pending(), sessions(), paired(), setupPart()],
    );
  }

  return screen;
}
