// The kiosk's own on-screen keyboard and keypads (a kiosk browser has none). One docked panel
// types into whichever field was tapped last; each field names its layout in data-kb:
//   text  - letters of the UI language with its accented letters, digits, space, ' and -
//   email - letters, digits and @ . - _ +
//   phone - a keypad with + and space
//   pin   - a numeric keypad
//   id    - the 32 symbols of a user ID (Crockford base32)
// A physical keyboard or a barcode scanner still types into the fields as usual.

import { h, replace } from "./dom.js";
import { ALPHABET } from "./ids.js";

/** Letter rows and the accented letters of each language's layout (ñ and ç sit on the letter
 *  rows, where Spanish and Portuguese keyboards have them). */
export const LAYOUTS = {
  en: { rows: ["qwertyuiop", "asdfghjkl'", "zxcvbnm-"], accents: "éèëïöüçñáà" },
  es: { rows: ["qwertyuiop", "asdfghjklñ", "zxcvbnm-'"], accents: "áéíóúü" },
  pt: { rows: ["qwertyuiop", "asdfghjklç", "zxcvbnm-'"], accents: "ãõáâêóôàéíú" },
  pl: { rows: ["qwertyuiop", "asdfghjkl'", "zxcvbnm-"], accents: "ąćęłńóśźż" },
};

/** Every accented letter of the four layouts and of common names beyond them. */
export const MORE_ACCENTS = [
  ...new Set(
    (Object.values(LAYOUTS).map((l) => l.accents).join("") + "äöüßåøæèìòùâêîôûëïÿýčďěňřšťůžđğşőű").split(""),
  ),
].join("");

const DIGITS = "1234567890";

export class Keyboard {
  /** `t(key)` translates labels; `onActivity` is called on every key (the idle timer). */
  constructor({ t, lang, onActivity }) {
    this.t = t;
    this.lang = lang;
    this.onActivity = onActivity || (() => {});
    this.target = null;
    this.shift = false;
    this.more = false;
    this.el = h("div", { class: "kb", hidden: true, role: "group" });
    // Keys must not take the focus away from the field they type into.
    this.el.addEventListener("pointerdown", (e) => e.preventDefault());
    this.el.addEventListener("mousedown", (e) => e.preventDefault());
  }

  setLanguage(lang) {
    this.lang = lang;
    if (this.target) this.render();
  }

  /** Make `input` open this keyboard when tapped. */
  attach(input) {
    input.setAttribute("inputmode", "none");
    input.addEventListener("focus", () => this.open(input));
  }

  open(input) {
    this.target = input;
    this.more = false;
    this.shift = this.autoShift();
    this.render();
    this.el.hidden = false;
    document.body.classList.add("kb-open");
    // The keyboard takes the bottom of the screen: keep the field being typed into in sight.
    requestAnimationFrame(() => input.scrollIntoView({ block: "nearest" }));
  }

  close() {
    this.target = null;
    this.el.hidden = true;
    document.body.classList.remove("kb-open");
  }

  kind() {
    return (this.target && this.target.dataset.kb) || "text";
  }

  /** Names start with a capital: shift on at the start of a word in a text field. */
  autoShift() {
    if (this.kind() !== "text" || !this.target) return false;
    const v = this.target.value;
    return v === "" || /[\s'-]$/.test(v);
  }

  render() {
    const kind = this.kind();
    this.el.dataset.layout = kind;
    this.el.setAttribute("aria-label", this.t("kb.label"));
    const rows = {
      text: () => this.textRows(),
      email: () => this.emailRows(),
      phone: () => [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["+", "0", "back"], ["space", "next"]],
      pin: () => [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["clear", "0", "back"], ["next"]],
      id: () => [...chunk(ALPHABET.split(""), 8), ["back", "next"]],
    }[kind]();
    replace(
      this.el,
      rows.map((row) => h("div", { class: `kb-row kb-cols-${row.length}` }, row.map((k) => this.key(k)))),
    );
  }

  textRows() {
    const layout = LAYOUTS[this.lang] || LAYOUTS.en;
    const accents = (this.more ? MORE_ACCENTS : layout.accents).split("");
    const accentRows = this.more ? chunk(accents, 10) : [accents];
    const letters = layout.rows.map((r) => r.split(""));
    return [
      DIGITS.split(""),
      ...accentRows,
      ...letters,
      ["shift", "more", "space", "back", "next"],
    ];
  }

  emailRows() {
    return [DIGITS.split(""), ..."qwertyuiop asdfghjkl zxcvbnm".split(" ").map((r) => r.split("")), ["@", ".", "-", "_", "+", "back", "next"]];
  }

  key(k) {
    const special = {
      shift: { label: "⇧", aria: this.t("kb.shift"), pressed: this.shift },
      more: { label: this.more ? "abc" : "áàâ…", aria: this.t("kb.more") },
      space: { label: this.t("kb.space") },
      back: { label: "⌫", aria: this.t("kb.backspace") },
      clear: { label: this.t("kb.clear") },
      next: { label: this.t("kb.done") },
    }[k];
    const label = special ? special.label : this.cased(k);
    return h(
      "button",
      {
        type: "button",
        class: `key${special ? ` key-${k}` : ""}`,
        tabindex: "-1",
        "data-key": k,
        "aria-label": special && special.aria,
        "aria-pressed": special && "pressed" in special ? String(special.pressed) : undefined,
        onclick: () => this.press(k),
      },
      label,
    );
  }

  /** A letter as shift makes it; one without a single-letter capital (ß) stays as it is. */
  cased(k) {
    if (!(this.shift && this.kind() === "text")) return k;
    const upper = k.toLocaleUpperCase(this.lang);
    return [...upper].length === 1 ? upper : k;
  }

  press(k) {
    this.onActivity();
    const input = this.target;
    if (!input) return;
    if (k === "shift") {
      this.shift = !this.shift;
      return this.render();
    }
    if (k === "more") {
      this.more = !this.more;
      return this.render();
    }
    if (k === "next") return this.next();
    if (k === "back") edit(input, "back");
    else if (k === "clear") edit(input, "clear");
    else if (k === "space") edit(input, " ");
    else edit(input, this.cased(k));
    const shift = this.autoShift();
    if (shift !== this.shift) {
      this.shift = shift;
      this.render();
    }
  }

  /** Move to the next field that uses this keyboard, or close it after the last. */
  next() {
    const fields = [...document.querySelectorAll("[data-kb]")].filter((f) => !f.disabled && f.offsetParent !== null);
    const at = fields.indexOf(this.target);
    const following = at >= 0 ? fields[at + 1] : null;
    if (following) {
      following.focus();
      following.scrollIntoView({ block: "nearest" });
    } else {
      this.target.blur();
      this.close();
    }
  }
}

/** Type into a field at its caret, then tell the field's listeners as typing would. */
function edit(input, what) {
  const max = input.maxLength > 0 ? input.maxLength : Infinity;
  let start = input.selectionStart ?? input.value.length;
  let end = input.selectionEnd ?? input.value.length;
  if (what === "clear") {
    input.value = "";
  } else if (what === "back") {
    if (start === end && start > 0) start = prevBoundary(input.value, start);
    input.setRangeText("", start, end, "end");
  } else if (input.value.length - (end - start) + what.length <= max) {
    input.setRangeText(what, start, end, "end");
  }
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

/** Delete one whole character, not half of a surrogate pair. */
function prevBoundary(text, at) {
  const code = text.charCodeAt(at - 1);
  return code >= 0xdc00 && code <= 0xdfff && at > 1 ? at - 2 : at - 1;
}

function chunk(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
