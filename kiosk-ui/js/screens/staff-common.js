// What the staff screens share: API calls that notice an ended staff session (back to the start
// screen, saying why), the role rules the API applies, the frame around every staff screen
// (who is signed in, back to the menu), the shown-once box for PINs and passwords, and dates.

import { api } from "../api.js";
import { h } from "../dom.js";
import { problemText } from "../fields.js";
import { formatUserId } from "../ids.js";

/** Roles the API lets manage credentials, devices, throttles and read the audit log. */
export const MANAGER_ROLES = ["manager", "admin"];

export function isManager(app) {
  return Boolean(app.staff && MANAGER_ROLES.includes(app.staff.role));
}

const RANK = ["trainee", "instructor", "manager", "admin"];

/** Whether the signed-in staff member may manage the authenticator of someone with `role` (not of a higher role). */
export function outranks(app, role) {
  return Boolean(app.staff) && RANK.indexOf(app.staff.role) >= RANK.indexOf(role);
}

/**
 * Call the API for a staff screen. An answer saying the session is gone (idle timeout, absolute
 * limit, signed out elsewhere) ends the staff screens at once: back to the start, saying why.
 * The answer is returned either way; `ended` tells the caller to stop.
 */
export async function staffCall(app, method, path, body) {
  const res = await api(method, path, method === "GET" ? undefined : body === undefined ? {} : body);
  if (!res.ok && res.status === 401 && res.code === "unauthenticated" && app.staff) {
    await sessionEnded(app, "expired");
    return { ...res, ended: true };
  }
  return res;
}

/** Leave the staff screens for the start screen and tell whoever is looking why. */
export async function sessionEnded(app, why) {
  app.staff = null;
  // Loaded when needed: the start screen imports the staff screen, which imports this file.
  const { startScreen } = await import("./start.js");
  app.closeOverlay();
  app.show(startScreen(app));
  endedNotice(app, why);
}

/** Over the start screen: the staff session ended, and why ("idle": the kiosk's own reset). */
export function endedNotice(app, why) {
  app.closeOverlay();
  app.openOverlay(
    h(
      "div",
      { class: "dialog", role: "alertdialog", "aria-live": "assertive", "data-notice": `staff-${why}` },
      h("h2", {}, app.t("staff.session.ended_title")),
      h("p", { class: "lead" }, app.t(why === "idle" ? "staff.session.ended_idle" : "staff.session.ended_expired")),
      h("button", { type: "button", class: "button primary", "data-action": "notice-ok", onclick: () => app.closeOverlay() }, app.t("common.close")),
    ),
  );
}

/** The translated message for a failed answer. */
export function failText(app, res) {
  return problemText(app, res.code, res.field);
}

/** The frame of a staff screen: a bar with who is signed in and the way back to the menu, then the title and content. */
export function staffFrame(app, { title, name, back }, ...content) {
  const s = app.staff || {};
  return h(
    "section",
    { class: `staff staff-area staff-${name}` },
    h(
      "div",
      { class: "staff-bar" },
      h(
        "p",
        { class: "staff-bar-who" },
        s.name ? h("strong", {}, s.name) : null,
        s.name ? " " : null,
        h("span", { class: "mono" }, formatUserId(s.user_id || "")),
        " · ",
        app.t(`role.${s.role || "trainee"}`),
      ),
      h("button", { type: "button", class: "button secondary", "data-action": "staff-menu", onclick: back }, app.t("staff.menu.back")),
    ),
    h("h1", {}, title),
    content,
  );
}

/** A notice line for the outcome of the last action: ok (polite) or error (alert). */
export function outcome(msg) {
  if (!msg) return null;
  return h(
    "p",
    { class: `notice${msg.error ? " error" : " ok"}`, role: msg.error ? "alert" : "status", "data-outcome": msg.error ? "error" : "ok" },
    msg.text,
  );
}

/**
 * A secret shown this once (a VR PIN, a one-time password): big, with the instruction to write
 * it down or hand it over, and the button that hides it for good.
 */
export function shownOnce(app, { kind, code, who, note, onDone }) {
  return h(
    "div",
    { class: "pin-box shown-once", role: "region", "aria-label": app.t(`staff.once.${kind}_label`), "data-once": kind },
    h("p", { class: "label" }, app.t(`staff.once.${kind}_label`), who ? ` · ${who}` : ""),
    h("p", { class: "big-code", "data-code": code }, code),
    h("p", { class: "warning", role: "note" }, app.t("staff.once.warning")),
    h("p", { class: "hint" }, note),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "button primary", "data-action": "once-done", onclick: onDone }, app.t("staff.once.done")),
    ),
  );
}

/** Date and time in the UI's language. */
export function when(app, value) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  return new Intl.DateTimeFormat(app.lang, { dateStyle: "medium", timeStyle: "short" }).format(d);
}

/** "Are you sure?" before a destructive action. */
export function confirmRow(app, { text, yes, onYes, onNo }) {
  return h(
    "div",
    { class: "banner confirm", role: "alertdialog" },
    h("p", {}, text),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "button danger", "data-action": "confirm-yes", onclick: onYes }, yes),
      h("button", { type: "button", class: "button secondary", "data-action": "confirm-no", onclick: onNo }, app.t("common.cancel")),
    ),
  );
}
