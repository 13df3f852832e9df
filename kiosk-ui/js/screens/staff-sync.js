// Staff: the sync with the central system. Joined or not, online or not with its sentence,
// events waiting and the age of the oldest, the last pull and push (the kiosk's clock is the
// site's), the last problem, the clock offset, link places leased here, records set aside, and
// the events the central system refused. A banner warns when the central system refused this
// gateway's credential or the clocks are more than 2 minutes apart. Every staff member sees it;
// managers and admins also get "Sync now" and, for each refused event, Retry and Discard
// (Discard asks why, on the kiosk's keyboard).

import { h } from "../dom.js";
import { field } from "../fields.js";
import { failText, isManager, outcome, staffCall, staffFrame, when } from "./staff-common.js";

const STATES = ["standalone", "online", "offline", "credential_refused", "refetching"];
const DURING = ["pull", "push", "lease", "join"];

export function staffSyncScreen(app, back) {
  const state = { status: null, msg: null, busy: false, discard: null };
  const screen = { name: "staff-sync", render };
  const redraw = () => app.screen === screen && app.render();

  async function load() {
    const res = await staffCall(app, "GET", "/api/sync/status");
    if (res.ended) return;
    if (res.ok && res.data) state.status = res.data;
    else state.msg = { error: true, text: failText(app, res) };
    redraw();
  }
  load();

  async function act(path, body, okKey, params) {
    state.busy = true;
    state.msg = null;
    redraw();
    const res = await staffCall(app, "POST", path, body);
    state.busy = false;
    if (res.ended) return;
    if (res.ok) {
      state.discard = null;
      const key = typeof okKey === "function" ? okKey(res.data) : okKey;
      state.msg = { text: app.t(key, params) };
    } else {
      state.msg = { error: true, text: failText(app, res) };
    }
    redraw();
    load();
  }

  function syncNow() {
    act("/api/sync/now", {}, (d) => (d && d.state === "standalone" ? "staff.sync.now_standalone" : "staff.sync.now_done"));
    // The cycle takes a moment: look again once it has had the chance to run.
    setTimeout(() => app.screen === screen && !state.busy && load(), 2500);
  }

  const number = (n) => new Intl.NumberFormat(app.lang).format(n);

  /** "5 minutes ago" in the UI's language. */
  function ago(secs) {
    const rtf = new Intl.RelativeTimeFormat(app.lang, { numeric: "auto" });
    if (secs < 90) return rtf.format(-Math.round(secs), "second");
    if (secs < 5400) return rtf.format(-Math.round(secs / 60), "minute");
    if (secs < 129600) return rtf.format(-Math.round(secs / 3600), "hour");
    return rtf.format(-Math.round(secs / 86400), "day");
  }

  /** The server's words as a sentence on their own: a capital first. */
  const sentence = (text) => String(text).charAt(0).toLocaleUpperCase(app.lang) + String(text).slice(1);

  function fact(name, label, value, extra) {
    return h("div", { class: "sync-fact", "data-fact": name }, h("dt", {}, label), h("dd", {}, value, extra || null));
  }

  /** What needs someone's attention, above everything else. */
  function warnings(s) {
    const list = [];
    if (s.state === "credential_refused") {
      list.push(
        h(
          "div",
          { class: "notice warn sync-warning", role: "alert", "data-warning": "credential" },
          h("p", { class: "sync-warning-title" }, app.t("staff.sync.warn_credential_title")),
          h("p", {}, app.t("staff.sync.warn_credential")),
        ),
      );
    }
    if (s.clock_warning && s.clock_offset_secs != null) {
      const key = s.clock_offset_secs > 0 ? "staff.sync.clock_warn_behind" : "staff.sync.clock_warn_ahead";
      list.push(
        h(
          "div",
          { class: "notice warn sync-warning", role: "alert", "data-warning": "clock" },
          h("p", { class: "sync-warning-title" }, app.t("staff.sync.clock_warn_title")),
          h("p", {}, app.t(key, { min: number(Math.round(Math.abs(s.clock_offset_secs) / 60)) })),
        ),
      );
    }
    return list.length ? h("div", { class: "sync-warnings" }, list) : null;
  }

  function overview(s) {
    const st = STATES.includes(s.state) ? s.state : "offline";
    return h(
      "section",
      { class: `staff-card sync-overview sync-${st}`, "data-state": st },
      h("p", { class: "sync-state" }, h("span", { class: `pill sync-pill sync-${st}` }, app.t(`staff.sync.state.${st}`))),
      // A refused credential has its banner above: the sentence is not said twice.
      st === "credential_refused" ? null : h("p", { class: "lead sync-summary" }, app.t(`staff.sync.summary.${st}`, { n: number(s.pending_events) })),
      s.joined
        ? h("p", { class: "sync-joined" }, app.t("staff.sync.joined", { site: s.site_name || "", url: s.central_url || "" }))
        : h("p", { class: "hint sync-joined" }, app.t("staff.sync.not_joined")),
      h(
        "div",
        { class: "actions" },
        isManager(app)
          ? h("button", { type: "button", class: "button primary", "data-action": "sync-now", disabled: state.busy, onclick: syncNow }, app.t("staff.sync.now"))
          : null,
        h("button", { type: "button", class: "button secondary", "data-action": "refresh", disabled: state.busy, onclick: () => { state.msg = null; load(); } }, app.t("staff.refresh")),
      ),
    );
  }

  function lastError(s) {
    if (!s.last_error) return null;
    const during = DURING.includes(s.last_error_during) ? s.last_error_during : "other";
    const meta = [app.t(`staff.sync.during.${during}`), s.last_error_at ? when(app, s.last_error_at) : null].filter(Boolean).join(" · ");
    return fact("last-error", app.t("staff.sync.last_error"), h("span", { class: "sync-error-text" }, sentence(s.last_error_message || s.last_error)), h("span", { class: "row-meta" }, meta));
  }

  function facts(s) {
    const never = app.t("staff.sync.never");
    const offset = s.clock_offset_secs;
    return h(
      "section",
      { class: "staff-card sync-facts" },
      h(
        "dl",
        { class: "sync-list" },
        fact("pending", app.t("staff.sync.pending"), number(s.pending_events), s.pending_events > 0 && s.oldest_pending_age_secs != null ? h("span", { class: "row-meta" }, app.t("staff.sync.oldest", { age: ago(s.oldest_pending_age_secs) })) : null),
        fact("last-pull", app.t("staff.sync.last_pull"), s.last_pull_ok ? when(app, s.last_pull_ok) : never),
        fact("last-push", app.t("staff.sync.last_push"), s.last_push_ok ? when(app, s.last_push_ok) : never),
        lastError(s),
        s.next_retry_at ? fact("next-try", app.t("staff.sync.next_try"), when(app, s.next_retry_at)) : null,
        offset != null
          ? fact("clock", app.t("staff.sync.clock"), h("span", { class: s.clock_warning ? "sync-clock-off" : "" }, app.t("staff.sync.clock_value", { s: (offset > 0 ? "+" : "") + number(offset) })))
          : null,
        fact("gateway", app.t("staff.sync.gateway_id"), h("span", { class: "mono" }, s.gateway_id)),
      ),
    );
  }

  function leases(s) {
    return h(
      "section",
      { class: "staff-card", "data-section": "leases" },
      h("h2", {}, app.t("staff.sync.leases_title")),
      s.leases.length
        ? h(
            "ul",
            { class: "staff-list" },
            s.leases.map((l) =>
              h(
                "li",
                { class: "row", "data-link-id": l.link_id },
                h("div", { class: "row-text" }, h("span", { class: "row-title" }, l.link_name || l.link_id), h("span", { class: "row-meta" }, app.t("staff.sync.lease", { granted: number(l.granted), used: number(l.used), free: number(l.free) }))),
              ),
            ),
          )
        : h("p", { class: "hint" }, app.t("staff.sync.leases_none")),
    );
  }

  function quarantine(s) {
    return h(
      "section",
      { class: "staff-card", "data-section": "quarantine" },
      h("h2", {}, app.t("staff.sync.quarantine_title")),
      h("p", { class: "hint" }, app.t("staff.sync.quarantine_hint")),
      s.quarantined.length
        ? h(
            "ul",
            { class: "staff-list" },
            s.quarantined.map((q) =>
              h(
                "li",
                { class: "row", "data-record": `${q.kind}:${q.id}` },
                h("div", { class: "row-text" }, h("span", { class: "row-title" }, `${q.kind} `, h("span", { class: "mono" }, q.id)), h("span", { class: "row-meta" }, q.reason), h("span", { class: "row-meta" }, when(app, q.at))),
              ),
            ),
          )
        : h("p", { class: "hint" }, app.t("staff.sync.none")),
    );
  }

  function discardEditor(d) {
    const e = state.discard;
    return h(
      "div",
      { class: "staff-edit sync-discard" },
      field(app, {
        id: "discard_reason",
        label: app.t("staff.sync.discard_reason"),
        hint: app.t("staff.sync.discard_hint"),
        kb: "text",
        value: e.reason,
        maxlength: 500,
        error: e.error,
        oninput: (v, input) => {
          e.reason = v;
          // Typing answers "say why": the complaint goes at once (no redraw, the keyboard stays).
          if (e.error && v.trim()) {
            e.error = null;
            const box = input.closest(".field");
            box.classList.remove("has-error");
            box.querySelector(".field-error")?.remove();
            input.removeAttribute("aria-invalid");
            input.removeAttribute("aria-describedby");
          }
        },
      }),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            class: "button danger",
            "data-action": "confirm-discard",
            disabled: state.busy,
            onclick: () => {
              const reason = e.reason.trim();
              if (!reason) {
                e.error = app.t("staff.sync.reason_needed");
                redraw();
                return;
              }
              act(`/api/sync/dead-letters/${d.seq}/discard`, { reason }, "staff.sync.discarded", { seq: d.seq });
            },
          },
          app.t("staff.sync.discard_confirm"),
        ),
        h("button", { type: "button", class: "button secondary", "data-action": "cancel", onclick: () => { state.discard = null; redraw(); } }, app.t("common.cancel")),
      ),
    );
  }

  function letterActions(d) {
    if (!isManager(app)) return null;
    if (state.discard && state.discard.seq === d.seq) return discardEditor(d);
    return h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "button primary", "data-action": "retry", disabled: state.busy, onclick: () => act(`/api/sync/dead-letters/${d.seq}/retry`, {}, "staff.sync.retried", { seq: d.seq }) }, app.t("staff.sync.retry")),
      h("button", { type: "button", class: "button danger", "data-action": "discard", disabled: state.busy, onclick: () => { state.discard = { seq: d.seq, reason: "", error: null }; state.msg = null; redraw(); } }, app.t("staff.sync.discard")),
    );
  }

  function deadLetters(s) {
    return h(
      "section",
      { class: "staff-card", "data-section": "dead-letters" },
      h("h2", {}, app.t("staff.sync.dead_title"), s.dead_letters_total ? h("span", { class: "pill sync-count" }, number(s.dead_letters_total)) : null),
      h("p", { class: "hint" }, app.t(isManager(app) ? "staff.sync.dead_hint" : "staff.sync.dead_hint_limited")),
      s.dead_letters.length
        ? h(
            "ul",
            { class: "staff-list" },
            s.dead_letters.map((d) =>
              h(
                "li",
                { class: "row dead-letter", "data-seq": String(d.seq) },
                h(
                  "div",
                  { class: "row-text" },
                  h("span", { class: "row-title mono" }, d.kind),
                  h("span", { class: "row-meta strong" }, d.reason),
                  h("span", { class: "row-meta" }, app.t("staff.sync.dead_meta", { seq: d.seq, when: when(app, d.occurred_at) })),
                ),
                letterActions(d),
              ),
            ),
          )
        : h("p", { class: "hint" }, app.t("staff.sync.none")),
    );
  }

  function render() {
    const s = state.status;
    return staffFrame(
      app,
      { title: app.t("staff.sync.title"), name: "sync", back },
      outcome(state.msg),
      !s
        ? h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"))
        : [warnings(s), h("div", { class: "sync-grid" }, overview(s), facts(s), deadLetters(s), leases(s), quarantine(s))],
    );
  }

  return screen;
}
