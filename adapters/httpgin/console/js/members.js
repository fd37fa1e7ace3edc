// Members and roles (SPEC §17): the member list, invitations, role changes,
// removal and ownership transfer, and joining through an invitation. Only
// the controls the signed-in member's role may use are drawn; the API
// enforces the same rules whatever the page shows.
import * as A from "./api.js";
import { h, clear, toast, field, form, when, copyButton, keyed } from "./ui.js";
import { state, every, go, can, loadMe, route } from "./main.js";

const enc = encodeURIComponent;
const invitable = [["developer", "developer: instances, keys, webhooks, sends"], ["viewer", "viewer: read only, no sends"], ["admin", "admin: everything but ownership"]];
const assignable = ["admin", "developer", "viewer"];

export async function membersPage(el) {
  const me = state.me.user;
  const admin = can("admin");
  const owner = me.memberRole === "owner";
  const rows = h("tbody", { id: "member-rows" });
  const invRows = h("tbody", { id: "invitation-rows" });
  const noInv = h("p", { class: "muted" }, "No pending invitations.");
  const invTable = h("div", { class: "table-wrap", hidden: true }, h("table", {},
    head(["Email", "Role", "Invited", "Expires", null]), invRows));
  const shown = h("div", { id: "new-invitation", "aria-live": "polite" });

  // A member row: the role as text, or, where this member may change it,
  // a select with its own error slot, and the remove and transfer buttons.
  const memberRow = (m) => {
    const self = m.id === me.id;
    const editable = admin && !self && (m.role !== "owner" || owner);
    const who = m.name || m.email;
    return h("tr", { "data-member": m.email },
      h("td", {}, m.name || "—", self ? h("span", { class: "muted" }, " (you)") : null),
      h("td", {}, m.email),
      h("td", {}, editable ? roleControl(m, who) : h("span", { class: "role", "data-role": m.role }, m.role)),
      h("td", {}, when(m.createdAt)),
      admin ? h("td", {}, editable ? h("div", { class: "row" },
        owner && m.role !== "owner" ? h("button", { type: "button", class: "secondary", "data-k": "transfer", onclick: (e) => {
          if (!confirm(`Make ${who} the owner? You become an admin, and only the new owner can give ownership back.`)) return;
          run(e.target, null, null, async () => {
            await A.patch(`/members/${enc(m.id)}`, { role: "owner" });
            toast(`${who} is now the owner; you are an admin.`);
            state.me = await A.get("/me");
            route();
          });
        } }, "Make owner") : null,
        h("button", { type: "button", class: "danger", "data-k": "remove", "aria-label": "Remove " + who, onclick: (e) => {
          if (!confirm(`Remove ${who}? They are signed out at once and lose access.`)) return;
          run(e.target, null, null, async () => {
            await A.del(`/members/${enc(m.id)}`);
            toast(`${who} was removed.`);
            await load();
          });
        } }, "Remove")) : null) : null);
  };

  const roleControl = (m, who) => {
    const id = "role-" + m.id;
    const sel = h("select", { id, name: "role", "data-k": "role", "aria-describedby": id + "-e" },
      (m.role === "owner" ? ["owner", ...assignable] : assignable).map((r) => h("option", { value: r, selected: r === m.role }, r)));
    const err = h("span", { class: "err", id: id + "-e" });
    return h("div", { class: "row", "data-field": "role" },
      h("label", { for: id, class: "sr" }, "Role of " + who), sel,
      h("button", { type: "button", class: "secondary", "data-k": "save-role", onclick: (e) => {
        if (sel.value === m.role) return;
        run(e.target, sel, err, async () => {
          await A.patch(`/members/${enc(m.id)}`, { role: sel.value });
          toast(`${who} is now ${sel.value}.`);
          await load();
        });
      } }, "Change role"), err);
  };

  const invRow = (i) => h("tr", { "data-invitation": i.email },
    h("td", {}, i.email), h("td", {}, i.role), h("td", {}, when(i.createdAt)), h("td", {}, when(i.expiresAt)),
    h("td", {}, h("button", { type: "button", class: "danger", "data-k": "revoke", "aria-label": "Revoke the invitation of " + i.email, onclick: (e) => {
      if (!confirm(`Revoke the invitation of ${i.email}? Its link stops working.`)) return;
      run(e.target, null, null, async () => {
        await A.del(`/members/invitations/${enc(i.id)}`);
        toast("Invitation revoked.");
        await load();
      });
    } }, "Revoke")));

  const load = async () => {
    const [mem, inv] = await Promise.all([A.get("/members?limit=200"), admin ? A.get("/members/invitations?limit=200") : null]);
    // Another admin may have changed this member's role meanwhile: draw
    // the page again for the new role.
    const mine = mem.data.find((m) => m.id === me.id);
    if (mine && mine.role !== me.memberRole) {
      state.me = await A.get("/me");
      toast(`Your role is now ${mine.role}.`);
      route();
      return;
    }
    keyed(rows, mem.data, (m) => m.id, (m) => [m.role, m.name, m.email].join("\n"), memberRow);
    if (inv) {
      keyed(invRows, inv.data, (i) => i.id, (i) => i.role + "\n" + i.expiresAt, invRow);
      invTable.hidden = !inv.data.length;
      noInv.hidden = !!inv.data.length;
    }
  };

  const invite = form({ id: "invite-form" }, [h("div", { class: "fields" },
    field("Email", "email", { type: "email", required: true, maxlength: 254, autocomplete: "off" }, "They get a link that works once, for 7 days."),
    field("Role", "role", { tag: "select", options: invitable }))], async (v, f) => {
    const inv = await A.post("/members/invitations", { email: v.email, role: v.role });
    showOnce(shown, inv);
    f.elements.email.value = "";
    await load();
    return `Invitation for ${inv.email} (${inv.role}) created.`;
  }, "Invite");

  clear(el, h("h1", {}, "Members"),
    h("p", { class: "muted" }, `You are ${me.memberRole === "owner" ? "the owner" : (me.memberRole === "admin" ? "an " : "a ") + me.memberRole} of this subscription.`),
    h("div", { class: "table-wrap gap", id: "member-list" }, h("table", {}, head(["Name", "Email", "Role", "Joined", admin ? null : undefined]), rows)),
    admin ? h("section", { class: "card", "aria-labelledby": "invite-h" },
      h("h2", { id: "invite-h" }, "Invite a member"),
      invite, shown) : null,
    admin ? h("section", { "aria-labelledby": "pending-h", id: "invitation-list" },
      h("h2", { id: "pending-h" }, "Pending invitations"), noInv, invTable) : null);
  await load();
  // Invitations get accepted and members change elsewhere; the rows are
  // keyed, so a poll redraws only what changed.
  every(5000, () => { if (rows.isConnected) load().catch(() => {}); });
}

