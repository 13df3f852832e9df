// Instructor mode: today's classes, opening one, and its live roster (server-sent events) with
// the four check-in methods: a scanner typing a badge's payload + Enter, a typed ID, name search
// then the participant's PIN, and marking someone present; check-out the same ways; closing the
// class and exporting the roster as CSV. The roster stays on screen (no idle reset); when the
// staff session has idled out, the next action asks the instructor to sign in again.

import { get, post } from "../api.js";
import { h, replace } from "../dom.js";
import { badgeRead, field, problemText } from "../fields.js";
import { formatUserId, parseUserId, typingForm } from "../ids.js";
import { watchScanner } from "../scanner.js";
import { hhmm } from "../time.js";
import { onSitePrint } from "./on-site-print.js";
import { registerStaffTool } from "./staff.js";
import { startWalkIn } from "./walk-in.js";

/** A badge payload (CONTRACTS.md "Badge QR") starts with SG1; anything else typed is an ID. */
const BADGE_PREFIX = /^\s*SG1/i;

/** Today's classes of the signed-in instructor (all of today's for managers and admins). */
export function classesScreen(app) {
  const state = { classes: null, problem: null, busy: false };
  const screen = { name: "classes", render, stayAwake: true };
  const mine = !app.staff || app.staff.role === "instructor";

  async function load() {
    const res = await get(`/api/classes?date=today${mine ? "&mine=true" : ""}`);
    if (res.ok) state.classes = res.data;
    else state.problem = res.code;
    if (app.screen === screen) app.render();
  }
  load();

  async function open(c) {
    state.busy = true;
    app.render();
    const res = await post(`/api/classes/${c.id}/open`, {});
    state.busy = false;
    if (res.ok || res.code === "class_not_scheduled") app.show(rosterScreen(app, c.id));
    else {
      state.problem = res.code;
      app.render();
    }
  }

  function tile(c) {
    const action = c.state === "scheduled" ? "open" : "roster";
    return h(
      "div",
      { class: `class-tile state-${c.state}`, "data-class": c.id },
      h("span", { class: "class-time" }, `${hhmm(c.starts_at)}–${hhmm(c.ends_at)}`),
      h("span", { class: "tile-title" }, c.title),
      h("span", { class: "tile-text" }, app.t("classes.room_people", { room: c.room, n: c.expected.length })),
      h("span", { class: `state-tag state-${c.state}` }, app.t(`classes.state.${c.state}`)),
      c.state === "cancelled"
        ? null
        : h(
            "button",
            {
              type: "button",
              class: "button primary",
              "data-action": action,
              disabled: state.busy,
              onclick: () => (action === "open" ? open(c) : app.show(rosterScreen(app, c.id))),
            },
            app.t(action === "open" ? "classes.open" : "classes.show_roster"),
          ),
    );
  }

  function render() {
    return h(
      "section",
      { class: "classes" },
      h("h1", {}, app.t("classes.title")),
      state.problem ? h("p", { class: "notice error", role: "alert", "data-code": state.problem }, problemText(app, state.problem)) : null,
      !state.classes
        ? h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"))
        : state.classes.length === 0
          ? h("p", { class: "notice" }, app.t("classes.none_today"))
          : h("div", { class: "class-list" }, state.classes.map(tile)),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button secondary", "data-action": "on-site", onclick: () => app.show(onSiteScreen(app)) }, app.t("onsite.title")),
        h("button", { type: "button", class: "button secondary", "data-action": "back", onclick: () => app.goHome() }, app.t("common.back_to_start")),
      ),
    );
  }
  return screen;
}

