// Tiny DOM helpers: element lookup, element building, per-card messages, busy buttons.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

// el("td", {class: "num"}, "12") — attributes starting with "on" become listeners; "dataset"
// takes an object; children may be strings, nodes, or arrays of them (null/false skipped).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

// Shows a message in a card's .msg element; errors stay until the next action, successes fade.
export function say(target, text, kind = "ok") {
  const box = typeof target === "string" ? $(target) : target;
  if (!box) return;
  clearTimeout(box._fade);
  box.textContent = text;
  box.className = `msg msg-${kind}`;
  box.hidden = !text;
  if (kind === "ok" && text) box._fade = setTimeout(() => (box.hidden = true), 6000);
}

// Runs an async action with the button disabled, reporting a thrown error in `msgBox`.
export async function busy(button, msgBox, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (err) {
    say(msgBox, err.message, "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// Most rows a history table shows (the load tests make users with tens of thousands).
export const MAX_ROWS = 200;

// True when tbody already shows the data with this key (e.g. the data as JSON); otherwise
// remembers the key. Polling then never swaps a button out from under the pointer.
export function unchanged(tbody, key) {
  if (tbody.dataset.key === key) return true;
  tbody.dataset.key = key;
  return false;
}

// A full-width row saying how many older rows are left out.
export function omittedRow(columns, count, what) {
  return el("tr", { class: "omitted" }, el("td", { colspan: columns, class: "muted" }, `… ${count.toLocaleString("en-US")} older ${what} not shown`));
}

// Replaces a table body's rows, or shows one "empty" row spanning the table. Each cell gets
// data-label = its column's header, which the phone layout shows beside the value.
export function fillRows(tbody, rows, emptyText) {
  const headers = Array.from(tbody.closest("table").querySelectorAll("thead th"), (th) => th.textContent.trim());
  if (!rows.length) rows = [el("tr", { class: "empty" }, el("td", { colspan: headers.length || 1 }, emptyText))];
  for (const row of rows) {
    let column = 0;
    for (const cell of row.cells) {
      if (headers[column] && cell.colSpan === 1) cell.dataset.label = headers[column];
      column += cell.colSpan;
    }
  }
  tbody.replaceChildren(...rows);
}
