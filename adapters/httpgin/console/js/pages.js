// The console's pages. Every call goes to the public API (api.js).
import * as A from "./api.js";
import { h, clear, toast, field, form, badge, action, when, table, copyButton, values } from "./ui.js";
import { state, listen, every, onPage, go, can } from "./main.js";
import { chart } from "./chart.js";
import { parseCSV } from "./csv.js";

const enc = encodeURIComponent;

// ---------- instances ----------

export async function instancesPage(el) {
  const list = h("div", { id: "instance-list" }, h("p", { class: "muted" }, "Loading…"));
  const sub = state.me.subscription;
  clear(el,
    h("h1", {}, "Instances"),
    h("p", { class: "muted" }, `Tier ${sub.tier}: ${sub.instancesUsed} of ${sub.instanceLimit} instances used. `,
      h("span", { id: "stream-state" }, "Live updates: ", events_state())),
    list,
    can("developer") && h("section", { class: "card", "aria-labelledby": "new-inst" },
      h("h2", { id: "new-inst" }, "New instance"),
      form({ id: "create-instance" }, [
        field("Name", "name", { required: true, maxlength: 100, placeholder: "support-line" }, "A label for this WhatsApp number."),
      ], async (v) => {
        const inst = await A.post("/instances", { name: v.name });
        state.me = await A.get("/me");
        go("#/instances/" + inst.id);
        return "Created.";
      }, "Create instance")));
  const load = async () => {
    const out = await A.get("/instances?limit=200");
    clear(list, table([
      ["Name", (i) => h("a", { href: "#/instances/" + i.id, "data-instance": i.name }, i.name)],
      ["Status", (i) => badge(i.status, "badge-" + i.id)],
      ["Phone", (i) => i.phoneNumber || "—"],
      ["Last connected", (i) => when(i.lastConnectedAt)],
    ], out.data, "No instances yet: create one below."));
  };
  await load();
  listen((ev) => {
    if (ev.type === "stream.state") { const s = document.getElementById("stream-state"); if (s) clear(s, "Live updates: ", ev.state); }
    if (ev.type !== "instance.status") return;
    const b = document.getElementById("badge-" + ev.instanceId);
    if (b) b.replaceWith(badge(ev.data.status, "badge-" + ev.instanceId)); else load();
  });
}

function events_state() { return h("span", {}, "on"); }

// The tabs, with the role each needs: keys and webhooks are secrets.
const tabs = [["", "Overview", "viewer"], ["messages", "Messages", "viewer"], ["keys", "API keys", "developer"], ["webhooks", "Webhooks", "developer"], ["stats", "Statistics", "viewer"]];

export async function instancePage(el, id, tab = "") {
  let inst = await A.get("/instances/" + enc(id));
  const head = h("div", {});
  const body = h("div", {});
  const renderHead = () => clear(head,
    h("h1", {}, inst.name, " ", badge(inst.status, "instance-status")),
    h("p", { class: "muted" }, inst.phoneNumber ? `Linked to +${inst.phoneNumber.replace(/^\+/, "")}` : "Not linked to a phone yet.",
      inst.statusReason ? ` Last reason: ${inst.statusReason}.` : ""));
  renderHead();
  clear(el, h("p", {}, h("a", { href: "#/instances" }, "← Instances")), head,
    h("nav", { class: "tabs", "aria-label": "Instance" }, tabs.filter((x) => can(x[2])).map(([t, label]) =>
      h("a", { href: `#/instances/${id}${t ? "/" + t : ""}`, "aria-current": t === tab ? "page" : null }, label))),
    body);
  // gen drops a read answered after a newer status event: under load the
  // read that followed "connecting" could land after "qr" and put the
  // page back to connecting, with the QR code never shown.
  let gen = 0;
  listen((ev) => {
    if (ev.type === "instance.status" && ev.instanceId === id) {
      inst.status = ev.data.status;
      inst.statusReason = ev.data.reason || null;
      const g = ++gen;
      A.get("/instances/" + enc(id)).then((i) => { if (g === gen) { inst = i; renderHead(); } }).catch(() => {});
      renderHead();
    }
  });
  const pages = { "": overview, messages: messagesTab, keys: keysTab, webhooks: webhooksTab, stats: instanceStats };
  await pages[tab](body, id, () => inst);
}

