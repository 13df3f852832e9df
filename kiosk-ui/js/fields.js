// Form fields shared by the screens: a label, the input (tied to the on-screen keyboard on the
// kiosk), an optional hint and the translated error under it.

import { h } from "./dom.js";

/**
 * opts: {id, label, value, kb ("text"|"email"|"phone"|"pin"|"id"), required, hint, error,
 *        secret, maxlength, autocomplete, inputmode, oninput(value)}
 */
export function field(app, opts) {
  const kiosk = app.mode === "kiosk";
  const input = h("input", {
    id: opts.id,
    name: opts.id,
    // On the kiosk a secret is masked by CSS, not type=password, so that no password manager
    // offers to keep a PIN on a shared screen.
    type: opts.secret && !kiosk ? "password" : opts.kb === "email" && !kiosk ? "email" : opts.kb === "phone" && !kiosk ? "tel" : "text",
    class: opts.secret ? "secret" : undefined,
    value: opts.value || "",
    "data-kb": opts.kb || "text",
    maxlength: opts.maxlength,
    required: opts.required ? true : undefined,
    // A shared kiosk must not remember anyone's details.
    autocomplete: kiosk ? "off" : opts.autocomplete || "off",
    autocapitalize: opts.kb === "text" ? "words" : "off",
    spellcheck: "false",
    inputmode: kiosk ? undefined : opts.inputmode,
    "aria-invalid": opts.error ? "true" : undefined,
    "aria-describedby": opts.error ? `${opts.id}-error` : opts.hint ? `${opts.id}-hint` : undefined,
    oninput: (e) => opts.oninput && opts.oninput(e.target.value, e.target),
  });
  app.keyboardFor(input);
  return h(
    "div",
    { class: `field${opts.error ? " has-error" : ""}`, "data-field": opts.id },
    h(
      "label",
      { for: opts.id },
      opts.label,
      opts.required ? h("span", { class: "required" }, ` ${app.t("form.required_mark")}`) : null,
    ),
    opts.hint ? h("p", { class: "hint", id: `${opts.id}-hint` }, opts.hint) : null,
    input,
    opts.error ? h("p", { class: "field-error", id: `${opts.id}-error`, role: "alert" }, opts.error) : null,
  );
}

/** The translated message for an API answer's problem code (and field, when one is named). */
export function problemText(app, code, field) {
  if (field) {
    const specific = `error.${code}.${field}`;
    const text = app.t(specific);
    if (text !== specific) return text;
  }
  const key = `error.${code}`;
  const text = app.t(key);
  return text === key ? app.t("error.unknown") : text;
}

/** In place of the ID field once a badge was scanned: "Badge read", and a way back to typing. */
export function badgeRead(app, onUseId) {
  return h(
    "div",
    { class: "badge-read", "data-badge": "read", role: "status" },
    h("span", { class: "result-mark", "aria-hidden": "true" }, "✓"),
    h("span", {}, app.t("staff.badge_read")),
    h("button", { type: "button", class: "button secondary", "data-action": "use-id", onclick: onUseId }, app.t("staff.use_id")),
  );
}
