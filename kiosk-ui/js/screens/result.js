// The end of an enrollment: the worker's ID, their VR PIN once (large, with the warning that it
// will not be shown again), the training now assigned, what the link added them to, and the
// badge: on the kiosk its preview and live print state; on a phone where to pick it up.

import { h } from "../dom.js";
import { formatUserId } from "../ids.js";
import { badgeJob } from "./badge-job.js";
import { walkInCard } from "./walk-in-card.js";

/** `walkIn`: the instructor's walk-in pass came with the enrollment; the class check-in is shown. */
export function resultScreen(app, data, { existing, walkIn = null }) {
  const user = data.user || {};
  const state = { confirming: false, finished: false };
  const screen = { name: "result", render };
  const b = data.badge || null;
  // On the kiosk the job is followed live; its preview is answered on the kiosk listener only.
  const job =
    b && b.status === "printing" && b.job && b.preview_url && app.mode === "kiosk"
      ? badgeJob(app, screen, { jobId: b.job.job_id, job: b.job, previewUrl: b.preview_url })
      : null;

  function date(value) {
    if (!value) return null;
    const d = new Date(value);
    if (Number.isNaN(d.getTime())) return null;
    return new Intl.DateTimeFormat(app.lang, { dateStyle: "medium" }).format(d);
  }

  function done() {
    if (data.pin && !state.confirming) {
      state.confirming = true;
      return app.render();
    }
    // A walk-in hands the screen back to the instructor, who signs in and is back on the roster.
    if (walkIn) return walkIn.finish();
    if (app.mode === "kiosk") return app.reset();
    state.finished = true;
    state.confirming = false;
    app.render();
  }

  function pinBox() {
    if (!data.pin) {
      return h("div", { class: "pin-box unchanged" }, h("p", {}, app.t(existing ? "result.pin_unchanged" : "result.no_pin")));
    }
    return h(
      "div",
      { class: "pin-box" },
      h("p", { class: "label" }, app.t("result.your_pin")),
      h("p", { class: "big-code pin", "data-pin": data.pin }, data.pin),
      h("p", { class: "warning", role: "note" }, app.t("result.pin_warning")),
      h("p", { class: "hint" }, app.t("result.pin_use")),
    );
  }

  function training() {
    const items = Array.isArray(data.training) ? data.training : [];
    return h(
      "section",
      { class: "training" },
      h("h2", {}, app.t("result.training_title")),
      items.length === 0
        ? h("p", {}, app.t("result.no_training"))
        : h(
            "ul",
            { class: "training-list" },
            items.map((item) => {
              const m = item.module || {};
              const due = date(item.due_at);
              return h(
                "li",
                { "data-status": item.status },
                h("span", { class: "training-title" }, m.title),
                h(
                  "span",
                  { class: "training-meta" },
                  m.duration_minutes ? app.t("result.minutes", { n: m.duration_minutes }) : null,
                  due ? ` · ${app.t("result.due", { date: due })}` : null,
                  item.status ? ` · ${app.t(`training.status.${item.status}`)}` : null,
                ),
              );
            }),
          ),
    );
  }

  function allocated() {
    const units = Array.isArray(data.allocated) ? data.allocated : [];
    if (!units.length) return null;
    return h(
      "section",
      { class: "allocated" },
      h("h2", {}, app.t("result.allocated_title")),
      h(
        "ul",
        {},
        units.map((u) => h("li", {}, h("span", { class: "unit-kind" }, app.t(`unit.${u.kind}`)), " ", u.name)),
      ),
    );
  }

  /** The badge: its preview and print state on the kiosk, where to pick it up on a phone. */
  function badge() {
    if (!b || !b.status) return null;
    let body;
    if (job) body = job.render();
    else if (b.status === "printing") body = h("p", { class: "badge-note", "data-message": "result.badge_gate" }, app.t("result.badge_gate", { site: app.config.site_name || "" }));
    else if (b.status === "kept") body = h("p", { class: "badge-note", "data-message": "result.badge_kept" }, app.t("result.badge_kept"));
    else body = h("p", { class: "badge-note", "data-message": "result.badge_unavailable" }, app.t("result.badge_unavailable"));
    return h("section", { class: "badge", "data-status": b.status }, h("h2", {}, app.t("result.badge_title")), body);
  }

  function confirmDialog() {
    return h(
      "div",
      { class: "banner confirm", role: "alertdialog" },
      h("p", {}, app.t("result.confirm_text")),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "confirm-done", onclick: () => { state.confirming = true; done(); } }, app.t("result.confirm_yes")),
        h("button", { type: "button", class: "button secondary", "data-action": "confirm-back", onclick: () => { state.confirming = false; app.render(); } }, app.t("result.confirm_no")),
      ),
    );
  }

  function render() {
    if (state.finished) {
      return h("section", { class: "result finished" }, h("h1", {}, app.t("result.finished_title")), h("p", { class: "lead" }, app.t("result.finished_text")));
    }
    return h(
      "section",
      { class: "result" },
      h("h1", {}, app.t(existing ? "result.title_existing" : "result.title", { name: user.given_name || "" })),
      h(
        "div",
        { class: "id-box" },
        h("p", { class: "label" }, app.t("result.your_id")),
        // A central system's IDs may be long (up to 64 characters): those wrap, smaller.
        h("p", { class: `big-code user-id${formatUserId(user.id).length > 12 ? " long" : ""}`, "data-user-id": user.id }, formatUserId(user.id)),
      ),
      walkInCard(app, data.class_check_in),
      pinBox(),
      badge(),
      training(),
      allocated(),
      state.confirming
        ? confirmDialog()
        : h("div", { class: "actions" }, h("button", { type: "button", class: "button primary", "data-action": "done", onclick: done }, app.t("result.done"))),
    );
  }

  return screen;
}