async function overview(el, id, cur) {
  const linkBox = h("div", { id: "link-box" });
  const sendBox = h("section", { class: "card", "aria-labelledby": "send-h" });
  const danger = (label, path, done, cls) => h("button", { type: "button", class: cls || "secondary", onclick: (e) =>
    action(e.target, () => A.post(`/instances/${id}/${path}`), done) }, label);
  clear(el,
    h("section", { class: "card", "aria-labelledby": "conn-h" },
      h("h2", { id: "conn-h" }, "Connection"),
      // A viewer watches the status; linking needs a developer, deleting an admin.
      can("developer") && h("div", { class: "row" },
        h("button", { type: "button", id: "connect", onclick: (e) => action(e.target, () => A.post(`/instances/${id}/connect`), "Connecting…") }, "Connect"),
        danger("Disconnect", "disconnect", "Disconnecting."),
        danger("Log out (unlink)", "logout", "Unlinking the phone."),
        can("admin") && h("button", { type: "button", class: "danger", onclick: async (e) => {
          if (!confirm("Delete this instance, its keys and webhooks?")) return;
          if (await action(e.target, () => A.del("/instances/" + id).then(() => true), "Deleted.")) { state.me = await A.get("/me"); go("#/instances"); }
        } }, "Delete")),
      linkBox),
    can("developer") && sendBox);

  // The QR code: fetched when the status is qr and again on every
  // instance.qr event; a countdown runs to its expiry.
  let expires = 0, attempt = 0;
  const qrImg = h("img", { id: "qr-image", alt: "QR code to scan with WhatsApp on the phone", width: 264, height: 264 });
  const count = h("p", { id: "qr-countdown", "aria-live": "off" });
  const loadQR = async () => {
    try {
      const q = await A.get(`/instances/${id}/qr`);
      qrImg.src = q.image;
      expires = Date.parse(q.expiresAt);
      attempt = q.attempt;
      qrImg.dataset.attempt = String(attempt);
      tick();
    } catch (e) { if (e.code !== "not_awaiting_qr") toast(e.message, true); }
  };
  const tick = () => {
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    count.textContent = `Code ${attempt} of 3 · expires in ${left} s`;
  };
  every(1000, () => { if (expires) tick(); });
  const pair = form({ id: "pair-form" }, [
    field("Phone number", "phoneNumber", { inputmode: "tel", autocomplete: "tel", placeholder: "+15551234567", maxlength: 20 }, "Get an 8-character code to type on the phone instead of scanning."),
  ], async (v) => {
    const r = await A.post(`/instances/${id}/pair-code`, { phoneNumber: v.phoneNumber });
    return "Pair code: " + r.code + " — on the phone: Linked devices › Link with phone number.";
  }, "Get pair code");
  const renderLink = () => {
    const st = cur().status;
    if (!can("developer")) { clear(linkBox, h("p", { class: "muted" }, st === "connected" ? "Connected." : "Not connected.")); return; }
    if (st === "connected") { expires = 0; clear(linkBox, h("p", { class: "s-connected" }, "Connected. Send a test message below.")); return; }
    if (st !== "qr") {
      expires = 0;
      clear(linkBox, h("p", { class: "muted" }, st === "connecting" ? "Connecting…" : "Press Connect to link a phone with a QR code or a pair code."),
        st === "connecting" ? null : null);
      return;
    }
    clear(linkBox, h("h3", {}, "Link a phone"),
      h("div", { class: "qr" },
        h("div", {}, qrImg, count),
        h("div", {},
          h("ol", {}, h("li", {}, "Open WhatsApp on the phone."), h("li", {}, "Settings › Linked devices › Link a device."), h("li", {}, "Point the phone at this code.")),
          state.sandbox ? h("button", { type: "button", id: "sandbox-scan", onclick: (e) =>
            action(e.target, () => A.post(`/sandbox/instances/${id}/scan`), "Scanned by the simulated phone.") }, "Scan with the simulated phone") : null,
          pair)));
    loadQR();
  };
  renderLink();
  listen((ev) => {
    if (ev.instanceId !== id) return;
    if (ev.type === "instance.status") setTimeout(renderLink);
    if (ev.type === "instance.qr" && cur().status === "qr") loadQR();
  });
  if (can("developer")) sendTest(sendBox, id);
}

