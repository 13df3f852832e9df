// Message catalogues (kiosk-ui/i18n/<lang>.json, flat "area.key" names). Every text the UI shows
// comes from here; a key missing in a language falls back to English, then to the key itself.
// Pure apart from `load`, so node's test runner can check it without a browser.

export const FALLBACK = "en";

/** Look `key` up in `lang`, else English; replace {name} placeholders from `params`. */
export function translate(catalogues, lang, key, params = {}) {
  const pick = (l) => {
    const t = catalogues[l] && catalogues[l][key];
    return typeof t === "string" && t.trim() !== "" ? t : null;
  };
  const text = pick(lang) ?? pick(FALLBACK) ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Keys English has that `lang` lacks (or leaves empty): what falls back today. */
export function gaps(catalogues, lang) {
  const en = catalogues[FALLBACK] || {};
  const other = catalogues[lang] || {};
  return Object.keys(en).filter((k) => typeof other[k] !== "string" || other[k].trim() === "");
}

/** The best of `available` for a browser's preferred languages, else the first available. */
export function pickLanguage(preferred, available) {
  for (const tag of preferred || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (available.includes(base)) return base;
  }
  return available[0] || FALLBACK;
}

/** Fetch the catalogues of `langs` (English always). A missing file just means fallbacks. */
export async function load(langs) {
  const wanted = [...new Set([FALLBACK, ...langs])];
  const entries = await Promise.all(
    wanted.map(async (lang) => {
      try {
        const res = await fetch(`/ui/i18n/${lang}.json`, { cache: "no-cache" });
        return [lang, res.ok ? await res.json() : {}];
      } catch {
        return [lang, {}];
      }
    }),
  );
  return Object.fromEntries(entries);
}
