// What a walk-in sees of their class on the enrollment and result screens: the banner over the
// form (where they will be checked in) and the result's card (checked in, large, or why not).

import { h } from "../dom.js";
import { problemText } from "../fields.js";
import { hhmm } from "../time.js";

/** The banner over the enrollment form: where the newcomer will be checked in. */
export function walkInBanner(app, walkIn) {
  return h("p", { class: "banner walkin-banner", "data-class": walkIn.classId }, app.t("walkin.banner", { class: walkIn.classTitle }));
}

/** The result screen's card: checked in (large, unmistakable) or why not. */
export function walkInCard(app, ci) {
  if (!ci) return null;
  const ok = ci.status === "checked_in" || ci.status === "already_checked_in";
  const text = ok
    ? app.t(ci.status === "checked_in" ? "walkin.checked_in" : "walkin.already", { class: ci.class_title, time: hhmm(ci.at) })
    : `${app.t("walkin.refused")} ${problemText(app, ci.code)}`;
  return h(
    "div",
    { class: `scan-result walkin-card ${ci.status}`, role: ok ? "status" : "alert", "data-status": ci.status, "data-code": ci.code || undefined },
    h("span", { class: "result-mark", "aria-hidden": "true" }, ok ? "✓" : "✗"),
    h("span", { class: "result-text" }, text),
  );
}