function sendTest(box, id) {
  const result = h("div", { id: "send-result" });
  const seen = new Map();
  let watching = "";
  listen((ev) => {
    if (ev.type !== "message.status") return;
    seen.set(ev.data.messageId, ev.data);
    if (ev.data.messageId === watching) showStatus(ev.data.status, ev.data.error);
  });
  const showStatus = (st, err) => {
    const b = document.getElementById("test-status");
    if (b) b.replaceWith(badge(st, "test-status"));
    if (err) result.append(h("p", { class: "error" }, err.message || err.code));
  };
  clear(box, h("h2", { id: "send-h" }, "Send a test message"),
    form({ id: "send-form" }, [
      field("To", "to", { inputmode: "tel", required: true, placeholder: "+15551234567", maxlength: 64 }, "Phone number in international form, or a JID."),
      field("Text", "text", { tag: "textarea", maxlength: 4096 }, "Up to 4096 characters. With an image this is the caption."),
      field("Image (optional)", "file", { type: "file", accept: "image/jpeg,image/png,image/webp" }, "JPEG, PNG or WebP, up to 10 MB."),
    ], async (v) => {
      let m;
      if (v.file) {
        const fd = new FormData();
        fd.append("to", v.to);
        if (v.text) fd.append("caption", v.text);
        fd.append("file", v.file);
        m = await A.post(`/instances/${id}/messages/image`, fd);
      } else {
        m = await A.post(`/instances/${id}/messages/text`, { to: v.to, text: v.text });
      }
      watching = m.id;
      clear(result, h("p", {}, `Message ${m.id} to ${m.to}: `, badge(m.status, "test-status")));
      const early = seen.get(m.id);
      if (early) showStatus(early.status, early.error);
      // Catch up once in case events raced ahead of this answer.
      A.get(`/instances/${id}/messages/${m.id}`).then((x) => {
        const order = ["queued", "sending", "sent", "delivered", "read"];
        const b = document.getElementById("test-status");
        if (b && order.indexOf(x.status) > order.indexOf(b.dataset.status)) showStatus(x.status, x.error);
      }).catch(() => {});
      return "Queued. The status below follows the message live.";
    }, "Send"), result);
}

async function messagesTab(el, id) {
  const list = h("div", { id: "message-list" });
  let cursor = "";
  const filters = h("form", { class: "row", id: "msg-filters", onsubmit: (e) => { e.preventDefault(); load(true); } },
    field("Direction", "direction", { tag: "select", options: [["", "any"], "outbound", "inbound"] }),
    field("Status", "status", { tag: "select", options: [["", "any"], "queued", "sending", "sent", "delivered", "read", "failed", "received"] }),
    field("Chat", "chat", { maxlength: 64, placeholder: "phone or JID" }),
    h("button", { type: "submit" }, "Filter"));
  const more = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => load(false) }, "Load more");
  clear(el, h("h2", {}, "Message history"), filters, list, more);
  const rows = [];
  const load = async (reset) => {
    if (reset) { cursor = ""; rows.length = 0; }
    const v = values(filters);
    const q = new URLSearchParams({ limit: "50" });
    for (const k of ["direction", "status", "chat"]) if (v[k]) q.set(k, v[k]);
    if (cursor) q.set("cursor", cursor);
    const out = await A.get(`/instances/${id}/messages?${q}`);
    rows.push(...out.data);
    cursor = out.nextCursor || "";
    more.hidden = !cursor;
    clear(list, table([
      ["When", (m) => when(m.createdAt)],
      ["Dir.", (m) => m.direction],
      ["Chat", (m) => m.chat || m.to || m.from],
      ["Content", (m) => content(id, m)],
      ["Status", (m) => badge(m.status)],
    ], rows, "No messages match."));
  };
  await load(true);
  let t = 0;
  listen((ev) => {
    if (ev.instanceId !== id || !ev.type.startsWith("message.")) return;
    clearTimeout(t);
    t = setTimeout(() => load(true), 500);
  });
}

