// A badge's print job as the kiosk shows it: the PNG preview (the same bitmap that prints) and
// the job's state in words ("your badge is printing", "printed — take it from the printer",
// "printer out of paper, staff have been told", failed and why), polled from the kiosk-only job
// route until the job is printed or failed, or the screen is left. Used by the enrollment
// result, the reprint screen and the staff printing screen; `jobFault` and `glyphNotice` (names the
// printer's fonts lack) also by the on-site list's print.

import { get } from "../api.js";
import { h } from "../dom.js";

const POLL_MS = 1000;
/** Faults the API reports (PrintFault); anything else reads as a general problem. */
const FAULTS = ["paper_out", "cover_open", "offline", "refused", "timeout", "dropped", "unreachable", "unprintable"];

export const jobPath = (id) => `/api/kiosk/print-jobs/${encodeURIComponent(id)}`;
export const previewPath = (id) => `${jobPath(id)}/badge.png`;

/** A job's last fault as a known fault name ("other" for anything new), or null. */
export function jobFault(job) {
  return job && job.last_error ? (FAULTS.includes(job.last_error) ? job.last_error : "other") : null;
}

/** Staff's warning that a badge or list has characters the printer's fonts lack (the API's
 * `missing_glyphs`), or null when everything prints. */
export function glyphNotice(app, glyphs) {
  if (!glyphs || !Array.isArray(glyphs.characters) || !glyphs.characters.length) return null;
  return h(
    "p",
    { class: "notice error", role: "alert", "data-code": "missing_glyphs" },
    app.t("print.missing_glyphs", { chars: glyphs.characters.join(" ") }),
  );
}

/** The message key and its reason for a job's state. */
export function jobMessage(app, job, { staff = false } = {}) {
  const fault = jobFault(job);
  const reason = fault ? app.t(`badge.fault.${fault}`) : "";
  if (!job) return { key: "badge.job.queued", text: app.t("badge.job.queued") };
  if (job.state === "printed") {
    const key = staff ? "badge.job.printed_staff" : "badge.job.printed";
    return { key, text: app.t(key) };
  }
  if (job.state === "failed") return { key: "badge.job.failed", text: app.t("badge.job.failed", { reason }) };
  if (fault === "paper_out") return { key: "badge.job.paper_out", text: app.t("badge.job.paper_out") };
  if (fault) return { key: "badge.job.fault", text: app.t("badge.job.fault", { reason }) };
  if (job.state === "printing") return { key: "badge.job.printing", text: app.t("badge.job.printing") };
  return { key: "badge.job.queued", text: app.t("badge.job.queued") };
}

/**
 * Follow job `jobId` while `screen` is shown. `job`: the state the API already answered.
 * `staff`: the words for staff printing for someone else. Returns {render()}: the preview and
 * the state, to place in the screen's own render.
 */
export function badgeJob(app, screen, { jobId, job = null, previewUrl = previewPath(jobId), staff = false }) {
  const state = { job, problem: null };
  // One <img> for the life of the view: the screen is drawn anew on every change, the picture
  // is fetched once.
  const img = h("img", { class: "badge-preview", src: previewUrl, alt: "" });
  img.addEventListener("error", () => img.classList.add("broken"));

  const done = () => state.job && (state.job.state === "printed" || state.job.state === "failed");

  async function poll() {
    if (app.screen !== screen) return;
    const res = await get(jobPath(jobId));
    if (app.screen !== screen) return;
    const before = JSON.stringify([state.job, state.problem]);
    if (res.ok && res.data) {
      state.job = res.data;
      state.problem = null;
    } else {
      state.problem = res.code;
    }
    if (JSON.stringify([state.job, state.problem]) !== before) app.render();
    if (!done()) setTimeout(poll, POLL_MS);
  }
  setTimeout(poll, done() ? 0 : 300);

  function render() {
    const j = state.job;
    const m = jobMessage(app, j, { staff });
    const fault = j && j.last_error;
    const tone = j && j.state === "printed" ? "ok" : j && (j.state === "failed" || fault) ? "error" : "busy";
    img.alt = app.t("result.badge_alt");
    return h(
      "div",
      { class: "badge-job", "data-job": jobId, "data-state": j ? j.state : "queued", "data-fault": fault || undefined },
      h("div", { class: "badge-frame" }, img),
      h(
        "p",
        { class: `job-status ${tone}`, role: "status", "aria-live": "polite", "data-message": m.key },
        tone === "busy" ? h("span", { class: "spinner", "aria-hidden": "true" }) : null,
        m.text,
      ),
      state.problem ? h("p", { class: "hint", "data-code": state.problem }, app.t("badge.job.unknown_state")) : null,
    );
  }

  return { render };
}
