// Enrollment through an access link: the link's page, the form (names, contact as the site
// requires, employer, language, terms), the proof step for someone already registered (ID + PIN,
// or their badge scanned: a scan anywhere on the link's page is that proof), and the link's own
// messages (unknown, expired, deactivated, full). What the worker typed stays until they leave
// (back to start, or the idle reset).

import { get, post } from "../api.js";
import { h } from "../dom.js";
import { field, problemText } from "../fields.js";
import { parseUserId, typingForm } from "../ids.js";
import { watchScanner } from "../scanner.js";
import { resultScreen } from "./result.js";
import { walkInBanner } from "./walk-in-card.js";

/** Problem codes that say the link itself cannot be used; each has its own message. */
export const LINK_CODES = ["link_unknown", "link_expired", "link_deactivated", "link_full"];
const FORM_FIELDS = ["given_name", "family_name", "email", "phone", "employer", "language"];

/** `walkIn` (optional): an instructor's walk-in pass {pass, classId, classTitle, finish()}. */
export function enrollScreen(app, token, { walkIn = null } = {}) {
  const state = {
    link: null,
    loadProblem: null,
    step: "form",
    values: { given_name: "", family_name: "", email: "", phone: "", employer: "", language: app.lang, accept: false },
    languageChosen: false,
    errors: {},
    banner: null,
    busy: false,
    existing: { id: "", pin: "", errors: {}, problem: null, field: null },
  };
  const screen = { name: "enroll", render, siteName: null, leave: null };
  const path = `/api/enroll/${encodeURIComponent(token)}`;

  // Someone already registered scans their badge: that proves who they are, on either step. The
  // field that had the focus is put back as it was (scanner.js).
  screen.leave = watchScanner((payload) => {
    if (!state.link || state.busy) return;
    if (state.step !== "existing") {
      state.step = "existing";
      state.existing = { id: "", pin: "", errors: {}, problem: null, field: null };
    }
    sendProof({ badge: payload.slice(0, 64) });
  });

  get(path).then((res) => {
    if (res.ok && res.data) {
      state.link = res.data;
      screen.siteName = res.data.site_name || null;
    } else {
      state.loadProblem = res.code;
      screen.name = "link-problem";
    }
    if (app.screen === screen) app.render();
  });

  /** Leave the form: a walk-in hands the screen back to the instructor. */
  function leave() {
    if (walkIn) walkIn.finish();
    else app.goHome();
  }

  const rule = () => app.config.contact_required || "email_or_phone";

  function validate() {
    const v = state.values;
    const errors = {};
    if (!v.given_name.trim()) errors.given_name = app.t("error.required");
    if (!v.family_name.trim()) errors.family_name = app.t("error.required");
    const email = v.email.trim();
    const phone = v.phone.trim();
    if (rule() === "email" && !email) errors.email = app.t("error.required");
    if (rule() === "phone" && !phone) errors.phone = app.t("error.required");
    if (rule() === "email_or_phone" && !email && !phone) errors.email = app.t("error.contact_required");
    if (!v.accept) errors.accept = app.t("error.terms_not_accepted");
    return errors;
  }

  async function submit() {
    state.banner = null;
    state.errors = validate();
    if (Object.keys(state.errors).length) return showErrors();
    const v = state.values;
    const body = {
      given_name: v.given_name.trim(),
      family_name: v.family_name.trim(),
      language: v.language,
      terms_version: app.config.terms_version,
      accept_terms: v.accept,
    };
    for (const k of ["email", "phone", "employer"]) if (v[k].trim()) body[k] = v[k].trim();
    if (walkIn) body.walk_in_pass = walkIn.pass;
    state.busy = true;
    app.render();
    const res = await post(path, body);
    state.busy = false;
    if (app.screen !== screen) return;
    if (res.ok) return app.show(resultScreen(app, res.data, { existing: false, walkIn }));
    if (res.code === "existing_user") {
      state.step = "existing";
      state.existing = { id: "", pin: "", errors: {}, problem: null, field: res.field };
      return app.render();
    }
    answerProblem(res);
    showErrors();
  }

  /** Put a refusal where the worker will see it, next to the field at fault when there is one. */
  function answerProblem(res) {
    if (LINK_CODES.includes(res.code)) {
      state.banner = { code: res.code, link: true };
    } else if (res.code === "terms_not_accepted") {
      // The site changed its terms since this page loaded: show the new text to accept.
      if (res.field === "terms_version") refreshTerms();
      state.errors.accept = app.t("error.terms_not_accepted");
    } else if (res.code === "contact_required") {
      state.errors[res.field === "phone" ? "phone" : "email"] = app.t(res.field ? "error.required" : "error.contact_required");
    } else if (res.field && FORM_FIELDS.includes(res.field)) {
      state.errors[res.field] = problemText(app, res.code, res.field);
    } else {
      state.banner = { code: res.code, link: false, field: res.field };
    }
  }

  async function refreshTerms() {
    state.values.accept = false;
    const res = await get("/api/kiosk/config");
    if (res.ok && res.data) app.config = { ...app.config, ...res.data };
    if (app.screen === screen) app.render();
  }

  function showErrors() {
    app.render();
    requestAnimationFrame(() => {
      const first = document.querySelector(".banner, .has-error");
      if (first) first.scrollIntoView({ block: "center" });
    });
  }

  async function proveExisting() {
    const ex = state.existing;
    ex.errors = {};
    ex.problem = null;
    state.banner = null;
    const id = parseUserId(ex.id);
    if (!id.ok) ex.errors.user_id = app.t(id.code === "required" ? "error.required" : `error.${id.code}`);
    if (!ex.pin.trim()) ex.errors.pin = app.t("error.required");
    if (Object.keys(ex.errors).length) return app.render();
    sendProof({ user_id: id.id, pin: ex.pin.trim() });
  }

  /** `proof`: {user_id, pin} or {badge}. */
  async function sendProof(proof) {
    const ex = state.existing;
    ex.errors = {};
    ex.problem = null;
    state.banner = null;
    if (walkIn) proof.walk_in_pass = walkIn.pass;
    state.busy = true;
    app.render();
    const res = await post(`${path}/existing`, proof);
    state.busy = false;
    ex.pin = "";
    if (app.screen !== screen) return;
    if (res.ok) return app.show(resultScreen(app, res.data, { existing: true, walkIn }));
    const badge = proof.badge !== undefined;
    if (LINK_CODES.includes(res.code)) state.banner = { code: res.code, link: true };
    else if (!badge && (res.code === "id_typo" || (res.field === "user_id" && res.code !== "invalid_credentials"))) {
      ex.errors.user_id = problemText(app, res.code, res.field);
    } else if (badge && res.code === "invalid_credentials") {
      // The gateway does not say why a badge was refused (as for a wrong PIN): one message for all.
      ex.problem = { code: "badge_refused", text: app.t("existing.badge_refused") };
    } else ex.problem = { code: res.code, text: problemText(app, res.code, res.field) };
    app.render();
  }

  function linkMessage(code, withKeptNote) {
    const known = LINK_CODES.includes(code);
    return [
      h("h2", {}, app.t(known ? `link.${code}.title` : "link.other.title")),
      h("p", {}, known ? app.t(`link.${code}.body`) : problemText(app, code)),
      withKeptNote ? h("p", { class: "hint" }, app.t("link.kept_note")) : null,
    ];
  }

  function banner() {
    const b = state.banner;
    if (!b) return null;
    return h(
      "div",
      { class: "banner error", role: "alert", "data-code": b.code },
      b.link ? linkMessage(b.code, true) : h("p", {}, problemText(app, b.code, b.field)),
      b.link
        ? h("button", { type: "button", class: "button secondary", "data-action": "leave", onclick: () => app.goHome() }, app.t("common.back_to_start"))
        : null,
    );
  }

  function languageChoice() {
    const v = state.values;
    if (!state.languageChosen) v.language = app.lang;
    return h(
      "div",
      { class: "field", "data-field": "language" },
      h("p", { class: "label", id: "language-label" }, app.t("enroll.language")),
      h(
        "div",
        { class: "choice-row", role: "radiogroup", "aria-labelledby": "language-label" },
        app.languages.map((l) =>
          h(
            "button",
            {
              type: "button",
              role: "radio",
              lang: l,
              class: `choice${v.language === l ? " chosen" : ""}`,
              "data-lang": l,
              "aria-checked": String(v.language === l),
              onclick: () => {
                v.language = l;
                state.languageChosen = true;
                app.render();
              },
            },
            app.catalogues[l] && app.catalogues[l]["language.name"] ? app.catalogues[l]["language.name"] : l,
          ),
        ),
      ),
      state.errors.language ? h("p", { class: "field-error", role: "alert" }, state.errors.language) : null,
    );
  }

  function terms() {
    const v = state.values;
    return h(
      "div",
      { class: `field terms${state.errors.accept ? " has-error" : ""}`, "data-field": "accept" },
      h("p", { class: "label" }, app.t("enroll.terms_title")),
      h("div", { class: "terms-text", tabindex: "0" }, app.config.terms_text || app.t("enroll.terms_missing")),
      h(
        "button",
        {
          type: "button",
          role: "checkbox",
          class: `check${v.accept ? " checked" : ""}`,
          "data-action": "accept",
          "aria-checked": String(v.accept),
          onclick: () => {
            v.accept = !v.accept;
            if (v.accept) delete state.errors.accept;
            app.render();
          },
        },
        h("span", { class: "box", "aria-hidden": "true" }, v.accept ? "✓" : ""),
        h("span", {}, app.t("enroll.accept")),
      ),
      state.errors.accept ? h("p", { class: "field-error", role: "alert" }, state.errors.accept) : null,
    );
  }

  function textField(id, kb, opts = {}) {
    return field(app, {
      id,
      kb,
      label: app.t(`enroll.${id}`),
      value: state.values[id],
      error: state.errors[id],
      maxlength: kb === "email" ? 254 : kb === "phone" ? 20 : 100,
      oninput: (value) => {
        state.values[id] = value;
      },
      ...opts,
    });
  }

  function form() {
    const r = rule();
    const link = state.link;
    return h(
      "section",
      { class: "enroll" },
      h("h1", {}, link.name),
      link.description ? h("p", { class: "lead" }, link.description) : null,
      walkIn ? walkInBanner(app, walkIn) : null,
      banner(),
      h("p", { class: "hint" }, app.t("enroll.intro")),
      textField("given_name", "text", { required: true, autocomplete: "given-name" }),
      textField("family_name", "text", { required: true, autocomplete: "family-name" }),
      h("p", { class: "hint contact-rule" }, app.t(`enroll.contact_rule.${r}`)),
      textField("email", "email", { required: r === "email", autocomplete: "email", inputmode: "email" }),
      textField("phone", "phone", { required: r === "phone", autocomplete: "tel", inputmode: "tel", hint: app.t("enroll.phone_hint") }),
      textField("employer", "text", { autocomplete: "organization" }),
      languageChoice(),
      terms(),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "submit", disabled: state.busy, onclick: submit }, app.t(state.busy ? "common.working" : "enroll.submit")),
        h("button", { type: "button", class: "button secondary", "data-action": "leave", onclick: leave }, app.t("common.cancel")),
      ),
    );
  }

  function existing() {
    const ex = state.existing;
    return h(
      "section",
      { class: "enroll existing" },
      h("h1", {}, app.t("existing.title")),
      walkIn ? walkInBanner(app, walkIn) : null,
      banner(),
      h("p", { class: "lead" }, app.t(ex.field === "phone" ? "existing.lead_phone" : ex.field ? "existing.lead_email" : "existing.lead_scan")),
      ex.problem ? h("p", { class: "notice error", role: "alert", "data-code": ex.problem.code }, ex.problem.text) : null,
      field(app, {
        id: "existing_id",
        label: app.t("existing.id"),
        kb: "id",
        value: ex.id,
        maxlength: 64,
        error: ex.errors.user_id,
        oninput: (v, el) => {
          ex.id = typingForm(v);
          if (el.value !== ex.id) el.value = ex.id;
        },
      }),
      field(app, {
        id: "existing_pin",
        label: app.t("existing.pin"),
        kb: "pin",
        secret: true,
        value: ex.pin,
        maxlength: 10,
        inputmode: "numeric",
        error: ex.errors.pin,
        oninput: (v) => {
          ex.pin = v;
        },
      }),
      h("p", { class: "hint", "data-hint": "scan" }, app.t("existing.scan_hint")),
      h("p", { class: "hint" }, app.t("existing.help")),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button primary", "data-action": "prove", disabled: state.busy, onclick: proveExisting }, app.t(state.busy ? "common.working" : "existing.submit")),
        h(
          "button",
          {
            type: "button",
            class: "button secondary",
            "data-action": "back-to-form",
            onclick: () => {
              state.step = "form";
              state.banner = null;
              app.render();
            },
          },
          app.t("existing.back"),
        ),
      ),
    );
  }

  function render() {
    if (state.loadProblem) {
      return h(
        "section",
        { class: "link-problem", "data-code": state.loadProblem },
        h("div", { class: "banner error", role: "alert" }, linkMessage(state.loadProblem, false)),
        app.mode === "kiosk"
          ? h("button", { type: "button", class: "button primary", "data-action": "leave", onclick: () => app.goHome() }, app.t("common.back_to_start"))
          : null,
      );
    }
    if (!state.link) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    return state.step === "existing" ? existing() : form();
  }

  return screen;
}