const mediaKinds = new Set(["image", "sticker", "video", "audio", "document"]);
function content(id, m) {
  const text = m.text || m.caption || (m.location ? `📍 ${m.location.latitude}, ${m.location.longitude}` : "");
  const box = h("div", { class: "preview" }, text ? h("div", {}, text) : null, h("div", { class: "muted" }, m.type));
  // Media files are beyond a viewer's metadata and text.
  if (mediaKinds.has(m.type) && can("developer")) {
    const btn = h("button", { type: "button", class: "secondary", onclick: async (e) => {
      const blob = await action(e.target, () => A.get(`/instances/${id}/messages/${m.id}/media`, { want: "blob" }));
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      onPage(() => URL.revokeObjectURL(url));
      if (blob.type.startsWith("image/")) btn.replaceWith(h("img", { src: url, alt: m.caption || "image of message " + m.id }));
      else btn.replaceWith(h("a", { href: url, download: m.id }, "Download " + m.type));
    } }, "Show " + m.type);
    box.append(btn);
    if (m.type === "image") setTimeout(() => btn.isConnected && btn.click());
  }
  return box;
}

async function keysTab(el, id) {
  const list = h("div", { id: "key-list" });
  const shown = h("div", { id: "new-key", "aria-live": "polite" });
  const scopes = ["messages:send", "messages:read", "contacts:read", "instance:read"];
  const load = async () => {
    const out = await A.get(`/instances/${id}/api-keys`);
    clear(list, table([
      ["Name", (k) => k.name], ["Prefix", (k) => h("code", {}, k.prefix)], ["Scopes", (k) => k.scopes.join(", ")],
      ["Last used", (k) => when(k.lastUsedAt)], ["Expires", (k) => when(k.expiresAt)],
      ["", (k) => h("button", { type: "button", class: "danger", "aria-label": "Revoke key " + k.name, onclick: async (e) => {
        if (!confirm(`Revoke "${k.name}"? It stops working at once.`)) return;
        await action(e.target, () => A.del(`/instances/${id}/api-keys/${k.id}`), "Revoked."); load();
      } }, "Revoke")],
    ], out.data, "No keys yet."));
  };
  clear(el, h("h2", {}, "API keys"), list,
    h("section", { class: "card" }, h("h3", {}, "New key"),
      form({ id: "key-form" }, [
        field("Name", "name", { required: true, maxlength: 100 }),
        h("fieldset", { "data-field": "scopes" }, h("legend", {}, "Scopes"),
          scopes.map((s) => h("label", { class: "row" }, h("input", { type: "checkbox", name: "scope-" + s, value: s, "data-group": "scopes", checked: true }), s)),
          h("span", { class: "err" })),
      ], async (v) => {
        const k = await A.post(`/instances/${id}/api-keys`, { name: v.name, scopes: v.scopes });
        clear(shown, h("div", { class: "card" }, h("p", {}, h("strong", {}, "Copy the key now: it is shown only once.")),
          h("p", { class: "secret", id: "key-secret" }, k.key), copyButton(k.key, "Copy key")));
        load();
        return "Key created.";
      }, "Create key"), shown));
  await load();
}

const eventTypes = ["instance.status", "instance.qr", "message.received", "message.status", "bulk.status", "message.reaction", "message.edited", "message.deleted", "group.participants", "group.updated", "call.received", "message.poll_vote"];

async function webhooksTab(el, id) {
  const list = h("div", { id: "webhook-list" });
  const shown = h("div", { "aria-live": "polite" });
  const load = async () => {
    const out = await A.get(`/instances/${id}/webhooks`);
    clear(list, out.data.length ? out.data.map((w) => webhookCard(id, w, load)) : h("p", { class: "muted" }, "No webhooks yet."));
  };
  clear(el, h("h2", {}, "Webhooks"), list,
    h("section", { class: "card" }, h("h3", {}, "New webhook"),
      form({ id: "webhook-form" }, [
        field("URL", "url", { type: "url", required: true, maxlength: 2048, placeholder: "https://example.com/hooks/whatsapp" }),
        field("Description", "description", { maxlength: 200 }),
        h("fieldset", { "data-field": "events" }, h("legend", {}, "Events"),
          h("label", { class: "row" }, h("input", { type: "checkbox", name: "ev-all", value: "*", "data-group": "events", checked: true }), "All events (*)"),
          eventTypes.map((t) => h("label", { class: "row" }, h("input", { type: "checkbox", name: "ev-" + t, value: t, "data-group": "events" }), t)),
          h("span", { class: "err" })),
      ], async (v) => {
        const w = await A.post(`/instances/${id}/webhooks`, { url: v.url, description: v.description, events: v.events.includes("*") ? ["*"] : v.events });
        clear(shown, h("div", { class: "card" }, h("p", {}, h("strong", {}, "Signing secret — shown only now:")),
          h("p", { class: "secret", id: "webhook-secret" }, w.secret), copyButton(w.secret, "Copy secret")));
        load();
        return "Webhook created.";
      }, "Create webhook"), shown));
  await load();
}

