// Staff: sign-in security. The odds that random guessing opens some account in a day with this
// site's own settings; throttling now (site-wide failures and suspension, devices and accounts
// held back) with the actions that clear them; and the audit log, newest first, filterable by
// outcome and by text. Clearing and the audit log are for managers, as the API says.

import { h } from "../dom.js";
import { field } from "../fields.js";
import { confirmRow, failText, isManager, outcome, staffCall, staffFrame, when } from "./staff-common.js";

const OUTCOMES = ["all", "success", "failure", "denied", "throttled", "alert"];
const AUDIT_LIMIT = 300;

export function staffSecurityScreen(app, back) {
  const state = { odds: null, throttle: null, audit: null, filter: "all", text: "", msg: null, busy: false, confirm: null };
  const screen = { name: "staff-security", render };
  const redraw = () => app.screen === screen && app.render();

  async function load() {
    const calls = [staffCall(app, "GET", "/api/security/odds"), staffCall(app, "GET", "/api/security/throttle")];
    if (isManager(app)) calls.push(staffCall(app, "GET", `/api/audit?limit=${AUDIT_LIMIT}`));
    const [odds, throttle, audit] = await Promise.all(calls);
    if (odds.ended || throttle.ended || (audit && audit.ended)) return;
    state.odds = odds.ok ? odds.data : null;
    state.throttle = throttle.ok ? throttle.data : null;
    state.audit = audit && audit.ok && Array.isArray(audit.data) ? audit.data : null;
    const failed = [odds, throttle, audit].find((r) => r && !r.ok);
    if (failed) state.msg = { error: true, text: failText(app, failed) };
    redraw();
  }
  load();

  async function clear(scope, key) {
    state.busy = true;
    state.msg = null;
    state.confirm = null;
    redraw();
    const res = await staffCall(app, "POST", "/api/security/throttle/clear", key ? { scope, key } : { scope });
    state.busy = false;
    if (res.ended) return;
    state.msg = res.ok
      ? { text: app.t(res.data.cleared ? "staff.security.cleared" : "staff.security.nothing_to_clear") }
      : { error: true, text: failText(app, res) };
    redraw();
    load();
  }

  function number(n) {
    return new Intl.NumberFormat(app.lang).format(n);
  }

  function oddsPart() {
    const o = state.odds;
    if (!o) return null;
    const good = o.per_day * 1000 < 1;
    return h(
      "section",
      { class: `staff-card odds${good ? " good" : " bad"}`, "data-one-in": String(o.one_in) },
      h("h2", {}, app.t("staff.security.odds_title")),
      h("p", { class: "label" }, app.t("staff.security.odds_lead")),
      h("p", { class: "big-code odds-value" }, app.t("staff.security.one_in_days", { n: number(o.one_in) })),
      h(
        "p",
        {},
        app.t("staff.security.odds_detail", {
          guesses: number(o.guesses_per_day),
          users: number(o.active_users),
        }),
      ),
      o.pin_only_login ? h("p", { class: "notice warn" }, app.t("staff.security.pin_only_on", { users: number(o.active_users) })) : null,
      h("p", { class: good ? "hint" : "notice warn" }, app.t(good ? "staff.security.odds_good" : "staff.security.odds_bad")),
    );
  }

  function throttlePart() {
    const t = state.throttle;
    if (!t) return null;
    const manager = isManager(app);
    const clearButton = (scope, key, label) =>
      manager
        ? h("button", { type: "button", class: "button secondary", "data-action": `clear-${scope}`, "data-key": key || "", disabled: state.busy, onclick: () => clear(scope, key) }, label)
        : null;
    return h(
      "section",
      { class: "staff-card throttle", "data-suspended": String(t.suspended) },
      h("h2", {}, app.t("staff.security.throttle_title")),
      h("p", {}, app.t("staff.security.site_failures", { n: number(t.site_failures_24h), limit: number(t.site_limit) })),
      t.suspended
        ? h(
            "div",
            { class: "notice error", role: "alert" },
            h("p", {}, app.t("staff.security.suspended")),
            manager
              ? state.confirm === "site"
                ? confirmRow(app, { text: app.t("staff.security.lift_confirm"), yes: app.t("staff.security.lift"), onYes: () => clear("site"), onNo: () => { state.confirm = null; redraw(); } })
                : h("div", { class: "actions" }, h("button", { type: "button", class: "button danger", "data-action": "lift", onclick: () => { state.confirm = "site"; redraw(); } }, app.t("staff.security.lift")))
              : h("p", {}, app.t("staff.security.ask_manager")),
          )
        : h("p", { class: "hint" }, app.t("staff.security.not_suspended")),
      h("h3", {}, app.t("staff.security.sources_title")),
      t.sources.length
        ? h(
            "ul",
            { class: "staff-list" },
            t.sources.map((s) =>
              h(
                "li",
                { class: "row", "data-source": s.key },
                h(
                  "div",
                  { class: "row-text" },
                  h("span", { class: "row-title mono" }, s.key),
                  h("span", { class: "row-meta" }, app.t("staff.security.failures", { n: number(s.failures_24h) })),
                  s.throttled_for_secs ? h("span", { class: "row-meta strong" }, app.t("staff.security.held_back", { min: Math.ceil(s.throttled_for_secs / 60) })) : null,
                ),
                clearButton("source", s.key, app.t("staff.security.clear")),
              ),
            ),
          )
        : h("p", { class: "hint" }, app.t("staff.security.sources_none")),
      h("h3", {}, app.t("staff.security.accounts_title")),
      t.accounts.length
        ? h(
            "ul",
            { class: "staff-list" },
            t.accounts.map((a) =>
              h(
                "li",
                { class: "row", "data-account": a.user_id },
                h(
                  "div",
                  { class: "row-text" },
                  h("span", { class: "row-title mono" }, a.user_id),
                  h("span", { class: "row-meta" }, app.t("staff.security.in_a_row", { n: number(a.consecutive_failures) })),
                  a.wait_secs ? h("span", { class: "row-meta strong" }, app.t("staff.security.wait", { s: number(a.wait_secs) })) : null,
                ),
                clearButton("account", a.user_id, app.t("staff.security.clear")),
              ),
            ),
          )
        : h("p", { class: "hint" }, app.t("staff.security.accounts_none")),
    );
  }

  function matchesText(e) {
    const text = state.text.trim().toLowerCase();
    if (!text) return true;
    return [e.event, e.outcome, e.actor, e.subject, e.source, e.detail].some((v) => v && String(v).toLowerCase().includes(text));
  }

  /** Typing in the search box hides entries in place: no redraw, so the keyboard stays on the field. */
  function applyText() {
    const rows = [...app.root.querySelectorAll(".audit-entry")];
    let shown = 0;
    rows.forEach((row, i) => {
      const ok = matchesText(state.auditShown[i]);
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    const count = app.root.querySelector(".audit-count");
    if (count) {
      count.textContent = app.t("staff.audit.count", { n: number(shown), total: number(state.audit.length) });
      count.dataset.count = String(shown);
    }
  }

  function auditPart() {
    if (!isManager(app)) return h("p", { class: "notice" }, app.t("staff.security.audit_managers"));
    if (!state.audit) return null;
    const list = state.audit.filter((e) => state.filter === "all" || e.outcome === state.filter);
    state.auditShown = list;
    const shown = list.filter(matchesText).length;
    return h(
      "section",
      { class: "staff-card audit" },
      h("h2", {}, app.t("staff.audit.title")),
      h(
        "div",
        { class: "choice-row", role: "group", "aria-label": app.t("staff.audit.filter") },
        OUTCOMES.map((o) =>
          h(
            "button",
            {
              type: "button",
              class: `choice${state.filter === o ? " chosen" : ""}`,
              "aria-pressed": String(state.filter === o),
              "data-filter": o,
              onclick: () => {
                state.filter = o;
                redraw();
              },
            },
            app.t(`staff.audit.outcome.${o}`),
          ),
        ),
      ),
      field(app, {
        id: "audit_text",
        label: app.t("staff.audit.search"),
        kb: "text",
        value: state.text,
        maxlength: 64,
        oninput: (v) => {
          state.text = v;
          applyText();
        },
      }),
      h("p", { class: "hint audit-count", "data-count": String(shown) }, app.t("staff.audit.count", { n: number(shown), total: number(state.audit.length) })),
      h(
        "ol",
        { class: "staff-list audit-list" },
        list.map((e) =>
          h(
            "li",
            { class: `audit-entry outcome-${e.outcome}`, "data-event": e.event, "data-outcome": e.outcome, hidden: !matchesText(e) },
            h("span", { class: "row-meta" }, when(app, e.at)),
            h("span", { class: "row-title" }, e.event, " ", h("span", { class: "outcome" }, e.outcome)),
            h(
              "span",
              { class: "row-meta" },
              [e.actor && app.t("staff.audit.by", { who: e.actor }), e.subject && app.t("staff.audit.about", { who: e.subject }), e.source && app.t("staff.audit.from", { where: e.source })]
                .filter(Boolean)
                .join(" · "),
            ),
            e.detail ? h("span", { class: "row-meta" }, e.detail) : null,
          ),
        ),
      ),
    );
  }

  function render() {
    return staffFrame(
      app,
      { title: app.t("staff.security.title"), name: "security", back },
      outcome(state.msg),
      h("div", { class: "actions" }, h("button", { type: "button", class: "button secondary", "data-action": "refresh", onclick: () => { state.msg = null; load(); } }, app.t("staff.refresh"))),
      state.odds === null && state.throttle === null ? h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading")) : [oddsPart(), throttlePart(), auditPart()],
    );
  }

  return screen;
}