/** The live roster of one class. */
export function rosterScreen(app, classId) {
  const state = {
    roster: null,
    problem: null,
    mode: "in",
    scan: "",
    id: "",
    idError: null,
    search: "",
    found: null,
    picked: null,
    pin: "",
    result: null,
    confirmClose: false,
    busy: false,
    live: false,
  };
  const screen = { name: "roster", render, stayAwake: true, afterRender, leave };
  const parts = {};
  let source = null;

  if (location.hash !== `#class=${classId}`) history.replaceState(null, "", `/#class=${classId}`);

  function connect() {
    if (typeof EventSource === "undefined") return;
    source = new EventSource(`/api/classes/${classId}/events`);
    source.addEventListener("roster", (e) => {
      const before = state.roster && state.roster.class.state;
      try {
        state.roster = JSON.parse(e.data);
      } catch {
        return;
      }
      state.live = true;
      if (app.screen !== screen) return;
      // Only the roster and counts are redrawn, so a scan being typed is never interrupted;
      // a change of the class's state (opened, closed) redraws the screen.
      const same = before === state.roster.class.state;
      if (same && parts.list && parts.counts && document.body.contains(parts.list)) {
        replace(parts.counts, counts());
        replace(parts.list, lines());
        parts.list.dataset.updated = String(Date.now());
      } else app.render();
    });
    source.addEventListener("error", () => {
      state.live = false;
    });
  }
  get(`/api/classes/${classId}`).then((res) => {
    if (res.ok) {
      if (!state.roster) state.roster = res.data;
    } else state.problem = res.code;
    if (app.screen === screen) app.render();
  });
  connect();

  // A scan made while another field has the focus still counts as a scan.
  // While the sign-in box shows, a scan is the instructor's own badge signing back in.
  const unwatch = watchScanner(
    (payload) => {
      if (signingIn()) {
        state.againBadge = payload.slice(0, 64);
        state.againProblem = null;
        app.render();
        const pin = document.getElementById("again_pin");
        if (pin) pin.focus();
        return;
      }
      act(state.mode, { method: "badge", badge: payload.slice(0, 64) });
    },
    { skip: (el) => el.id === "scan" && !signingIn() },
  );

  function signingIn() {
    return Boolean(state.result && !state.result.ok && state.result.code === "unauthenticated");
  }

  function leave() {
    unwatch();
    if (source) source.close();
    source = null;
    if (location.hash) history.replaceState(null, "", "/");
  }

  function show(result) {
    state.result = result;
    app.render();
  }

  async function act(dir, body) {
    state.busy = true;
    const res = await post(`/api/classes/${classId}/check-${dir === "in" ? "in" : "out"}`, body);
    state.busy = false;
    if (res.ok) show({ ok: true, data: res.data });
    else show({ ok: false, code: res.code, field: res.field });
    return res;
  }

  async function submitScan() {
    const text = state.scan.trim();
    state.scan = "";
    if (!text) return;
    if (BADGE_PREFIX.test(text) || text.length > 14) {
      await act(state.mode, { method: "badge", badge: text.slice(0, 64) });
      return;
    }
    const id = parseUserId(text);
    if (!id.ok) return show({ ok: false, code: id.code === "id_typo" ? "id_typo" : "badge_not_sitegate" });
    await act(state.mode, { method: "id", user_id: id.id });
  }

  async function submitId() {
    const id = parseUserId(state.id);
    state.idError = id.ok ? null : app.t(id.code === "required" ? "error.required" : `error.${id.code}`);
    if (!id.ok) return app.render();
    const res = await act(state.mode, { method: "id", user_id: id.id });
    if (res.ok) state.id = "";
    app.render();
  }

  async function search() {
    if (!state.search.trim()) return;
    const res = await get(`/api/classes/${classId}/people?q=${encodeURIComponent(state.search.trim())}`);
    state.found = res.ok ? res.data : [];
    if (!res.ok) state.result = { ok: false, code: res.code };
    app.render();
  }

  async function submitPin() {
    if (!state.picked || !state.pin) return;
    const res = await act(state.mode, { method: "pin", user_id: state.picked.user_id, pin: state.pin });
    state.pin = "";
    if (res.ok) {
      state.picked = null;
      state.found = null;
      state.search = "";
    }
    app.render();
  }

  async function close() {
    state.busy = true;
    app.render();
    const res = await post(`/api/classes/${classId}/close`, { outcomes: [] });
    state.busy = false;
    state.confirmClose = false;
    if (res.ok) {
      state.roster = res.data;
      state.result = null;
    } else state.result = { ok: false, code: res.code };
    app.render();
  }

  function afterRender() {
    // A scanner types wherever the focus is: keep it in the scan box unless another field has it.
    const active = document.activeElement;
    const typing = active && active.tagName === "INPUT" && active.id !== "scan";
    const box = document.getElementById("scan");
    if (box && !typing) box.focus();
  }

  async function signInAgain() {
    let body;
    if (state.againHeld) {
      // The second step for staff with an authenticator: its current code.
      const code = (state.againTotp || "").replace(/\s/g, "");
      if (!/^\d{6}$/.test(code)) {
        state.againProblem = app.t("staff.totp.code_format");
        return app.render();
      }
      body = { ...state.againHeld.who, pin: state.againHeld.pin, totp: code };
    } else {
      const id = state.againBadge ? { ok: true } : parseUserId(state.againId);
      if (!id.ok || !state.againPin) return;
      const who = state.againBadge ? { badge: state.againBadge } : { user_id: id.id };
      body = { ...who, pin: state.againPin };
    }
    const res = await post("/api/auth/sign-in", body);
    const held = state.againHeld;
    state.againPin = "";
    state.againTotp = "";
    state.againHeld = null;
    if (!res.ok && res.code === "totp_required" && !held) {
      // Held in memory only until the code is sent (or the box goes).
      const { pin, ...who } = body;
      state.againHeld = { who, pin };
      state.againProblem = null;
      return app.render();
    }
    if (res.ok || res.code === "badge_not_sitegate") state.againBadge = null;
    if (res.ok) {
      state.result = null;
      state.againProblem = null;
      if (source) source.close();
      connect();
    } else state.againProblem = problemText(app, res.code, res.field);
    app.render();
  }

  /** Who signs back in: the badge read, or the typed ID. */
  function againWho() {
    if (!state.againBadge) {
      return field(app, { id: "again_id", label: app.t("staff.id"), kb: "id", value: state.againId || "", maxlength: 64, oninput: (v, el) => { state.againId = typingForm(v); if (el.value !== state.againId) el.value = state.againId; } });
    }
    return badgeRead(app, () => {
      state.againBadge = null;
      app.render();
    });
  }

  /** The staff session idled out: sign in again here, the roster stays. */
  function signInBox() {
    const fields = state.againHeld
      ? [
          h("p", { class: "lead" }, app.t("staff.totp_step.lead")),
          field(app, { id: "again_totp", label: app.t("staff.totp_step.code"), kb: "pin", value: "", maxlength: 6, inputmode: "numeric", oninput: (v) => { state.againTotp = v; } }),
        ]
      : [
          againWho(),
          field(app, { id: "again_pin", label: app.t("staff.pin"), kb: "pin", secret: true, value: "", maxlength: 10, inputmode: "numeric", oninput: (v) => { state.againPin = v; } }),
        ];
    return h(
      "div",
      { class: "banner confirm sign-in-again", role: "alert", "data-code": "unauthenticated" },
      h("p", {}, app.t("roster.sign_in_again")),
      state.againProblem ? h("p", { class: "field-error" }, state.againProblem) : null,
      fields,
      h("button", { type: "button", class: "button primary", "data-action": "sign-in-again", onclick: signInAgain }, app.t("staff.sign_in")),
    );
  }

  function resultBanner() {
    const r = state.result;
    if (!r) return h("div", { class: "scan-result empty", "aria-live": "polite" });
    if (!r.ok && r.code === "unauthenticated") return signInBox();
    if (!r.ok) {
      return h(
        "div",
        { class: "scan-result refused", role: "alert", "data-code": r.code },
        h("span", { class: "result-mark", "aria-hidden": "true" }, "✗"),
        h("span", { class: "result-text" }, problemText(app, r.code, r.field)),
      );
    }
    const d = r.data;
    const kind = d.status;
    return h(
      "div",
      { class: `scan-result ${kind}`, role: "status", "data-status": kind, "data-user-id": d.user_id },
      h("span", { class: "result-mark", "aria-hidden": "true" }, kind === "checked_in" || kind === "checked_out" ? "✓" : "!"),
      h(
        "span",
        { class: "result-text" },
        h("strong", { class: "result-name" }, `${d.given_name} ${d.family_name}`),
        " ",
        app.t(`roster.result.${kind}`, { time: hhmm(d.at) }),
        d.walk_in && kind === "checked_in" ? h("span", { class: "walkin-tag" }, app.t("roster.walk_in")) : null,
      ),
    );
  }

  function counts() {
    const c = (state.roster && state.roster.counts) || {};
    const item = (key, n) => h("div", { class: `count count-${key}`, "data-count": key }, h("span", { class: "count-n" }, String(n ?? 0)), h("span", { class: "count-label" }, app.t(`roster.count.${key}`)));
    return [item("present", c.present), item("expected", c.expected), item("walk_ins", c.walk_ins), item("not_arrived", c.not_arrived)];
  }

  function line(l) {
    const open = state.roster.class.state === "open";
    const status = l.present ? "present" : l.checked_out_at ? "left" : "waiting";
    return h(
      "li",
      { class: `roster-line ${status}`, "data-user-id": l.user_id, "data-status": status },
      h(
        "span",
        { class: "who" },
        h("strong", { class: "who-name" }, l.short_name),
        h("span", { class: "mono who-id" }, formatUserId(l.user_id)),
        l.walk_in ? h("span", { class: "walkin-tag" }, app.t("roster.walk_in")) : null,
      ),
      h(
        "span",
        { class: "when" },
        l.outcome
          ? app.t(`roster.outcome.${l.outcome}`)
          : l.present
            ? app.t("roster.in_at", { time: hhmm(l.checked_in_at), method: app.t(`roster.method.${l.check_in_method}`) })
            : l.checked_out_at
              ? app.t(l.auto_checked_out ? "roster.out_auto" : "roster.out_at", { time: hhmm(l.checked_out_at) })
              : app.t("roster.not_arrived"),
      ),
      open
        ? h(
            "button",
            {
              type: "button",
              class: `button ${l.present ? "secondary" : "primary"} line-action`,
              "data-action": l.present ? "mark-out" : "mark-in",
              onclick: () => act(l.present ? "out" : "in", { method: "staff", user_id: l.user_id }),
            },
            app.t(l.present ? "roster.check_out" : "roster.mark_present"),
          )
        : null,
    );
  }

  function lines() {
    const all = (state.roster && state.roster.lines) || [];
    const order = (l) => (l.present ? 1 : l.checked_out_at ? 2 : 0);
    return [...all].sort((a, b) => order(a) - order(b)).map(line);
  }

  function methods() {
    const scanBox = h("input", {
      id: "scan",
      class: "scan-input",
      type: "text",
      value: state.scan,
      autocomplete: "off",
      spellcheck: "false",
      autocapitalize: "off",
      inputmode: "none",
      "data-kb": "scan",
      "aria-label": app.t("roster.scan_label"),
      placeholder: app.t("roster.scan_placeholder"),
      oninput: (e) => {
        state.scan = e.target.value;
      },
      onkeydown: (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          submitScan();
        }
      },
    });
    return h(
      "div",
      { class: "methods" },
      h(
        "div",
        { class: "mode-row", role: "group" },
        ["in", "out"].map((m) =>
          h("button", { type: "button", class: `choice${state.mode === m ? " chosen" : ""}`, "data-mode": m, "aria-pressed": String(state.mode === m), onclick: () => { state.mode = m; state.result = null; app.render(); } }, app.t(`roster.mode.${m}`)),
        ),
      ),
      h("label", { class: "scan-label", for: "scan" }, app.t("roster.scan_label")),
      scanBox,
      resultBanner(),
      h(
        "div",
        { class: "method-grid" },
        h(
          "div",
          { class: "method" },
          field(app, {
            id: "typed_id",
            label: app.t("roster.typed_id"),
            kb: "id",
            value: state.id,
            maxlength: 64,
            error: state.idError,
            oninput: (v, el) => {
              state.id = typingForm(v);
              if (el.value !== state.id) el.value = state.id;
            },
          }),
          h("button", { type: "button", class: "button primary", "data-action": "submit-id", onclick: submitId }, app.t(`roster.mode.${state.mode}`)),
        ),
        h(
          "div",
          { class: "method" },
          state.picked
            ? [
                h("p", { class: "picked" }, h("strong", {}, `${state.picked.given_name} ${state.picked.family_name}`), " ", h("span", { class: "mono" }, formatUserId(state.picked.user_id))),
                field(app, { id: "person_pin", label: app.t("roster.their_pin"), kb: "pin", secret: true, value: state.pin, maxlength: 10, inputmode: "numeric", oninput: (v) => { state.pin = v; } }),
                h("div", { class: "row" },
                  h("button", { type: "button", class: "button primary", "data-action": "submit-pin", onclick: submitPin }, app.t(`roster.mode.${state.mode}`)),
                  h("button", { type: "button", class: "button secondary", "data-action": "unpick", onclick: () => { state.picked = null; state.pin = ""; app.render(); } }, app.t("common.cancel"))),
              ]
            : [
                field(app, { id: "name_search", label: app.t("roster.name_search"), kb: "text", value: state.search, maxlength: 100, oninput: (v) => { state.search = v; } }),
                h("button", { type: "button", class: "button primary", "data-action": "search", onclick: search }, app.t("roster.search")),
                state.found
                  ? state.found.length
                    ? h("ul", { class: "found" }, state.found.map((p) => h("li", {}, h("button", { type: "button", class: "button secondary person", "data-user-id": p.user_id, onclick: () => { state.picked = p; app.render(); } }, `${p.given_name} ${p.family_name}`, p.employer ? h("span", { class: "hint" }, ` · ${p.employer}`) : null))))
                    : h("p", { class: "hint" }, app.t("roster.nobody_found"))
                  : null,
              ],
        ),
      ),
    );
  }

  function closeBox() {
    if (!state.confirmClose) {
      return h("button", { type: "button", class: "button secondary", "data-action": "close-class", onclick: () => { state.confirmClose = true; app.render(); } }, app.t("roster.close"));
    }
    const c = state.roster.counts;
    return h(
      "div",
      { class: "banner confirm close-confirm", role: "alertdialog" },
      h("p", {}, app.t("roster.close_confirm", { present: c.present, absent: c.not_arrived })),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "confirm-close", disabled: state.busy, onclick: close }, app.t("roster.close_yes")),
        h("button", { type: "button", class: "button secondary", onclick: () => { state.confirmClose = false; app.render(); } }, app.t("common.cancel"))),
    );
  }

  function render() {
    if (state.problem) return h("p", { class: "notice error", role: "alert", "data-code": state.problem }, problemText(app, state.problem));
    if (!state.roster) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    const c = state.roster.class;
    parts.counts = h("div", { class: "counts", "aria-live": "polite" }, counts());
    parts.list = h("ul", { class: "roster-list", "data-state": c.state }, lines());
    return h(
      "section",
      { class: "roster", "data-class": c.id, "data-state": c.state },
      h("div", { class: "roster-head" },
        h("h1", {}, c.title),
        h("p", { class: "class-meta" }, `${hhmm(c.starts_at)}–${hhmm(c.ends_at)} · ${c.room} · `, h("span", { class: `state-tag state-${c.state}` }, app.t(`classes.state.${c.state}`)))),
      parts.counts,
      h(
        "div",
        { class: `roster-body${c.state === "open" ? " with-controls" : ""}` },
        c.state === "open" ? h("div", { class: "roster-controls" }, methods()) : state.result ? resultBanner() : null,
        h("div", { class: "roster-people" }, h("h2", {}, app.t("roster.people")), parts.list),
      ),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button secondary link-button", "data-action": "export", href: `/api/classes/${c.id}/roster.csv`, download: "" }, app.t("roster.export")),
        c.state === "open"
          ? h("button", { type: "button", class: "button secondary", "data-action": "walk-in", onclick: () => startWalkIn(app, c, () => app.show(rosterScreen(app, c.id))) }, app.t("walkin.button"))
          : null,
        c.state === "open" ? closeBox() : null,
        h("button", { type: "button", class: "button secondary", "data-action": "classes", onclick: () => { leave(); app.show(classesScreen(app)); } }, app.t("roster.back")),
      ),
    );
  }

  return screen;
}

