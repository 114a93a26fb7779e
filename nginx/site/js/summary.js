// Renders a DISPLAY_SUMMARY answer: cash, holdings, pending BUY/SELLs, triggers, recent log.
import { el, fillRows } from "./dom.js";
import * as fmt from "./format.js";

// headers: labels; a label ending in "#" is a numeric (right-aligned) column.
function table(headers, rows, emptyText) {
  const tbody = el("tbody");
  const node = el("div", { class: "table-wrap" },
    el("table", { class: "stack" },
      el("thead", {}, el("tr", {}, headers.map((h) => h.endsWith("#") ? el("th", { class: "num" }, h.slice(0, -1)) : el("th", {}, h)))),
      tbody));
  fillRows(tbody, rows, emptyText);
  return node;
}

export function render(container, s) {
  const holdings = (s.holdings || []).map((h) =>
    el("tr", {}, el("td", {}, h.stock), el("td", { class: "num" }, fmt.count(h.shares)), el("td", { class: "num" }, fmt.count(h.reserved))));
  const pending = [...(s.pendingBuys || []).map((p) => ["BUY", p]), ...(s.pendingSells || []).map((p) => ["SELL", p])]
    .map(([side, p]) => el("tr", {},
      el("td", {}, side), el("td", {}, p.stock), el("td", { class: "num" }, fmt.count(p.shares)),
      el("td", { class: "num" }, fmt.money(p.price)), el("td", { class: "num" }, fmt.money(p.amount)),
      el("td", { class: "num" }, `${Math.ceil(Number(p.secondsLeft))} s`)));
  const triggers = (s.triggers || []).map((t) => el("tr", {},
    el("td", {}, t.side), el("td", {}, t.stock), el("td", { class: "num" }, fmt.money(t.amount)),
    el("td", { class: "num" }, t.triggerPrice === null ? "not set" : fmt.money(t.triggerPrice)),
    el("td", { class: "num" }, t.side === "buy" ? fmt.money(t.reservedCash) : `${fmt.count(t.reservedShares)} shares`)));
  const recent = (s.recent || []).map((e) => el("tr", {},
    el("td", {}, new Date(e.timestamp).toLocaleTimeString()),
    el("td", { class: "num" }, `#${e.transactionNum}`),
    el("td", {}, e.type),
    el("td", {}, describe(e))));

  container.replaceChildren(
    el("div", { class: "stats" },
      el("div", {}, el("span", { class: "label" }, "Free cash"), el("strong", { id: "summary-free" }, fmt.money(s.cash?.free))),
      el("div", {}, el("span", { class: "label" }, "Reserved cash"), el("strong", {}, fmt.money(s.cash?.reserved))),
    ),
    el("h3", {}, "Holdings"), table(["Stock", "Free shares#", "Reserved#"], holdings, "No shares."),
    el("h3", {}, "Pending"), table(["Side", "Stock", "Shares#", "Price#", "Amount#", "Left#"], pending, "Nothing pending."),
    el("h3", {}, "Triggers"), table(["Side", "Stock", "Amount#", "Trigger#", "Reserved#"], triggers, "No triggers."),
    el("h3", {}, "Recent activity"), table(["Time", "Txn#", "Type", "Details"], recent, "No activity yet."),
  );
}

// One audit entry in words.
function describe(e) {
  switch (e.type) {
    case "userCommand": return [e.command, e.stockSymbol, e.funds && fmt.money(e.funds)].filter(Boolean).join(" ");
    case "accountTransaction": return `${e.action} ${fmt.money(e.funds)}`;
    case "quoteServer": return `quote ${e.stockSymbol} ${fmt.money(e.price)}`;
    case "systemEvent": return [e.command, e.stockSymbol, e.funds && fmt.money(e.funds)].filter(Boolean).join(" ");
    case "errorEvent": return e.errorMessage || e.command || "error";
    default: return e.command || e.debugMessage || "";
  }
}
