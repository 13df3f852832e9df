// Badge printing for signed-in staff at the kiosk: the printers and how each is, the recent
// print jobs with their state and why they failed, and a new badge for someone (with its
// preview and live state). Managers and admins; other roles are told they may not.

import { get, post } from "../api.js";
import { h } from "../dom.js";
import { field, problemText } from "../fields.js";
import { formatUserId, parseUserId, typingForm } from "../ids.js";
import { badgeJob, glyphNotice, jobMessage } from "./badge-job.js";
import { registerStaffTool, staffScreen } from "./staff.js";

const REFRESH_MS = 3000;
const JOBS_SHOWN = 12;

export function staffPrintingScreen(app) {
  const state = { printers: null, jobs: null, problem: null, id: "", errors: {}, issue: null, busy: false, job: null };
  const screen = { name: "staff-printing", render };

  async function refresh() {
    if (app.screen !== screen) return;
    const [printers, jobs] = await Promise.all([get("/api/printers"), get(`/api/print-jobs?limit=${JOBS_SHOWN}`)]);
    if (app.screen !== screen) return;
    state.problem = !printers.ok ? printers.code : !jobs.ok ? jobs.code : null;
    if (printers.ok) state.printers = printers.data.printers || [];
    if (jobs.ok) state.jobs = jobs.data.jobs || [];
    app.render();
    if (!state.problem) setTimeout(refresh, REFRESH_MS);
  }
  // Once the screen is shown (app.show runs after this returns).
  setTimeout(refresh, 0);

  async function reprint() {
    state.errors = {};
    state.issue = null;
    const id = parseUserId(state.id);
    if (!id.ok) {
      state.errors.user_id = app.t(id.code === "required" ? "error.required" : `error.${id.code}`);
      return app.render();
    }
    state.busy = true;
    app.render();
    const res = await post(`/api/users/${encodeURIComponent(id.id)}/badge`, {});
    state.busy = false;
    if (app.screen !== screen) return;
    if (res.ok) {
      const j = res.data.job;
      state.job = { user: id.id, serial: res.data.badge.serial, glyphs: res.data.missing_glyphs, view: badgeJob(app, screen, { jobId: j.id, job: { job_id: j.id, ...j }, staff: true }) };
      state.id = "";
      app.keyboard.close();
    } else if (res.field === "user_id" || res.code === "id_typo" || res.code === "not_found") {
      state.errors.user_id = problemText(app, res.code, res.field);
    } else {
      state.issue = { code: res.code, text: problemText(app, res.code, res.field) };
    }
    app.render();
  }

  function when(value) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? "" : new Intl.DateTimeFormat(app.lang, { dateStyle: "short", timeStyle: "short" }).format(d);
  }

  function printers() {
    if (!state.printers) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    return h(
      "ul",
      { class: "printer-list" },
      state.printers.map((p) => {
        const status = (p.health && p.health.status) || "unchecked";
        return h(
          "li",
          { class: "printer", "data-printer": p.name, "data-status": status },
          h("span", { class: "printer-name" }, p.name, p.failover ? ` · ${app.t("staff_printing.failover")}` : ""),
          h("span", { class: "printer-meta" }, p.profile_name),
          h("span", { class: `pill status-${status}` }, app.t(`staff_printing.printer.${status}`)),
          p.health && p.health.last_detail ? h("span", { class: "printer-detail" }, p.health.last_detail) : null,
        );
      }),
    );
  }

  function jobs() {
    if (!state.jobs) return null;
    if (!state.jobs.length) return h("p", { class: "notice" }, app.t("staff_printing.no_jobs"));
    return h(
      "ul",
      { class: "job-list" },
      state.jobs.map((j) =>
        h(
          "li",
          { class: "job", "data-job": j.id, "data-state": j.state, "data-fault": j.last_error || undefined },
          h("span", { class: "job-who mono" }, j.kind === "on_site_list" ? app.t("onsite.print.job_label") : formatUserId(j.user_id)),
          h("span", { class: `pill state-${j.state}${j.last_error && j.state !== "printed" ? " fault" : ""}` }, app.t(`staff_printing.state.${j.state}`)),
          h("span", { class: "job-meta" }, `${j.printer} · ${when(j.updated_at)} · ${app.t("staff_printing.attempts", { n: j.attempts })}`),
          j.last_error && j.state !== "printed"
            ? h("span", { class: "job-error" }, jobMessage(app, { ...j, state: j.state === "failed" ? "failed" : "queued" }).text, j.last_error_detail ? ` (${j.last_error_detail})` : "")
            : null,
        ),
      ),
    );
  }

  function reprintForm() {
    return h(
      "section",
      { class: "staff-reprint" },
      h("h2", {}, app.t("staff_printing.reprint_title")),
      h("p", { class: "hint" }, app.t("staff_printing.reprint_text")),
      state.issue ? h("p", { class: "notice error", role: "alert", "data-code": state.issue.code }, state.issue.text) : null,
      field(app, {
        id: "badge_user_id",
        label: app.t("staff_printing.user_id"),
        kb: "id",
        value: state.id,
        maxlength: 64,
        error: state.errors.user_id,
        oninput: (v, el) => {
          state.id = typingForm(v);
          if (el.value !== state.id) el.value = state.id;
        },
      }),
      h("div", { class: "actions" }, h("button", { type: "button", class: "button primary", "data-action": "staff-reprint", disabled: state.busy, onclick: reprint }, app.t("staff_printing.reprint"))),
      state.job
        ? h(
            "div",
            { class: "staff-reprint-job" },
            h("p", { class: "lead" }, app.t("staff_printing.issued", { id: formatUserId(state.job.user), serial: state.job.serial })),
            glyphNotice(app, state.job.glyphs),
            state.job.view.render(),
          )
        : null,
    );
  }

  function render() {
    return h(
      "section",
      { class: "staff-printing" },
      h("h1", {}, app.t("staff_printing.title")),
      state.problem ? h("p", { class: "notice error", role: "alert", "data-code": state.problem }, problemText(app, state.problem)) : null,
      reprintForm(),
      h("h2", {}, app.t("staff_printing.printers_title")),
      printers(),
      h("h2", {}, app.t("staff_printing.jobs_title")),
      jobs(),
      h("div", { class: "actions" }, h("button", { type: "button", class: "button secondary", "data-action": "back-to-staff", onclick: () => app.show(staffScreen(app)) }, app.t("staff_printing.back"))),
    );
  }

  return screen;
}

registerStaffTool("printing", (app) => app.show(staffPrintingScreen(app)));