// head is a table header; a null column is the actions column (named for
// screen readers), an undefined one is left out.
function head(cols) {
  return h("thead", {}, h("tr", {}, cols.filter((c) => c !== undefined).map((c) =>
    h("th", { scope: "col" }, c === null ? h("span", { class: "sr" }, "Actions") : c))));
}

// run does fn behind btn; an error lands in err next to input (the API's
// field message when it names one), or in a toast.
async function run(btn, input, err, fn) {
  btn.disabled = true;
  const label = btn.textContent;
  btn.textContent = label + "…";
  if (err) { err.textContent = ""; input.removeAttribute("aria-invalid"); }
  try {
    await fn();
  } catch (e) {
    const msg = (e.message || "Failed") + (e.status ? ` (${e.status}${e.code ? " " + e.code : ""})` : "");
    if (err) {
      const fe = (e.fields || []).find((x) => x.field === input.name);
      err.textContent = fe ? fe.message : msg;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else toast(msg, true);
  } finally {
    btn.disabled = false;
    btn.textContent = label;
  }
}

// showOnce shows a new invitation's link and token: the server keeps only
// a hash, so this is the one time they can be copied.
function showOnce(box, inv) {
  const link = `${location.origin}/#/accept?token=${enc(inv.token)}`;
  clear(box, h("div", { class: "card", id: "invitation-once" },
    h("p", {}, h("strong", {}, "Shown only once: "), `copy the link now and send it to ${inv.email}. It works once, until ${when(inv.expiresAt)}; it cannot be shown again (revoke it and invite again if it is lost).`),
    h("p", { class: "secret", id: "invite-link" }, link),
    h("div", { class: "row" }, copyButton(link, "Copy link"), copyButton(inv.token, "Copy the token alone"),
      h("button", { type: "button", class: "secondary", onclick: () => clear(box) }, "Done"))));
}

// acceptPage joins a subscription through an invitation link
// (#/accept?token=…) and signs in with the same cookie session as login.
export function acceptPage(el) {
  const token = new URLSearchParams(location.hash.split("?")[1] || "").get("token") || "";
  // The token is spent by this page: keep it out of the history.
  if (token) history.replaceState(null, "", location.pathname + location.search + "#/accept");
  clear(el, h("div", { class: "card narrow" },
    h("h1", {}, "Join a team"),
    h("p", {}, "You were invited to a wagate subscription. Choose your name and a password; you sign in with the email the invitation was sent to."),
    form({ id: "accept-form" }, [
      field("Invitation token", "token", { required: true, value: token, autocomplete: "off", spellcheck: "false", maxlength: 200 }, "From the invitation link."),
      field("Name", "name", { autocomplete: "name", required: true, maxlength: 200 }),
      field("Password", "password", { type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 128 }, "8 to 128 characters."),
    ], async (v) => {
      const out = await A.acceptInvitation(v.token, v.password, v.name);
      await loadMe();
      toast(`Welcome! You joined as ${out.user.memberRole}.`);
      go("#/instances");
      return "Joined.";
    }, "Join"),
    h("p", {}, "Already a member? ", h("a", { href: "#/login" }, "Sign in"), ".")));
}