/** Who is on site now: everyone checked in to an open class, for a roll call; CSV, or printed on the badge printer. */
export function onSiteScreen(app) {
  const state = { list: null, problem: null };
  const screen = { name: "on-site", render, stayAwake: true };
  const printing = onSitePrint(app, screen);
  get("/api/on-site").then((res) => {
    if (res.ok) state.list = res.data;
    else state.problem = res.code;
    if (app.screen === screen) app.render();
  });
  function render() {
    return h(
      "section",
      { class: "on-site" },
      h("h1", {}, app.t("onsite.title")),
      state.problem ? h("p", { class: "notice error", role: "alert" }, problemText(app, state.problem)) : null,
      state.list
        ? h("p", { class: "lead", "data-count": state.list.length }, app.t(state.list.length === 1 ? "onsite.count_one" : "onsite.count", { n: state.list.length }))
        : h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading")),
      state.list
        ? h("ul", { class: "roster-list" }, state.list.map((p) => h("li", { class: "roster-line present", "data-user-id": p.user_id },
            h("span", { class: "who" }, h("strong", {}, `${p.family_name}, ${p.given_name}`)),
            h("span", { class: "when" }, `${p.class_title} · ${p.room} · ${hhmm(p.checked_in_at)}`))))
        : null,
      printing.status(),
      h("div", { class: "actions" },
        printing.button(),
        h("a", { class: "button secondary link-button", "data-action": "export", href: "/api/on-site.csv", download: "" }, app.t("onsite.export")),
        h("button", { type: "button", class: "button secondary", onclick: () => app.show(classesScreen(app)) }, app.t("roster.back"))),
    );
  }
  return screen;
}


registerStaffTool("classes", (app) => app.show(classesScreen(app)));