function webhookCard(id, w, reload) {
  const base = `/instances/${id}/webhooks/${w.id}`;
  const log = h("div", { class: "deliveries", id: "deliveries-" + w.id });
  const loadLog = async () => {
    const out = await A.get(base + "/deliveries?limit=20");
    clear(log, table([
      ["When", (d) => when(d.createdAt)], ["Event", (d) => d.eventType], ["Status", (d) => badge(d.status)],
      ["Attempts", (d) => String(d.attempts)], ["Response", (d) => d.lastStatusCode ? String(d.lastStatusCode) : (d.lastError || "—")],
      ["Next attempt", (d) => when(d.nextAttemptAt)],
      ["", (d) => h("button", { type: "button", class: "secondary", onclick: async (e) => {
        await action(e.target, () => A.post(`${base}/deliveries/${d.id}/retry`), "Replay queued."); loadLog();
      } }, "Replay")],
    ], out.data, "No deliveries yet."));
  };
  loadLog();
  every(2500, () => { if (log.isConnected) loadLog().catch(() => {}); });
  return h("article", { class: "card", "data-webhook": w.url },
    h("h3", {}, w.url, " ", badge(w.enabled ? "enabled" : "disabled")),
    h("p", { class: "muted" }, (w.description ? w.description + " · " : "") + "Events: " + w.events.join(", ") + (w.disabledReason ? " · disabled: " + w.disabledReason : "")),
    h("div", { class: "row" },
      h("button", { type: "button", class: "secondary", onclick: async (e) => {
        await action(e.target, () => A.patch(base, { enabled: !w.enabled }), w.enabled ? "Disabled." : "Enabled."); reload();
      } }, w.enabled ? "Disable" : "Enable"),
      h("button", { type: "button", class: "secondary", onclick: async (e) => {
        await action(e.target, () => A.post(base + "/test"), "Test event sent."); setTimeout(loadLog, 800);
      } }, "Send test"),
      h("button", { type: "button", class: "danger", onclick: async (e) => {
        if (!confirm("Delete this webhook?")) return;
        await action(e.target, () => A.del(base), "Deleted."); reload();
      } }, "Delete")),
    h("h4", {}, "Deliveries"), log);
}

async function instanceStats(el, id) { await statsView(el, id, false); }

// ---------- statistics ----------

export async function statsPage(el) { await statsView(el, "", true); }

async function statsView(el, fixed, pick) {
  const box = h("div", { id: "stats" });
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const from = new Date(today.getTime() - 13 * 864e5);
  const opts = [["", "All instances"]];
  if (pick) { const l = await A.get("/instances?limit=200"); for (const i of l.data) opts.push([i.id, i.name]); }
  const f = h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); load(); } },
    field("From", "from", { type: "date", value: iso(from) }), field("To", "to", { type: "date", value: iso(today) }),
    pick ? field("Instance", "instanceId", { tag: "select", options: opts }) : null,
    h("button", { type: "submit" }, "Show"));
  clear(el, pick ? h("h1", {}, "Statistics") : h("h2", {}, "Statistics"), f, box);
  const load = async () => {
    const v = values(f);
    const q = new URLSearchParams({ from: v.from, to: v.to });
    if (v.instanceId) q.set("instanceId", v.instanceId);
    const out = await A.get(fixed ? `/instances/${fixed}/stats?${q}` : `/stats?${q}`);
    clear(box, chart(out), totals(out.totals));
  };
  await load();
  let t = 0;
  listen((ev) => {
    if (!ev.type.startsWith("message.")) return;
    clearTimeout(t);
    t = setTimeout(() => load().catch(() => {}), 1500);
  });
}

