// Small DOM helpers: no framework, no innerHTML with data (text only), so
// nothing the API returns can inject markup.

export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
}

const svgNS = "http://www.w3.org/2000/svg";
export function s(tag, attrs, ...kids) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined) el.setAttribute(k, v);
  append(el, kids);
  return el;
}

export function clear(el, ...kids) { el.replaceChildren(); append(el, kids); return el; }

export function toast(msg, bad = false) {
  const box = document.getElementById("toast");
  const d = h("div", { class: bad ? "bad" : "" }, msg);
  box.append(d);
  setTimeout(() => d.remove(), bad ? 8000 : 4000);
}

export function badge(status, id) {
  return h("span", { class: "badge s-" + status, "data-status": status, id }, status || "—");
}

let uid = 0;
// field is a labelled input with a hint and a slot for the API's error.
export function field(label, name, attrs = {}, hint) {
  const id = "f" + ++uid;
  const tag = attrs.tag || "input";
  delete attrs.tag;
  const opts = attrs.options;
  delete attrs.options;
  const input = h(tag, { id, name, "aria-describedby": id + "-e" + (hint ? " " + id + "-h" : ""), ...attrs });
  if (opts) for (const o of opts) input.append(typeof o === "string" ? h("option", { value: o }, o) : h("option", { value: o[0] }, o[1]));
  return h("div", { class: "field", "data-field": name },
    h("label", { for: id }, label), input,
    hint ? h("span", { class: "hint", id: id + "-h" }, hint) : null,
    h("span", { class: "err", id: id + "-e" }));
}

// form wires a submit handler: the button shows progress, the API's field
// errors land next to their fields, other errors under the form.
export function form(attrs, kids, onsubmit, submitLabel) {
  const btn = h("button", { type: "submit" }, submitLabel);
  const out = h("p", { class: "result", role: "status", "aria-live": "polite" });
  const f = h("form", { novalidate: true, ...attrs }, kids, h("div", { class: "row" }, btn), out);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(f);
    btn.disabled = true;
    const label = btn.textContent;
    btn.textContent = label + "…";
    out.className = "result muted";
    out.textContent = "Working…";
    try {
      const msg = await onsubmit(values(f), f);
      out.className = "result";
      out.textContent = msg || "Done.";
    } catch (err) {
      showError(f, err, out);
    } finally {
      btn.disabled = false;
      btn.textContent = label;
    }
  });
  return f;
}

export function values(f) {
  const v = {};
  for (const el of f.elements || f.querySelectorAll("input,select,textarea")) {
    if (!el.name) continue;
    if (el.type === "checkbox") {
      if (el.dataset.group) { (v[el.dataset.group] ||= []); if (el.checked) v[el.dataset.group].push(el.value); }
      else v[el.name] = el.checked;
    } else if (el.type === "file") v[el.name] = el.files[0];
    else v[el.name] = el.value.trim();
  }
  return v;
}

export function clearErrors(f) {
  for (const e of f.querySelectorAll(".err")) e.textContent = "";
  for (const e of f.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
}

export function showError(f, err, out) {
  let placed = 0;
  const rest = [];
  for (const fe of err.fields || []) {
    const full = String(fe.field || "");
    const parts = full.split(/[.[\]]+/).filter(Boolean);
    let box = null;
    for (const name of [full, parts[parts.length - 1], parts[0]]) {
      if (name && (box = f.querySelector(`[data-field="${CSS.escape(name)}"]`))) break;
    }
    if (!box) { rest.push(`${full}: ${fe.message}`); continue; }
    box.querySelector(".err").textContent = fe.message;
    const input = box.querySelector("input,select,textarea");
    if (input) { input.setAttribute("aria-invalid", "true"); if (!placed) input.focus(); }
    placed++;
  }
  out.className = "result error";
  out.textContent = (err.message || "Failed") + (err.status ? ` (${err.status}${err.code ? " " + err.code : ""})` : "") +
    (rest.length ? " — " + rest.slice(0, 5).join("; ") + (rest.length > 5 ? ` (and ${rest.length - 5} more)` : "") : "");
}

// action runs fn behind a button with progress and a result message.
export async function action(btn, fn, done) {
  btn.disabled = true;
  const label = btn.textContent;
  btn.textContent = label + "…";
  try {
    const r = await fn();
    if (done) toast(typeof done === "function" ? done(r) : done);
    return r;
  } catch (err) {
    toast((err.message || "Failed") + (err.status ? ` (${err.status})` : ""), true);
  } finally {
    btn.disabled = false;
    btn.textContent = label;
  }
}

export function when(t) {
  if (!t) return "—";
  const d = new Date(t);
  return d.toLocaleString();
}

export function table(cols, rows, empty = "Nothing yet.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c[0] || h("span", { class: "sr" }, "Actions"))))),
    h("tbody", {}, rows.map((r) => h("tr", {}, cols.map((c) => h("td", {}, c[1](r))))))));
}

// keyed renders items as parent's children by key and rebuilds only the
// children whose signature changed, so a poll that finds nothing new leaves
// the controls (and the keyboard focus) alone. A rebuilt child that held the
// focus hands it to its counterpart with the same data-k.
export function keyed(parent, items, key, sig, build) {
  const old = new Map([...parent.children].map((c) => [c.dataset.key, c]));
  let prev = null;
  for (const it of items) {
    const k = String(key(it)), s = sig(it);
    let el = old.get(k);
    old.delete(k);
    if (!el || el.dataset.sig !== s) {
      const next = build(it);
      next.dataset.key = k;
      next.dataset.sig = s;
      const focus = el && el.contains(document.activeElement) ? document.activeElement.dataset.k : "";
      if (el) el.replaceWith(next);
      el = next;
      if (focus) { const f = el.querySelector(`[data-k="${CSS.escape(focus)}"]`); if (f) f.focus(); }
    }
    const want = prev ? prev.nextSibling : parent.firstChild;
    if (want !== el) parent.insertBefore(el, want);
    prev = el;
  }
  for (const el of old.values()) el.remove();
}

export function copyButton(text, label = "Copy") {
  const b = h("button", { type: "button", class: "secondary", onclick: async () => {
    try { await navigator.clipboard.writeText(text); toast("Copied."); } catch { toast("Copy failed: select the text and copy it.", true); }
  } }, label);
  return b;
}
