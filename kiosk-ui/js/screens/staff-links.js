// Staff: training access links. The list (name, description, state, expiry, use against the cap,
// where the link puts people), a new link and edits (name, description, expiry date, cap, any mix
// of groups, sites and regions, pinned on the start screen) with the API's refusals shown at their
// fields, deactivate and reactivate after a confirmation, the poster (QR and URL, big, printed by
// the browser) and the live usage (who came through, where they were put; CSV on a laptop). A
// link has no URL when the gateway knows no address a phone on the site LAN can open: the screen
// says so in plain words instead of showing a QR. Managers and admins: the API's access area of
// /api/links.

import { h, replace } from "../dom.js";
import { field, problemText } from "../fields.js";
import { translate } from "../i18n.js";
import { formatUserId } from "../ids.js";
import { confirmRow, failText, outcome, sessionEnded, staffCall, staffFrame, when } from "./staff-common.js";
import { qrFromSvg } from "./staff-totp.js";

/** Links shown at a time; "show more" adds as many again. */
const PAGE = 10;
/** How often the open usage tab asks again. */
const USAGE_REFRESH_MS = 3000;
/** Allocation keys as the API names them, and the unit kind of each. */
const KINDS = [
  ["groups", "group"],
  ["sites", "site"],
  ["regions", "region"],
];

/** The fields of the form an API refusal can name (`allocation.*` shows at the allocation). */
const FORM_FIELDS = ["name", "description", "expires_at", "cap", "allocation"];

