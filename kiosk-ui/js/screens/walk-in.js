// Walk-ins from the roster: the instructor picks the access link, gets a one-use pass, is signed
// out, and hands the screen over; the newcomer enrolls through the link and comes back checked in
// (the pass rides along with the enrollment). At the end the instructor signs in again and is back
// on the roster (the walk-in's own banner and card are in walk-in-card.js).

import { get, post } from "../api.js";
import { h } from "../dom.js";
import { problemText } from "../fields.js";
import { enrollScreen } from "./enroll.js";
import { staffScreen } from "./staff.js";

/**
 * Open the walk-in dialog over the roster of `cls` ({id, title}). `reopen()` shows that roster
 * again once the instructor has signed back in.
 */
export async function startWalkIn(app, cls, reopen) {
  const state = { links: null, problem: null, busy: false };

  function close() {
    app.closeOverlay();
  }

  async function choose(link) {
    state.busy = true;
    state.problem = null;
    draw();
    const res = await post(`/api/classes/${cls.id}/walk-ins`, { link_token: link.token });
    state.busy = false;
    if (!res.ok) {
      state.problem = problemText(app, res.code, res.field);
      return draw();
    }
    // The screen goes to someone else: no staff session may stay open behind it. If the sign-out
    // did not go through, the screen is not handed over (401: already signed out).
    const out = await post("/api/auth/sign-out", {});
    if (!out.ok && out.status !== 401) {
      state.problem = problemText(app, out.code);
      return draw();
    }
    app.staff = null;
    app.closeOverlay();
    const walkIn = {
      pass: res.data.pass,
      classId: res.data.class_id,
      classTitle: res.data.class_title,
      finish: () => app.show(staffScreen(app, { lead: app.t("walkin.sign_in_again", { class: cls.title }), then: reopen })),
    };
    app.show(enrollScreen(app, link.token, { walkIn }));
  }

  function body() {
    if (!state.links) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    if (!state.links.length) return h("p", { class: "notice", "data-message": "walkin.no_links" }, app.t("walkin.no_links"));
    return h(
      "div",
      { class: "walkin-links" },
      state.links.map((l) =>
        h(
          "button",
          { type: "button", class: "tile", "data-link": l.token, disabled: state.busy, onclick: () => choose(l) },
          h("span", { class: "tile-title" }, l.name),
          l.description ? h("span", { class: "tile-text" }, l.description) : null,
        ),
      ),
    );
  }

  function draw() {
    app.closeOverlay();
    app.openOverlay(
      h(
        "div",
        { class: "dialog walkin-dialog", role: "dialog", "aria-modal": "true", "aria-label": app.t("walkin.title") },
        h("h2", {}, app.t("walkin.title")),
        h("p", { class: "lead" }, app.t("walkin.lead", { class: cls.title })),
        state.problem ? h("p", { class: "notice error", role: "alert" }, state.problem) : null,
        body(),
        h("button", { type: "button", class: "button secondary", "data-action": "walkin-cancel", onclick: close }, app.t("common.cancel")),
      ),
    );
  }

  draw();
  const res = await get("/api/kiosk/links");
  state.links = res.ok && Array.isArray(res.data) ? res.data : [];
  if (!res.ok) state.problem = problemText(app, res.code);
  if (app.overlay) draw();
}
