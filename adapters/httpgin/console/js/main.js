// The console: a hash router over pages built from the public API.
import * as A from "./api.js";
import { h, clear, toast, field, form, badge, action, when, table } from "./ui.js";
import * as P from "./pages.js";
import * as M from "./members.js";

export const events = new A.Events();
export const state = { me: null, sandbox: false, hasMembers: false, pageCleanup: [] };

const main = document.getElementById("main");
const nav = document.getElementById("nav");

// onPage registers a teardown for the current page (event listeners, timers).
export function onPage(fn) { state.pageCleanup.push(fn); }
export function listen(fn) { onPage(events.on(fn)); }
export function every(ms, fn) { const t = setInterval(fn, ms); onPage(() => clearInterval(t)); }

// can reports whether the signed-in member's role reaches need: controls
// beyond it are not drawn (the API refuses them anyway).
const rank = { viewer: 1, developer: 2, admin: 3, owner: 4 };
export function can(need) { return !!state.me && (rank[state.me.user.memberRole] || 0) >= rank[need]; }

export function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }

function renderNav() {
  if (!state.me) { nav.hidden = true; return; }
  const here = location.hash.split("/")[1] || "instances";
  const link = (href, label, key) => h("a", { href, "aria-current": here === key ? "page" : null }, label);
  clear(nav,
    link("#/instances", "Instances", "instances"),
    can("developer") ? link("#/templates", "Templates", "templates") : null,
    can("developer") ? link("#/bulk", "Bulk", "bulk") : null,
    link("#/stats", "Statistics", "stats"),
    can("admin") ? link("#/audit", "Audit log", "audit") : null,
    state.hasMembers ? link("#/members", "Members", "members") : null,
    state.me.user.role === "admin" ? link("#/admin", "Admin", "admin") : null,
    h("button", { type: "button", id: "logout", onclick: async (e) => {
      leaving = true;
      await action(e.target, () => A.logout(), "Signed out.");
      leaving = false;
      state.me = null; events.stop(); go("#/login");
    } }, "Log out"));
  nav.hidden = false;
}

// A session that ends under the page (the member was removed, the refresh
// token revoked) goes back to the login page.
let leaving = false;
A.onAuthChange((t) => {
  if (t || !state.me || leaving) return;
  state.me = null;
  events.stop();
  toast("Your session has ended: sign in again.", true);
  go("#/login");
});

export async function loadMe() {
  state.me = await A.get("/me");
  // Optional features, found through the public API itself.
  const [sb, mem] = await Promise.allSettled([
    A.get("/sandbox/phones/1/messages"),
    A.get("/members?limit=1"),
  ]);
  state.sandbox = sb.status === "rejected" && sb.reason.status === 422;
  state.hasMembers = mem.status === "fulfilled";
  events.start();
}

const routes = [
  [/^#\/login$/, loginPage, false],
  [/^#\/register$/, registerPage, false],
  [/^#\/accept(\?.*)?$/, M.acceptPage, false],
  [/^#\/instances$/, P.instancesPage],
  [/^#\/instances\/([^/]+)$/, P.instancePage],
  [/^#\/instances\/([^/]+)\/(messages|keys|webhooks|stats)$/, P.instancePage],
  [/^#\/templates$/, P.templatesPage],
  [/^#\/bulk$/, P.bulkPage],
  [/^#\/bulk\/([^/]+)$/, P.bulkPage],
  [/^#\/stats$/, P.statsPage],
  [/^#\/audit$/, P.auditPage],
  [/^#\/members$/, M.membersPage],
  [/^#\/admin$/, P.adminPage],
];

let routing = 0;
export async function route() {
  const n = ++routing;
  for (const fn of state.pageCleanup.splice(0)) fn();
  let hash = location.hash || "#/instances";
  let match = null, page = null, needAuth = true;
  for (const [re, fn, auth] of routes) {
    match = hash.match(re);
    if (match) { page = fn; needAuth = auth !== false; break; }
  }
  if (!page) { go("#/instances"); return; }
  if (needAuth && !A.signedIn()) {
    try { await A.refresh(); await loadMe(); } catch { state.me = null; go("#/login"); return; }
  } else if (needAuth && !state.me) {
    await loadMe();
  }
  if (!needAuth && A.signedIn() && state.me) {
    // An invitation link opened while signed in would replace this session.
    if (page === M.acceptPage) toast("You are signed in: log out first, then open the invitation link again.", true);
    go("#/instances");
    return;
  }
  if (n !== routing) return;
  renderNav();
  clear(main);
  try {
    await page(main, ...match.slice(1).map((p) => p === undefined ? undefined : decodeURIComponent(p)));
  } catch (err) {
    // A route left meanwhile (the session ended, the user moved on) draws nothing.
    if (n !== routing) return;
    clear(main, h("h1", {}, "Something went wrong"), h("p", { class: "error" }, err.message || String(err)));
  }
  if (n === routing) {
    const h1 = main.querySelector("h1");
    if (h1) document.title = h1.textContent + " · wagate";
    // Focus moves to the new page, unless the user is already in it: a
    // page that draws its form and then waits for data must not take
    // the focus from a field being typed into.
    if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
  }
}

function loginPage(el) {
  clear(el, h("div", { class: "card narrow" },
    h("h1", {}, "Sign in"),
    form({ id: "login-form" }, [
      field("Email", "email", { type: "email", autocomplete: "username", required: true }),
      field("Password", "password", { type: "password", autocomplete: "current-password", required: true }),
    ], async (v) => {
      await A.login(v.email, v.password);
      await loadMe();
      go("#/instances");
      return "Signed in.";
    }, "Sign in"),
    h("p", {}, "No account yet? ", h("a", { href: "#/register" }, "Create one"), ".")));
}

function registerPage(el) {
  clear(el, h("div", { class: "card narrow" },
    h("h1", {}, "Create an account"),
    form({ id: "register-form" }, [
      field("Name", "name", { autocomplete: "name", required: true, maxlength: 200 }),
      field("Email", "email", { type: "email", autocomplete: "username", required: true, maxlength: 254 }),
      field("Password", "password", { type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128 }, "8 to 128 characters."),
    ], async (v) => {
      await A.register(v.name, v.email, v.password);
      await loadMe();
      toast("Welcome! Your account is on the basic tier.");
      go("#/instances");
      return "Account created.";
    }, "Create account"),
    h("p", {}, "Already registered? ", h("a", { href: "#/login" }, "Sign in"), ".")));
}

window.addEventListener("hashchange", route);
route();

export { A, badge, when, table };
