// Staff: the menu shown once signed in: a tile per staff screen the signed-in role may use (the
// API refuses the rest, so they are not offered), and the reminder to set up an authenticator
// for the roles that must have one.

import { h } from "../dom.js";
import { isManager, staffCall } from "./staff-common.js";
import { staffDevicesScreen } from "./staff-devices.js";
import { staffLinksScreen } from "./staff-links.js";
import { staffSecurityScreen } from "./staff-security.js";
import { staffSyncScreen } from "./staff-sync.js";
import { staffTotpScreen } from "./staff-totp.js";
import { staffUsersScreen } from "./staff-users.js";

/**
 * The screens, with who may open them. `back` returns to the signed-in staff screen. The tile's
 * texts are `staff.menu.<key>.title` and `.text`, or the `title` and `text` keys given. `limited`:
 * instructors get less there than managers, and the tile says so (`staff.menu.<key>.text_limited`).
 */
const AREAS = [
  { key: "users", managers: true, open: staffUsersScreen },
  { key: "links", managers: true, open: staffLinksScreen, title: "staff.links.tile.title", text: "staff.links.tile.text" },
  { key: "devices", managers: false, open: staffDevicesScreen },
  { key: "security", managers: false, limited: true, open: staffSecurityScreen },
  { key: "sync", managers: false, limited: true, open: staffSyncScreen },
  { key: "totp", managers: false, open: staffTotpScreen },
];

export function staffMenu(app, back) {
  const reminder = h("div", { class: "totp-reminder" });
  // Whether this staff member must still set up an authenticator: filled in when the answer comes.
  staffCall(app, "GET", "/api/auth/totp").then((res) => {
    if (!res.ok || !res.data || !res.data.required || res.data.enrolled) return;
    reminder.appendChild(
      h(
        "div",
        { class: "notice warn", role: "alert", "data-required": "totp" },
        h("p", {}, app.t("staff.totp.required")),
        h("button", { type: "button", class: "button primary", "data-action": "totp-now", onclick: () => app.show(staffTotpScreen(app, back)) }, app.t("staff.totp.begin")),
      ),
    );
  });
  const shown = AREAS.filter((a) => !a.managers || isManager(app));
  return h(
    "nav",
    { class: "staff-menu", "aria-label": app.t("staff.menu.label") },
    reminder,
    h(
      "div",
      { class: "tiles" },
      shown.map((a) =>
        h(
          "button",
          { type: "button", class: "tile", "data-area": a.key, onclick: () => app.show(a.open(app, back)) },
          h("span", { class: "tile-title" }, app.t(a.title || `staff.menu.${a.key}.title`)),
          h(
            "span",
            { class: "tile-text" },
            // Instructors do not get the audit log, nor "Sync now": the tile does not promise them.
            a.limited && !isManager(app) ? app.t(`staff.menu.${a.key}.text_limited`) : app.t(a.text || `staff.menu.${a.key}.text`),
          ),
        ),
      ),
    ),
  );
}
