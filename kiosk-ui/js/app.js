// The kiosk app: loads the site's kiosk settings and the catalogues, picks the first screen from
// the address (`/` start, `/enroll/<token>` a link's enrollment), draws the frame (site name,
// language, on-screen keyboard) around the current screen, and returns to the start screen,
// forgetting everything typed, after `idle_seconds` untouched.

import { get, post } from "./api.js";
import { h, replace } from "./dom.js";
import { load, pickLanguage, translate } from "./i18n.js";
import { Keyboard } from "./keyboard.js";
import { enrollScreen } from "./screens/enroll.js";
import { endedNotice } from "./screens/staff-common.js";
import { startScreen } from "./screens/start.js";

const LANGUAGES = ["en", "es", "pt", "pl"];
const DEFAULT_CONFIG = {
  site_name: "",
  languages: LANGUAGES,
  terms_version: null,
  terms_text: "",
  contact_required: "email_or_phone",
  idle_seconds: 60,
};
/** The idle warning shows for the last this many seconds. */
const WARN_SECONDS = 10;

/**
 * "kiosk": the shared screen by the gate, served on the loopback listener (plain HTTP) or forced
 * with ?kiosk=1: own keyboard, idle reset. "device": a phone or laptop over HTTPS: the device's
 * own keyboard, no idle reset (it is the worker's own screen).
 */
function detectMode() {
  const forced = new URLSearchParams(location.search).get("kiosk");
  if (forced === "1") return "kiosk";
  if (forced === "0") return "device";
  return location.protocol === "http:" ? "kiosk" : "device";
}

class App {
  constructor(root) {
    this.root = root;
    this.mode = detectMode();
    this.config = DEFAULT_CONFIG;
    this.configProblem = null;
    this.catalogues = {};
    this.lang = "en";
    this.screen = null;
    this.staff = null;
    this.apiPaths = new Set();
    this.lastActivity = Date.now();
    this.dirty = false;
    this.overlay = null;
    this.keyboard = new Keyboard({ t: (k, p) => this.t(k, p), lang: this.lang, onActivity: () => this.activity() });
  }

  t(key, params) {
    return translate(this.catalogues, this.lang, key, params);
  }

  async boot() {
    document.body.dataset.mode = this.mode;
    const [config, openapi] = await Promise.all([get("/api/kiosk/config"), get("/api/openapi.json")]);
    if (config.ok && config.data) {
      this.config = { ...DEFAULT_CONFIG, ...config.data };
    } else {
      this.configProblem = config.code;
    }
    if (openapi.ok && openapi.data && openapi.data.paths) {
      this.apiPaths = new Set(Object.keys(openapi.data.paths));
    }
    const offered = (this.config.languages || []).filter((l) => LANGUAGES.includes(l));
    this.languages = offered.length ? offered : LANGUAGES;
    this.catalogues = await load(this.languages);
    this.defaultLang =
      this.mode === "kiosk" ? this.languages[0] : pickLanguage(navigator.languages || [navigator.language], this.languages);
    this.lang = this.defaultLang;
    this.keyboard.setLanguage(this.lang);
    for (const type of ["pointerdown", "keydown", "input", "touchstart"]) {
      document.addEventListener(type, () => this.activity(), { capture: true, passive: true });
    }
    if (this.mode === "kiosk") setInterval(() => this.idleTick(), 1000);
    this.route();
  }

  /** First screen from the address. */
  route() {
    const m = location.pathname.match(/^\/enroll\/([^/]+)\/?$/);
    if (m) this.show(enrollScreen(this, decodeURIComponent(m[1])));
    else this.show(startScreen(this));
  }

  show(screen) {
    this.keyboard.close();
    this.screen = screen;
    this.render();
    const content = this.root.querySelector(".content");
    if (content) content.scrollTop = 0;
  }

  setLanguage(lang) {
    if (!this.languages.includes(lang)) return;
    this.lang = lang;
    this.keyboard.setLanguage(lang);
    this.closeOverlay();
    this.render();
  }

