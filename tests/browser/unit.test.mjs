// The kiosk's pure modules, without a browser: user-ID checking and message look-up.

import assert from "node:assert/strict";
import { test } from "node:test";
import { formatUserId, luhn32, parseUserId, typingForm, ALPHABET } from "../../kiosk-ui/js/ids.js";
import { gaps, pickLanguage, translate } from "../../kiosk-ui/js/i18n.js";

function mint(payload) {
  const values = [...payload].map((c) => ALPHABET.indexOf(c));
  return payload + ALPHABET[luhn32(values)];
}

test("a gateway ID with the right check symbol passes, forgivingly typed", () => {
  const id = mint("7X2Y28A9K");
  assert.deepEqual(parseUserId(id), { ok: true, id });
  assert.deepEqual(parseUserId(` ${id.slice(0, 5).toLowerCase()} - ${id.slice(5)} `), { ok: true, id });
  assert.equal(formatUserId(id), `${id.slice(0, 5)}-${id.slice(5)}`);
});

test("every single-symbol typo is caught before any look-up", () => {
  const id = mint("7X2Y28A9K");
  for (let i = 0; i < id.length; i++) {
    for (const c of ALPHABET) {
      if (c === id[i]) continue;
      const typo = id.slice(0, i) + c + id.slice(i + 1);
      assert.equal(parseUserId(typo).code, "id_typo", typo);
    }
  }
});

test("I, L and O read as 1, 1 and 0; central IDs pass verbatim; junk is refused", () => {
  const id = mint("10110ABCD");
  assert.equal(parseUserId(id.replace(/1/g, "I").replace(/0/g, "O")).id, id);
  assert.equal(parseUserId("emp.4711_x").id, "emp.4711_x");
  assert.equal(parseUserId("").code, "required");
  assert.equal(parseUserId("not an id!").code, "invalid_id");
});

test("the ID field groups what is typed", () => {
  assert.equal(typingForm("abcde"), "ABCDE");
  assert.equal(typingForm("abcdef"), "ABCDE-F");
  assert.equal(typingForm("ABCDE-FGHJK"), "ABCDE-FGHJK");
});

test("a missing message falls back to English, then to its key; placeholders fill in", () => {
  const cats = { en: { a: "Hello {name}", b: "Only English" }, pl: { a: "Witaj {name}", b: "" } };
  assert.equal(translate(cats, "pl", "a", { name: "Zofia" }), "Witaj Zofia");
  assert.equal(translate(cats, "pl", "b"), "Only English", "an empty translation counts as missing");
  assert.equal(translate(cats, "es", "b"), "Only English");
  assert.equal(translate(cats, "pl", "nope"), "nope");
  assert.deepEqual(gaps(cats, "pl"), ["b"]);
  assert.deepEqual(gaps({ en: { x: "1" } }, "pt"), ["x"]);
});

test("a phone's preferred language is used when the site offers it", () => {
  assert.equal(pickLanguage(["pt-BR", "en"], ["en", "es", "pt", "pl"]), "pt");
  assert.equal(pickLanguage(["de-DE"], ["en", "es"]), "en");
});