function totals(t) {
  const keys = ["sent", "delivered", "read", "failed", "received", "apiCalls"];
  return h("div", { class: "table-wrap" }, h("table", { id: "stats-totals" },
    h("thead", {}, h("tr", {}, keys.map((k) => h("th", { scope: "col" }, k)))),
    h("tbody", {}, h("tr", {}, keys.map((k) => h("td", { "data-total": k }, String(t[k] || 0)))))));
}

// ---------- templates ----------

const varRe = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
export const templateVars = (body) => [...new Set([...body.matchAll(varRe)].map((m) => m[1]))];
export const renderLocal = (body, vars) => body.replace(varRe, (m, k) => (vars[k] !== undefined && vars[k] !== "" ? vars[k] : m));

export async function templatesPage(el) {
  const list = h("div", { id: "template-list" });
  const preview = h("div", { class: "bubble", id: "template-preview", "aria-live": "polite" }, "…");
  const varsBox = h("div", {});
  const vals = {};
  const update = () => {
    const body = createForm.querySelector("textarea").value;
    const names = templateVars(body);
    for (const n of names) if (!varsBox.querySelector(`[name="var-${CSS.escape(n)}"]`)) {
      varsBox.append(field(`Sample value for {{${n}}}`, "var-" + n, { maxlength: 200, oninput: (e) => { vals[n] = e.target.value; update(); } }));
    }
    for (const box of [...varsBox.children]) if (!names.includes(box.dataset.field.slice(4))) box.remove();
    preview.textContent = body ? renderLocal(body, vals) : "Type a body to see it rendered.";
  };
  const createForm = form({ id: "template-form" }, [
    field("Name", "name", { required: true, maxlength: 100 }),
    field("Body", "body", { tag: "textarea", required: true, maxlength: 4096, oninput: () => update() }, "Use {{name}} placeholders."),
  ], async (v) => {
    await A.post("/templates", { name: v.name, body: v.body });
    load();
    return "Template saved.";
  }, "Save template");
  const load = async () => {
    const out = await A.get("/templates?limit=200");
    clear(list, out.data.length ? out.data.map((t) => templateCard(t, load)) : h("p", { class: "muted" }, "No templates yet."));
  };
  clear(el, h("h1", {}, "Templates"), h("h2", {}, "Saved templates"), list,
    h("section", { class: "card" }, h("h2", {}, "New template"), h("div", { class: "grid" },
      h("div", {}, createForm), h("div", {}, h("h3", {}, "Preview"), preview, varsBox))));
  update();
  await load();
}

function templateCard(t, reload) {
  const out = h("div", { class: "bubble", "aria-live": "polite" }, t.body);
  const f = form({}, t.variables.map((n) => field(`{{${n}}}`, n, { maxlength: 200 })), async (v) => {
    const vars = {};
    for (const n of t.variables) vars[n] = v[n];
    const r = await A.post(`/templates/${t.id}/render`, { variables: vars });
    out.textContent = r.text;
    return "Rendered by the server.";
  }, "Render");
  return h("article", { class: "card", "data-template": t.name }, h("h3", {}, t.name),
    h("div", { class: "grid" }, h("div", {}, f), out),
    h("button", { type: "button", class: "danger", onclick: async (e) => {
      if (!confirm(`Delete template "${t.name}"?`)) return;
      await action(e.target, () => A.del("/templates/" + t.id), "Deleted."); reload();
    } }, "Delete"));
}

// ---------- bulk ----------