  /** Draw the frame and the current screen. Screens keep their own state, so this can run any time. */
  render() {
    const focusedKb = document.activeElement && document.activeElement.dataset ? document.activeElement.id : null;
    document.documentElement.lang = this.lang;
    const siteName = this.screen.siteName || this.config.site_name || this.t("app.title");
    document.title = siteName;
    const main = h("main", { class: "content", "data-screen": this.screen.name }, this.screen.render());
    const topbar = h(
      "header",
      { class: "topbar" },
      h("div", { class: "site-name" }, siteName),
      this.screen.name === "start"
        ? null
        : h(
            "button",
            { type: "button", class: "lang-button", "data-action": "language", onclick: () => this.chooseLanguage() },
            h("span", { class: "lang-label" }, this.t("language.button")),
            " ",
            h("strong", {}, this.t("language.name")),
          ),
    );
    const dock = h("div", { class: "kb-dock" }, this.keyboard.el);
    replace(this.root, topbar, h("div", { class: "body" }, main, dock), this.overlay);
    // The fields were drawn anew: give the keyboard the new copy of the field it typed into.
    const again = focusedKb && this.keyboard.target ? document.getElementById(focusedKb) : null;
    if (again && again.dataset.kb) again.focus();
    else this.keyboard.close();
  }

  /** The language chooser over any screen. */
  chooseLanguage() {
    this.openOverlay(
      h(
        "div",
        { class: "dialog", role: "dialog", "aria-modal": "true", "aria-label": this.t("language.choose") },
        h("h2", {}, this.t("language.choose")),
        this.languageButtons(),
        h("button", { type: "button", class: "button secondary", onclick: () => this.closeOverlay() }, this.t("common.close")),
      ),
    );
  }

  /** One button per offered language, each in its own language. */
  languageButtons() {
    return h(
      "div",
      { class: "lang-grid" },
      this.languages.map((l) =>
        h(
          "button",
          {
            type: "button",
            class: `button lang-choice${l === this.lang ? " current" : ""}`,
            lang: l,
            "data-lang": l,
            "aria-pressed": String(l === this.lang),
            onclick: () => this.setLanguage(l),
          },
          translate(this.catalogues, l, "language.name"),
        ),
      ),
    );
  }

  openOverlay(content) {
    this.overlay = h("div", { class: "overlay" }, content);
    this.root.appendChild(this.overlay);
  }

  closeOverlay() {
    if (this.overlay) this.overlay.remove();
    this.overlay = null;
  }

  activity() {
    this.lastActivity = Date.now();
    this.dirty = true;
  }

  idleTick() {
    if (!this.dirty) return;
    const idle = Math.max(10, Number(this.config.idle_seconds) || DEFAULT_CONFIG.idle_seconds);
    const left = Math.ceil(idle - (Date.now() - this.lastActivity) / 1000);
    if (left <= 0) return this.reset();
    const warning = this.overlay && this.overlay.dataset.idle;
    // A touch reset the timer: the warning goes (closing it on the tap itself would let the
    // same tap fall through to whatever lies under it).
    if (left > WARN_SECONDS && warning) this.closeOverlay();
    if (left <= WARN_SECONDS) {
      if (!(this.overlay && this.overlay.dataset.idle)) {
        this.closeOverlay();
        this.openOverlay(
          h(
            "div",
            { class: "dialog", role: "alertdialog", "aria-live": "assertive" },
            h("h2", {}, this.t("idle.title")),
            h("p", { class: "idle-count" }),
            h("button", { type: "button", class: "button primary", onclick: () => this.activity() }, this.t("idle.continue")),
          ),
        );
        this.overlay.dataset.idle = "1";
        this.overlay.addEventListener("click", () => this.closeOverlay());
      }
      this.overlay.querySelector(".idle-count").textContent = this.t("idle.body", { seconds: left });
    }
  }

  /** Back to the start screen in the site's language, forgetting what was typed. */
  reset() {
    const wasStaff = Boolean(this.staff);
    if (this.staff) {
      post("/api/auth/sign-out", {});
      this.staff = null;
    }
    this.closeOverlay();
    this.lang = this.defaultLang;
    this.keyboard.setLanguage(this.lang);
    if (location.pathname !== "/") history.replaceState(null, "", "/");
    this.show(startScreen(this));
    this.dirty = false;
    // Whoever comes back to the screen learns why the staff screens are gone.
    if (wasStaff) endedNotice(this, "idle");
  }

  /** Back to the start screen, keeping the language (the worker chose to leave). */
  goHome() {
    if (location.pathname !== "/" && this.mode === "kiosk") history.replaceState(null, "", "/");
    this.show(startScreen(this));
  }

  /** Show the enrollment of a link (start screen tile). */
  openLink(token) {
    this.show(enrollScreen(this, token));
  }

  /** Screens call this for a field that should open the on-screen keyboard (kiosk only). */
  keyboardFor(input) {
    if (this.mode === "kiosk") this.keyboard.attach(input);
    return input;
  }
}

const app = new App(document.getElementById("app"));
window.sitegateKiosk = app;
app.boot().catch((e) => {
  const text = app.t("app.failed");
  document.getElementById("app").textContent = text === "app.failed" ? "The kiosk could not start. Please tell staff." : text;
  throw e;
});
