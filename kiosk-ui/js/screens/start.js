// The start screen: the site's name, the language chooser, a tile per link pinned to the kiosk,
// tiles of other kiosk features when they exist, and a discreet staff entry.

import { get } from "../api.js";
import { h } from "../dom.js";
import { checkinScreen } from "./checkin.js";
import { staffScreen } from "./staff.js";

/**
 * Kiosk features that later capabilities add (check-in to a class, badge reprint). A tile shows
 * only when its screen is registered here and its API path is in the gateway's OpenAPI
 * document: no dead buttons.
 */
const FEATURES = [
  { key: "checkin", path: "/api/kiosk/check-in", open: null },
  { key: "reprint", path: "/api/kiosk/reprint", open: null },
];

/** For later screens: register `open(app)` for a feature tile. */
export function registerFeature(key, open) {
  const f = FEATURES.find((x) => x.key === key);
  if (f) f.open = open;
}

registerFeature("checkin", (app) => app.show(checkinScreen(app)));

export function startScreen(app) {
  const state = { links: null, problem: null };
  const screen = { name: "start", render };

  get("/api/kiosk/links").then((res) => {
    if (res.ok && Array.isArray(res.data)) state.links = res.data;
    else state.problem = res.code;
    if (app.screen === screen) app.render();
  });

  function linkTiles() {
    if (state.problem) {
      return h("p", { class: "notice error", role: "alert", "data-code": state.problem }, app.t("start.links_unavailable"));
    }
    if (!state.links) return h("p", { class: "notice", "aria-busy": "true" }, app.t("common.loading"));
    if (state.links.length === 0) return h("p", { class: "notice" }, app.t("start.no_links"));
    return h(
      "div",
      { class: "tiles" },
      state.links.map((link) =>
        h(
          "button",
          { type: "button", class: "tile link-tile", "data-token": link.token, onclick: () => app.openLink(link.token) },
          h("span", { class: "tile-title" }, link.name),
          link.description ? h("span", { class: "tile-text" }, link.description) : null,
          h("span", { class: "tile-action" }, app.t("start.sign_up")),
        ),
      ),
    );
  }

  function featureTiles() {
    const shown = FEATURES.filter((f) => f.open && app.apiPaths.has(f.path));
    if (!shown.length) return null;
    return h(
      "div",
      { class: "tiles features" },
      shown.map((f) =>
        h(
          "button",
          { type: "button", class: "tile feature-tile", "data-feature": f.key, onclick: () => f.open(app) },
          h("span", { class: "tile-title" }, app.t(`start.${f.key}.title`)),
          h("span", { class: "tile-text" }, app.t(`start.${f.key}.text`)),
        ),
      ),
    );
  }

  function render() {
    return h(
      "section",
      { class: "start" },
      h("h1", { class: "welcome" }, app.t("start.welcome")),
      h("p", { class: "lead" }, app.t("start.choose_language")),
      app.languageButtons(),
      h("h2", {}, app.t("start.links_title")),
      linkTiles(),
      featureTiles(),
      h(
        "div",
        { class: "staff-entry-row" },
        h("button", { type: "button", class: "staff-entry", "data-action": "staff", onclick: () => app.show(staffScreen(app)) }, app.t("start.staff")),
      ),
    );
  }

  return screen;
}