export async function bulkPage(el, bulkId) {
  if (bulkId) return bulkProgress(el, bulkId);
  const [insts, tpls] = await Promise.all([A.get("/instances?limit=200"), A.get("/templates?limit=200")]);
  let rows = [], header = [];
  const mapBox = h("div", { id: "bulk-map" });
  const prev = h("div", { id: "bulk-preview", "aria-live": "polite" });
  const f = form({ id: "bulk-form" }, [
    field("Instance", "instanceId", { tag: "select", options: insts.data.map((i) => [i.id, `${i.name} (${i.status})`]) }),
    field("Template", "templateId", { tag: "select", options: [["", "— none: use the text below —"], ...tpls.data.map((t) => [t.id, t.name])], onchange: () => remap() }),
    field("Text", "text", { tag: "textarea", maxlength: 4096, oninput: () => remap() }, "Used when no template is chosen."),
    field("CSV file", "csv", { type: "file", accept: ".csv,text/csv", onchange: (e) => readCSV(e.target.files[0]) }, "First row: column names. One recipient per row (up to 10,000)."),
    h("div", { class: "row" },
      field("Min. pause (ms)", "minDelayMs", { type: "number", min: 0, max: 60000, inputmode: "numeric" }),
      field("Max. pause (ms)", "maxDelayMs", { type: "number", min: 0, max: 60000, inputmode: "numeric" })),
    h("p", { class: "hint muted" }, "The pause between two sends; empty: the instance's send delay."),
    mapBox, prev,
  ], async (v) => {
    if (!rows.length) throw Object.assign(new Error("choose a CSV file first"), { fields: [{ field: "csv", message: "choose a CSV file with a header row" }] });
    const m = values(mapBox);
    const names = vars();
    const recipients = rows.map((r) => {
      const o = { to: r[header.indexOf(m.toColumn)] || "" };
      if (names.length) { o.variables = {}; for (const n of names) o.variables[n] = r[header.indexOf(m["var-" + n])] || ""; }
      return o;
    });
    const body = { recipients };
    if (v.templateId) body.templateId = v.templateId; else body.text = v.text;
    if (v.minDelayMs !== "" || v.maxDelayMs !== "") {
      const min = Number(v.minDelayMs || v.maxDelayMs), max = Number(v.maxDelayMs || v.minDelayMs);
      body.pacing = { minDelayMs: min, maxDelayMs: max };
    }
    const b = await A.post(`/instances/${v.instanceId}/bulk`, body);
    go("#/bulk/" + b.id);
    return "Bulk started.";
  }, "Start bulk send");
  const tplOf = () => tpls.data.find((t) => t.id === f.elements.templateId.value);
  const vars = () => { const t = tplOf(); return t ? t.variables : []; };
  const readCSV = async (file) => {
    if (!file) return;
    if (file.size > 5 << 20) { toast("The CSV file is over 5 MB.", true); return; }
    const all = parseCSV(await file.text()).filter((r) => r.some((c) => c !== ""));
    header = (all.shift() || []).map((c) => c.trim());
    rows = all.slice(0, 10000);
    if (all.length > 10000) toast("Only the first 10,000 rows are used.", true);
    remap();
  };
  const remap = () => {
    if (!header.length) { clear(mapBox); clear(prev); return; }
    const guess = (want) => header.find((c) => c.toLowerCase() === want.toLowerCase()) || "";
    const phoneGuess = header.find((c) => /^(to|phone|number|mobile|whatsapp)/i.test(c)) || header[0];
    const sel = (label, name, def) => {
      const fl = field(label, name, { tag: "select", options: header, onchange: () => showPreview() });
      fl.querySelector("select").value = def;
      return fl;
    };
    clear(mapBox, h("h2", {}, `Columns (${rows.length} rows)`), sel("Phone column", "toColumn", phoneGuess),
      vars().map((n) => sel(`Column for {{${n}}}`, "var-" + n, guess(n) || header[0])));
    showPreview();
  };
  const showPreview = () => {
    const m = values(mapBox);
    const t = tplOf();
    const body = t ? t.body : f.elements.text.value;
    const items = rows.slice(0, 3).map((r) => {
      const vs = {};
      for (const n of vars()) vs[n] = r[header.indexOf(m["var-" + n])] || "";
      return h("li", {}, h("strong", {}, r[header.indexOf(m.toColumn)] || "(no number)"), ": ", renderLocal(body, vs));
    });
    clear(prev, h("h2", {}, "Preview of the first messages"), h("ul", { class: "bubble" }, items));
  };
  clear(el, h("h1", {}, "Bulk send"), h("section", { class: "card" }, f));
}