/** "2027-03-31" for a date-time, in the screen's time zone ("" for none). */
function dateInput(value) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The end of a chosen day (local time) as RFC 3339: a link "expires on the 31st" works all that day. */
function endOfDay(date) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || "");
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function sameSet(a, b) {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export function staffLinksScreen(app, back) {
  const state = {
    view: "list",
    links: null,
    shown: PAGE,
    units: null,
    link: null,
    tab: "details",
    form: null,
    errors: {},
    msg: null,
    busy: false,
    confirm: false,
    poster: null,
    usage: null,
    usageProblem: null,
  };
  const screen = { name: "staff-links", render, leave };
  const redraw = () => app.screen === screen && app.render();
  let timer = null;
  /** The usage part on screen: refreshed in place, so a list being read keeps its scroll. */
  let usageBox = null;

  function leave() {
    clearTimeout(timer);
    timer = null;
  }

  async function load() {
    const res = await staffCall(app, "GET", "/api/links");
    if (res.ended) return;
    // Newest first: the link just made is on top.
    state.links = res.ok && Array.isArray(res.data) ? [...res.data].reverse() : [];
    if (!res.ok) state.msg = { error: true, text: failText(app, res) };
    redraw();
  }
  load();

  async function loadUnits() {
    const res = await staffCall(app, "GET", "/api/units");
    if (res.ended) return;
    state.units = res.ok && Array.isArray(res.data) ? res.data : [];
    if (!res.ok) state.msg = { error: true, text: failText(app, res) };
    redraw();
  }

  /** Replace a link in the list with the API's newer copy (or add it on top). */
  function remember(link) {
    const list = state.links || [];
    const at = list.findIndex((l) => l.id === link.id);
    if (at >= 0) list[at] = link;
    else list.unshift(link);
    state.links = list;
    if (state.link && state.link.id === link.id) state.link = link;
  }

  function toList() {
    leave();
    state.view = "list";
    state.link = null;
    state.form = null;
    state.errors = {};
    state.confirm = false;
    state.msg = null;
    app.keyboard.close();
    redraw();
    load();
  }

  function openLink(link, tab = "details") {
    leave();
    state.view = "detail";
    state.link = link;
    state.form = null;
    state.errors = {};
    state.confirm = false;
    state.usage = null;
    state.usageProblem = null;
    app.keyboard.close();
    showTab(tab);
  }

  function showTab(tab) {
    leave();
    state.tab = tab;
    state.confirm = false;
    state.msg = null;
    redraw();
    if (tab === "poster") loadPoster();
    if (tab === "usage") refreshUsage();
  }

  // --- the list ---------------------------------------------------------------------------

  function stateTag(link) {
    return h("span", { class: `pill link-state state-${link.state}`, "data-state": link.state }, app.t(`staff.links.state.${link.state}`));
  }

  function usedText(link) {
    return link.cap ? app.t("staff.links.used_of", { used: link.used, cap: link.cap }) : app.t("staff.links.used_no_cap", { used: link.used });
  }

  function expiryText(link) {
    if (!link.expires_at) return app.t("staff.links.no_expiry");
    return app.t(link.state === "expired" ? "staff.links.expired_on" : "staff.links.expires", { time: when(app, link.expires_at) });
  }

  /** "Groups: A, B · Sites: C" from a list of units ({kind, name}). */
  function placesText(units) {
    const parts = KINDS.map(([key, kind]) => {
      const names = (units || []).filter((u) => u.kind === kind).map((u) => u.name);
      return names.length ? `${app.t(`staff.links.kind.${key}`)}: ${names.join(", ")}` : null;
    }).filter(Boolean);
    return parts.length ? parts.join(" · ") : app.t("staff.links.allocation_none");
  }

  /** In place of a URL: why there is none, in plain words. */
  function noUrl(link, { short = false } = {}) {
    return h(
      short ? "span" : "p",
      { class: short ? "row-meta strong link-no-url" : "notice warn link-no-url", role: short ? undefined : "note", "data-no-url": link.url_unavailable || "" },
      app.t(short ? "staff.links.no_url_short" : "staff.links.no_url"),
    );
  }

  function listView() {
    const top = h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "button primary", "data-action": "new-link", onclick: () => openForm(null) }, app.t("staff.links.new")),
      h("button", { type: "button", class: "button secondary", "data-action": "refresh", onclick: () => { state.msg = null; load(); } }, app.t("staff.refresh")),
    );
    if (state.links === null) return [top, h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"))];
    if (!state.links.length) return [top, h("p", { class: "notice", "data-links": "0" }, app.t("staff.links.none"))];
    const shown = state.links.slice(0, state.shown);
    const left = state.links.length - shown.length;
    return [
      top,
      h("p", { class: "hint" }, app.t("staff.links.count", { shown: shown.length, total: state.links.length })),
      h(
        "ul",
        { class: "staff-list link-list", "data-links": String(state.links.length) },
        shown.map((l) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "row-button link-row", "data-link-id": l.id, "data-state": l.state, onclick: () => openLink(l) },
              h("span", { class: "row-title" }, h("span", { class: "link-name" }, l.name), " ", stateTag(l)),
              l.description ? h("span", { class: "row-meta link-description" }, l.description) : null,
              h("span", { class: "row-meta" }, h("span", { class: "link-used" }, usedText(l)), " · ", h("span", { class: "link-expiry" }, expiryText(l))),
              h("span", { class: "row-meta link-places" }, placesText(l.units)),
              l.url ? null : noUrl(l, { short: true }),
            ),
          ),
        ),
      ),
      left > 0
        ? h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "button secondary", "data-action": "more-links", onclick: () => { state.shown += PAGE; redraw(); } }, app.t("staff.links.more", { n: Math.min(left, PAGE) })),
          )
        : null,
    ];
  }

  // --- the form -----------------------------------------------------------------------------

  function openForm(link) {
    leave();
    const ids = (key) => new Set(link ? link.allocation[key] || [] : []);
    state.view = "form";
    state.errors = {};
    state.msg = null;
    state.confirm = false;
    state.form = {
      id: link ? link.id : null,
      original: link,
      name: link ? link.name : "",
      description: link ? link.description : "",
      expires: link ? dateInput(link.expires_at) : "",
      cap: link && link.cap ? String(link.cap) : "",
      allocation: { groups: ids("groups"), sites: ids("sites"), regions: ids("regions") },
      pinned: link ? link.pinned : false,
    };
    redraw();
    if (state.units === null) loadUnits();
  }

  /** The field is being corrected: its error goes (from the screen too, without drawing it anew). */
  function corrected(key, fieldId) {
    if (!state.errors[key]) return;
    delete state.errors[key];
    const box = document.querySelector(`[data-field="${fieldId}"]`);
    if (!box) return;
    box.classList.remove("has-error");
    const err = box.querySelector(".field-error");
    if (err) err.remove();
    const input = box.querySelector("input");
    if (input) {
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", `${fieldId}-hint`);
    }
  }

  /** The message for a refusal at `field`: this screen's own words, else the general one. */
  function fieldError(res) {
    const f = String(res.field || "");
    const key = `staff.links.error.${f.startsWith("allocation.") ? "allocation" : f}`;
    const text = app.t(key);
    return text === key ? problemText(app, res.code, res.field) : text;
  }

  /** What the form asks the API for: the whole link when new, only what changed when editing. */
  function formBody() {
    const f = state.form;
    const cap = f.cap.trim();
    if (cap && !/^\d+$/.test(cap)) return { error: { cap: app.t("staff.links.error.cap") } };
    const capValue = cap ? Number(cap) : null;
    const allocation = Object.fromEntries(KINDS.map(([key]) => [key, [...f.allocation[key]]]));
    if (!f.original) {
      const body = { name: f.name, description: f.description, allocation, pinned: f.pinned };
      if (f.expires) body.expires_at = endOfDay(f.expires);
      if (capValue !== null) body.cap = capValue;
      return { body };
    }
    const o = f.original;
    const body = {};
    if (f.name !== o.name) body.name = f.name;
    if (f.description !== o.description) body.description = f.description;
    if (f.expires !== dateInput(o.expires_at)) body.expires_at = f.expires ? endOfDay(f.expires) : null;
    if (capValue !== (o.cap || null)) body.cap = capValue;
    if (KINDS.some(([key]) => !sameSet(f.allocation[key], new Set(o.allocation[key] || [])))) body.allocation = allocation;
    if (f.pinned !== o.pinned) body.pinned = f.pinned;
    return { body };
  }

  async function save() {
    const f = state.form;
    state.errors = {};
    state.msg = null;
    const { body, error } = formBody();
    if (error) {
      state.errors = error;
      return redraw();
    }
    if (f.original && !Object.keys(body).length) {
      openLink(f.original);
      state.msg = { text: app.t("staff.links.unchanged") };
      return redraw();
    }
    state.busy = true;
    redraw();
    const res = f.original
      ? await staffCall(app, "PATCH", `/api/links/${encodeURIComponent(f.id)}`, body)
      : await staffCall(app, "POST", "/api/links", body);
    state.busy = false;
    if (res.ended) return;
    if (res.ok) {
      remember(res.data);
      openLink(res.data);
      state.msg = { text: app.t(f.original ? "staff.links.saved" : "staff.links.created", { name: res.data.name }) };
      return redraw();
    }
    const at = String(res.field || "").startsWith("allocation.") ? "allocation" : res.field;
    if (FORM_FIELDS.includes(at)) state.errors[at] = fieldError(res);
    else state.msg = { error: true, text: failText(app, res) };
    redraw();
  }

  function expiryField() {
    const f = state.form;
    const error = state.errors.expires_at;
    const input = h("input", {
      id: "link_expires",
      name: "link_expires",
      type: "date",
      value: f.expires,
      min: dateInput(new Date().toISOString()),
      "aria-invalid": error ? "true" : undefined,
      "aria-describedby": error ? "link_expires-error" : "link_expires-hint",
      // A date is picked from the browser's calendar: no on-screen keyboard for it.
      onfocus: () => app.keyboard.close(),
      oninput: (e) => {
        f.expires = e.target.value;
        corrected("expires_at", "link_expires");
      },
      onchange: (e) => {
        f.expires = e.target.value;
        corrected("expires_at", "link_expires");
        redraw();
      },
    });
    return h(
      "div",
      { class: `field${error ? " has-error" : ""}`, "data-field": "link_expires" },
      h("label", { for: "link_expires" }, app.t("staff.links.field.expires")),
      h("p", { class: "hint", id: "link_expires-hint" }, app.t("staff.links.field.expires_hint")),
      h(
        "div",
        { class: "date-row" },
        input,
        f.expires
          ? h("button", { type: "button", class: "button secondary", "data-action": "no-expiry", onclick: () => { f.expires = ""; delete state.errors.expires_at; redraw(); } }, app.t("staff.links.field.no_expiry"))
          : null,
      ),
      error ? h("p", { class: "field-error", id: "link_expires-error", role: "alert" }, error) : null,
    );
  }

  function allocationPart() {
    const f = state.form;
    const error = state.errors.allocation;
    let body;
    if (state.units === null) body = h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    else {
      body = KINDS.map(([key, kind]) => {
        const units = state.units.filter((u) => u.kind === kind);
        return h(
          "div",
          { class: "unit-kind-group", "data-kind": key },
          h("h3", { id: `alloc-${key}` }, app.t(`staff.links.kind.${key}`)),
          units.length
            ? h(
                "div",
                { class: "choice-row unit-choices", role: "group", "aria-labelledby": `alloc-${key}` },
                units.map((u) => {
                  const on = f.allocation[key].has(u.id);
                  return h(
                    "button",
                    {
                      type: "button",
                      class: `choice${on ? " chosen" : ""}`,
                      "data-unit-id": u.id,
                      "aria-pressed": String(on),
                      onclick: () => {
                        if (on) f.allocation[key].delete(u.id);
                        else f.allocation[key].add(u.id);
                        delete state.errors.allocation;
                        redraw();
                      },
                    },
                    u.name,
                  );
                }),
              )
            : h("p", { class: "hint" }, app.t(`staff.links.kind_none.${key}`)),
        );
      });
    }
    return h(
      "fieldset",
      { class: `link-allocation${error ? " has-error" : ""}`, "data-field": "allocation" },
      h("legend", {}, app.t("staff.links.field.allocation")),
      h("p", { class: "hint" }, app.t("staff.links.field.allocation_hint")),
      body,
      error ? h("p", { class: "field-error", role: "alert" }, error) : null,
    );
  }

  function formView() {
    const f = state.form;
    return h(
      "section",
      { class: "link-form", "data-mode": f.original ? "edit" : "create" },
      h("h2", {}, f.original ? app.t("staff.links.edit_title", { name: f.original.name }) : app.t("staff.links.new_title")),
      field(app, {
        id: "link_name",
        label: app.t("staff.links.field.name"),
        hint: app.t("staff.links.field.name_hint"),
        required: true,
        kb: "text",
        value: f.name,
        maxlength: 100,
        error: state.errors.name,
        oninput: (v) => {
          f.name = v;
          corrected("name", "link_name");
        },
      }),
      field(app, {
        id: "link_description",
        label: app.t("staff.links.field.description"),
        hint: app.t("staff.links.field.description_hint"),
        kb: "text",
        value: f.description,
        maxlength: 500,
        error: state.errors.description,
        oninput: (v) => {
          f.description = v;
          corrected("description", "link_description");
        },
      }),
      expiryField(),
      field(app, {
        id: "link_cap",
        label: app.t("staff.links.field.cap"),
        hint: app.t("staff.links.field.cap_hint"),
        kb: "pin",
        inputmode: "numeric",
        value: f.cap,
        maxlength: 6,
        error: state.errors.cap,
        oninput: (v) => {
          f.cap = v;
          corrected("cap", "link_cap");
        },
      }),
      allocationPart(),
      h(
        "button",
        {
          type: "button",
          role: "checkbox",
          class: `check${f.pinned ? " checked" : ""}`,
          "data-action": "pinned",
          "aria-checked": String(f.pinned),
          onclick: () => {
            f.pinned = !f.pinned;
            redraw();
          },
        },
        h("span", { class: "box", "aria-hidden": "true" }, f.pinned ? "✓" : ""),
        h("span", {}, app.t("staff.links.field.pinned")),
      ),
      h("p", { class: "hint" }, app.t("staff.links.field.pinned_hint")),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "save-link", disabled: state.busy, onclick: save }, app.t(f.original ? "staff.links.save" : "staff.links.create")),
        h(
          "button",
          { type: "button", class: "button secondary", "data-action": "cancel", onclick: () => (f.original ? openLink(f.original) : toList()) },
          app.t("common.cancel"),
        ),
      ),
    );
  }

  // --- one link: details, poster, usage -------------------------------------------------------

  async function setActive(on) {
    const l = state.link;
    state.busy = true;
    state.confirm = false;
    state.msg = null;
    redraw();
    const res = await staffCall(app, "POST", `/api/links/${encodeURIComponent(l.id)}/${on ? "reactivate" : "deactivate"}`, {});
    state.busy = false;
    if (res.ended) return;
    if (res.ok) {
      remember(res.data);
      state.msg = { text: app.t(on ? "staff.links.reactivated" : "staff.links.deactivated", { name: res.data.name }) };
    } else state.msg = { error: true, text: failText(app, res) };
    redraw();
  }

  function fact(label, value, attrs = {}) {
    return [h("dt", {}, label), h("dd", attrs, value)];
  }

  function stateText(l) {
    if (l.state === "expired") return app.t("staff.links.state_text.expired", { time: when(app, l.expires_at) });
    return app.t(`staff.links.state_text.${l.state}`);
  }

  function detailsTab() {
    const l = state.link;
    let actions;
    if (state.confirm) {
      actions = confirmRow(app, {
        text: app.t(l.active ? "staff.links.deactivate_confirm" : "staff.links.reactivate_confirm", { name: l.name }),
        yes: app.t(l.active ? "staff.links.deactivate" : "staff.links.reactivate"),
        onYes: () => setActive(!l.active),
        onNo: () => {
          state.confirm = false;
          redraw();
        },
      });
    } else {
      actions = h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "edit-link", disabled: state.busy, onclick: () => openForm(l) }, app.t("staff.links.edit")),
        h(
          "button",
          { type: "button", class: `button ${l.active ? "danger" : "secondary"}`, "data-action": l.active ? "deactivate" : "reactivate", disabled: state.busy, onclick: () => { state.confirm = true; redraw(); } },
          app.t(l.active ? "staff.links.deactivate" : "staff.links.reactivate"),
        ),
      );
    }
    return h(
      "div",
      { class: "link-details" },
      l.url ? null : noUrl(l),
      h(
        "dl",
        { class: "link-facts" },
        fact(app.t("staff.links.field.description"), l.description || app.t("staff.links.no_description"), { class: "link-description" }),
        fact(app.t("staff.links.fact.state"), stateText(l), { class: "link-state-text" }),
        fact(app.t("staff.links.field.expires"), l.expires_at ? when(app, l.expires_at) : app.t("staff.links.never"), { class: "link-expiry" }),
        fact(app.t("staff.links.fact.used"), usedText(l), { class: "link-used" }),
        fact(app.t("staff.links.field.allocation"), placesText(l.units), { class: "link-places" }),
        fact(app.t("staff.links.fact.pinned"), app.t(l.pinned ? "staff.links.yes" : "staff.links.no"), { class: "link-pinned" }),
        l.url ? fact(app.t("staff.links.fact.url"), h("span", { class: "mono link-url" }, l.url)) : null,
      ),
      actions,
    );
  }

  async function loadPoster() {
    const l = state.link;
    if (!l.url) return;
    if (state.poster && state.poster.id === l.id && state.poster.url === l.url) return;
    state.poster = { id: l.id, url: l.url, svg: null, problem: null };
    let res;
    try {
      res = await fetch(`/api/links/${encodeURIComponent(l.id)}/poster`, { credentials: "same-origin", cache: "no-store" });
    } catch {
      state.poster.problem = "network";
      return redraw();
    }
    if (res.status === 401 && app.staff) return sessionEnded(app, "expired");
    if (!res.ok) {
      let code = "unknown";
      try {
        code = (await res.json()).code || code;
      } catch {
        // Not JSON: the general message.
      }
      state.poster.problem = code;
      return redraw();
    }
    // The poster page carries the QR as an inline SVG: taken from it, then rebuilt from an
    // allow-list by qrFromSvg (never put into the page as markup).
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const svg = doc.querySelector(".qr svg");
    state.poster.svg = svg ? new XMLSerializer().serializeToString(svg) : null;
    if (!svg) state.poster.problem = "unknown";
    redraw();
  }

  function posterTab() {
    const l = state.link;
    const p = state.poster && state.poster.id === l.id ? state.poster : null;
    // No URL: the reason instead of a QR (also when the address went away since the list came).
    if (!l.url || (p && p.problem === "no_public_url")) return h("div", { class: "link-poster", "data-url": "none" }, noUrl(l));
    let qr;
    if (p && p.svg) qr = qrFromSvg(p.svg, app.t("staff.links.poster_qr", { name: l.name }));
    const scan = app.languages.map((lang) => h("span", { lang }, translate(app.catalogues, lang, "staff.links.poster_scan")));
    return h(
      "div",
      { class: "link-poster", "data-url": l.url },
      l.state === "active" ? null : h("p", { class: "notice warn no-print", "data-poster-warning": l.state }, app.t("staff.links.poster_not_active", { state: app.t(`staff.links.state.${l.state}`) })),
      h(
        "div",
        { class: "actions poster-actions no-print" },
        h("button", { type: "button", class: "button primary", "data-action": "print-poster", disabled: !qr, onclick: () => window.print() }, app.t("staff.links.print")),
        app.mode === "kiosk"
          ? null
          : h(
              "a",
              { class: "button secondary link-button", "data-action": "poster-page", href: `/api/links/${encodeURIComponent(l.id)}/poster`, target: "_blank", rel: "noopener" },
              app.t("staff.links.poster_page"),
            ),
      ),
      h("p", { class: "hint no-print" }, app.t("staff.links.print_hint")),
      h(
        "div",
        { class: "poster-sheet" },
        h("p", { class: "poster-site" }, app.config.site_name || ""),
        h("p", { class: "poster-name" }, l.name),
        l.description ? h("p", { class: "poster-description" }, l.description) : null,
        qr
          ? h("div", { class: "qr-box poster-qr" }, qr)
          : p && p.problem
            ? h("p", { class: "notice error", role: "alert", "data-problem": p.problem }, problemText(app, p.problem))
            : h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading")),
        h("p", { class: "poster-scan" }, scan),
        h("p", { class: "mono poster-url" }, l.url),
      ),
    );
  }

  async function refreshUsage() {
    const l = state.link;
    clearTimeout(timer);
    timer = null;
    const res = await staffCall(app, "GET", `/api/links/${encodeURIComponent(l.id)}/usage`);
    if (res.ended || app.screen !== screen || state.view !== "detail" || state.tab !== "usage" || state.link !== l) return;
    let full = !usageBox || !usageBox.isConnected;
    if (res.ok) {
      state.usage = res.data;
      state.usageProblem = null;
      state.usageAt = new Date();
      if (l.used !== res.data.count) {
        // Someone came through: the link's own numbers (and maybe its state: full) are news too.
        const fresh = await staffCall(app, "GET", `/api/links/${encodeURIComponent(l.id)}`);
        if (fresh.ended) return;
        if (fresh.ok) {
          full = full || fresh.data.state !== l.state;
          remember(fresh.data);
        }
      }
    } else state.usageProblem = failText(app, res);
    if (app.screen !== screen || state.view !== "detail" || state.tab !== "usage" || !state.link || state.link.id !== l.id) return;
    // Only the usage is drawn again unless more changed (the rest of the screen and its scroll stay).
    if (full) redraw();
    else replace(usageBox, usageContent());
    timer = setTimeout(refreshUsage, USAGE_REFRESH_MS);
  }

  function usageContent() {
    const u = state.usage;
    if (state.usageProblem && !u) return h("p", { class: "notice error", role: "alert" }, state.usageProblem);
    if (!u) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    return [
      h(
        "p",
        { class: "usage-count", "data-count": String(u.count) },
        h("span", { class: "usage-n" }, String(u.count)),
        " ",
        h("span", { class: "usage-label" }, u.cap ? app.t("staff.links.usage_of", { cap: u.cap }) : app.t("staff.links.usage_people")),
      ),
      h(
        "p",
        { class: "hint", role: "status" },
        app.t("staff.links.usage_live"),
        state.usageAt ? ` ${app.t("staff.links.usage_at", { time: new Intl.DateTimeFormat(app.lang, { timeStyle: "medium" }).format(state.usageAt) })}` : "",
      ),
      state.usageProblem ? h("p", { class: "notice error", role: "alert" }, state.usageProblem) : null,
      !u.users.length
        ? h("p", { class: "notice", "data-users": "0" }, app.t("staff.links.usage_none"))
        : h(
            "ul",
            { class: "staff-list usage-list", "data-users": String(u.users.length) },
            u.users.map((p) =>
              h(
                "li",
                { class: "row", "data-user-id": p.id },
                h(
                  "div",
                  { class: "row-text" },
                  h("span", { class: "row-title" }, p.name || formatUserId(p.id), " ", h("span", { class: "mono usage-id" }, formatUserId(p.id))),
                  h(
                    "span",
                    { class: "row-meta" },
                    app.t("staff.links.usage_enrolled", { time: when(app, p.enrolled_at) }),
                    " · ",
                    app.t(p.existing_user ? "staff.links.usage_existing" : "staff.links.usage_new"),
                    p.employer ? ` · ${p.employer}` : "",
                  ),
                  h("span", { class: "row-meta usage-places" }, placesText(p.allocated)),
                ),
              ),
            ),
          ),
    ];
  }

  function usageTab() {
    const l = state.link;
    usageBox = h("div", { class: "usage-live", "aria-live": "polite" }, usageContent());
    return h(
      "div",
      { class: "link-usage" },
      app.mode === "kiosk"
        ? null
        : h(
            "div",
            { class: "actions" },
            h(
              "a",
              { class: "button secondary link-button", "data-action": "usage-csv", href: `/api/links/${encodeURIComponent(l.id)}/usage.csv`, download: `link-usage-${l.id}.csv` },
              app.t("staff.links.csv"),
            ),
          ),
      usageBox,
    );
  }

  function detailView() {
    const l = state.link;
    const tabs = ["details", "poster", "usage"];
    return h(
      "section",
      { class: "link-detail", "data-link-id": l.id, "data-state": l.state, "data-tab": state.tab },
      h("div", { class: "actions top-actions no-print" }, h("button", { type: "button", class: "button secondary", "data-action": "all-links", onclick: toList }, app.t("staff.links.all"))),
      h("h2", { class: "link-title no-print" }, h("span", { class: "link-name" }, l.name), " ", stateTag(l)),
      h(
        "div",
        { class: "choice-row link-tabs no-print", role: "tablist" },
        tabs.map((t) =>
          h(
            "button",
            { type: "button", role: "tab", class: `choice${state.tab === t ? " chosen" : ""}`, "data-tab": t, "aria-selected": String(state.tab === t), onclick: () => showTab(t) },
            app.t(`staff.links.tab.${t}`),
          ),
        ),
      ),
      h("div", { role: "tabpanel" }, state.tab === "poster" ? posterTab() : state.tab === "usage" ? usageTab() : detailsTab()),
    );
  }

  function render() {
    usageBox = null;
    return staffFrame(
      app,
      { title: app.t("staff.links.title"), name: "links", back },
      outcome(state.msg),
      state.view === "form" ? formView() : state.view === "detail" ? detailView() : listView(),
    );
  }

  return screen;
}
