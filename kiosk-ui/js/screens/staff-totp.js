// Staff: the signed-in staff member sets up their authenticator app. The gateway makes the
// secret and renders the otpauth URI as a QR code; the first code the app shows confirms it.
// Admins and managers are told they must have one. The secret lives only on this screen.

import { h } from "../dom.js";
import { field } from "../fields.js";
import { failText, outcome, staffCall, staffFrame, when } from "./staff-common.js";

const SVG_ELEMENTS = new Set(["svg", "rect", "path", "g"]);
const SVG_ATTRIBUTES = new Set(["width", "height", "viewBox", "x", "y", "d", "fill", "shape-rendering", "version", "transform"]);

/**
 * The gateway's QR code SVG, rebuilt element by element from an allow-list (never parsed into
 * the page as markup): shapes and their geometry only.
 */
export function qrFromSvg(svgText, label) {
  const doc = new DOMParser().parseFromString(svgText || "", "image/svg+xml");
  const root = doc.documentElement;
  if (!root || root.localName !== "svg" || doc.querySelector("parsererror")) return null;
  const ns = root.namespaceURI;
  const copy = (src) => {
    const el = document.createElementNS(ns, src.localName);
    for (const a of src.attributes) if (SVG_ATTRIBUTES.has(a.name)) el.setAttribute(a.name, a.value);
    for (const child of src.children) if (SVG_ELEMENTS.has(child.localName)) el.appendChild(copy(child));
    return el;
  };
  const svg = copy(root);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "qr");
  return svg;
}

/** The base32 secret in groups of four, for typing into an app by hand. */
function grouped(secret) {
  return (secret || "").replace(/(.{4})/g, "$1 ").trim();
}

export function staffTotpScreen(app, back) {
  const state = { status: null, enrollment: null, code: "", msg: null, busy: false, done: false, error: null };
  const screen = { name: "staff-totp", render };
  const redraw = () => app.screen === screen && app.render();

  async function load() {
    const res = await staffCall(app, "GET", "/api/auth/totp");
    if (res.ended) return;
    state.status = res.ok ? res.data : { enrolled: false, pending: false, required: false };
    if (!res.ok) state.msg = { error: true, text: failText(app, res) };
    redraw();
  }
  load();

  async function begin() {
    state.busy = true;
    state.msg = null;
    redraw();
    const res = await staffCall(app, "POST", "/api/auth/totp", {});
    state.busy = false;
    if (res.ended) return;
    if (res.ok) {
      state.enrollment = res.data;
      state.code = "";
    } else state.msg = { error: true, text: failText(app, res) };
    redraw();
  }

  async function confirm() {
    state.error = null;
    const code = state.code.replace(/\s/g, "");
    if (!/^\d{6}$/.test(code)) {
      state.error = app.t("staff.totp.code_format");
      return redraw();
    }
    state.busy = true;
    redraw();
    const res = await staffCall(app, "POST", "/api/auth/totp/confirm", { code });
    state.busy = false;
    state.code = "";
    if (res.ended) return;
    if (res.ok) {
      state.enrollment = null;
      state.done = true;
      state.status = { ...state.status, enrolled: true, pending: false };
    } else if (res.code === "invalid_field") {
      state.error = app.t("staff.totp.code_wrong");
    } else {
      state.msg = { error: true, text: failText(app, res) };
    }
    redraw();
  }

  function statusPart() {
    const s = state.status;
    if (!s) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    return h(
      "div",
      { class: "staff-card", "data-totp": s.enrolled ? "enrolled" : s.pending ? "pending" : "none" },
      h("p", { class: "lead" }, app.t(s.enrolled ? "staff.totp.status_enrolled" : "staff.totp.status_none")),
      s.required && !s.enrolled ? h("p", { class: "notice warn", role: "alert", "data-required": "true" }, app.t("staff.totp.required")) : null,
      h("p", { class: "hint" }, app.t("staff.totp.explain")),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "totp-begin", disabled: state.busy, onclick: begin }, app.t(s.enrolled ? "staff.totp.replace" : "staff.totp.begin")),
      ),
    );
  }

  function enrollPart() {
    const e = state.enrollment;
    const qr = qrFromSvg(e.qr_svg, app.t("staff.totp.qr_label"));
    return h(
      "div",
      { class: "staff-card totp-enroll" },
      h("p", { class: "lead" }, app.t("staff.totp.scan")),
      qr ? h("div", { class: "qr-box" }, qr) : null,
      h("p", { class: "label" }, app.t("staff.totp.by_hand")),
      h("p", { class: "mono secret-text", "data-secret": e.secret }, grouped(e.secret)),
      h("p", { class: "hint" }, app.t("staff.totp.until", { time: when(app, e.expires_at) })),
      field(app, {
        id: "totp_code",
        label: app.t("staff.totp.code"),
        kb: "pin",
        value: state.code,
        maxlength: 6,
        inputmode: "numeric",
        error: state.error,
        oninput: (v) => {
          state.code = v;
        },
      }),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "totp-confirm", disabled: state.busy, onclick: confirm }, app.t("staff.totp.confirm")),
        h("button", { type: "button", class: "button secondary", "data-action": "cancel", onclick: () => { state.enrollment = null; state.error = null; redraw(); } }, app.t("common.cancel")),
      ),
    );
  }

  function render() {
    return staffFrame(
      app,
      { title: app.t("staff.totp.title"), name: "totp", back },
      outcome(state.msg),
      state.done ? h("p", { class: "notice ok", role: "status", "data-outcome": "ok" }, app.t("staff.totp.done")) : null,
      state.enrollment ? enrollPart() : statusPart(),
    );
  }

  return screen;
}