async function bulkProgress(el, id) {
  const bar = h("progress", { id: "bulk-progress", max: 1, value: 0, "aria-labelledby": "bulk-h" });
  const st = h("p", { id: "bulk-counts", "aria-live": "polite" });
  const btns = h("div", { class: "row" });
  let b = null;
  let shown = "";
  const render = () => {
    const done = b.total - b.queued;
    bar.max = b.total;
    bar.value = done;
    bar.dataset.done = String(done);
    bar.dataset.sent = String(b.sent + b.delivered + b.read);
    clear(st, badge(b.status, "bulk-status"), ` ${done} of ${b.total} processed · sent ${b.sent} · delivered ${b.delivered} · read ${b.read} · failed ${b.failed}`);
    // The buttons are rebuilt only when the status changes: rebuilding
    // them on every poll would take the keyboard focus away and could
    // swap a button out from under a click.
    if (b.status === shown) return;
    shown = b.status;
    const act = (label, verb) => h("button", { type: "button", class: "secondary", id: "bulk-" + verb, onclick: (e) =>
      action(e.target, () => A.post(`/bulk/${id}/${verb}`).then((x) => { gen++; if (x && x.status) { b = { ...b, ...x }; render(); } }), label + ": done.") }, label);
    clear(btns,
      b.status === "running" || b.status === "scheduled" ? act("Pause", "pause") : null,
      b.status === "paused" ? act("Resume", "resume") : null,
      ["running", "paused", "scheduled"].includes(b.status) ? act("Cancel", "cancel") : null);
  };
  // gen drops a poll that was under way when an action answered, so a
  // stale "running" cannot undo a fresh "paused".
  let gen = 0;
  const load = async () => { const g = gen; const x = await A.get("/bulk/" + enc(id)); if (g === gen) { b = x; render(); } };
  clear(el, h("p", {}, h("a", { href: "#/bulk" }, "← New bulk send")), h("h1", { id: "bulk-h" }, "Bulk progress"), bar, st, btns);
  await load();
  listen((ev) => {
    if (ev.type === "bulk.status" && ev.data && ev.data.id === id) { b = { ...b, ...ev.data }; render(); }
  });
  // Counts move with every message; a light poll keeps the bar moving
  // between bulk.status events.
  every(1500, () => { if (b && !["completed", "cancelled"].includes(b.status)) load().catch(() => {}); });
}

// ---------- audit, admin ----------

export async function auditPage(el) {
  const list = h("div", { id: "audit-list" });
  const more = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => load() }, "Load more");
  const rows = [];
  let cursor = "";
  const load = async () => {
    const out = await A.get("/audit-logs?limit=50" + (cursor ? "&cursor=" + enc(cursor) : ""));
    rows.push(...out.data);
    cursor = out.nextCursor || "";
    more.hidden = !cursor;
    clear(list, table([
      ["When", (a) => when(a.at)], ["Action", (a) => a.action],
      ["Target", (a) => a.targetType ? `${a.targetType} ${a.targetId || ""}` : "—"],
      ["Actor", (a) => a.actorApiKeyId ? "key " + a.actorApiKeyId : (a.actorUserId === state.me.user.id ? "you" : a.actorUserId || "—")],
      ["IP", (a) => a.ip || "—"],
    ], rows, "No entries."));
  };
  clear(el, h("h1", {}, "Audit log"), list, more);
  await load();
}

export async function adminPage(el) {
  const list = h("div", { id: "sub-list" });
  const load = async () => {
    const out = await A.get("/admin/subscriptions?limit=200");
    clear(list, table([
      ["Subscription", (s) => h("code", {}, s.id)],
      ["Tier", (s) => {
        const sel = h("select", { "aria-label": "Tier of " + s.id }, ["basic", "pro", "max"].map((t) => h("option", { value: t, selected: t === s.tier }, t)));
        return h("div", { class: "row" }, sel, h("button", { type: "button", class: "secondary", onclick: (e) =>
          action(e.target, () => A.patch("/admin/subscriptions/" + s.id, { tier: sel.value }), "Tier changed.").then(load) }, "Save"));
      }],
      ["Instances", (s) => `${s.instancesUsed} / ${s.instanceLimit}`],
      ["Created", (s) => when(s.createdAt)],
    ], out.data));
  };
  clear(el, h("h1", {}, "Administration"),
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => {
      // The queue monitor trades the token in the URL for its own cookie
      // and redirects it away at once.
      window.open("/admin/queues?access_token=" + enc(A.token()), "_blank", "noopener");
    } }, "Open the queue monitor (/admin/queues)"), " ", h("span", { class: "muted" }, "Needs Redis.")),
    h("h2", {}, "Subscriptions"), list);
  await load();
}
