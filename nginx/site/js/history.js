// Stock transaction history: every stock transaction as the API lists it (orders and their
// fills, oldest first in the API; newest first here).
import { $, el, fillRows, MAX_ROWS, omittedRow, unchanged } from "./dom.js";
import * as fmt from "./format.js";
import * as stocks from "./stocks.js";

export function render(items) {
  const body = $("#stock-tx-body");
  if (unchanged(body, JSON.stringify([items, items.map((tx) => stocks.nameOf(tx.stock_id))]))) return;
  const rows = items.slice(-MAX_ROWS).reverse().map((tx) =>
    el("tr", { dataset: { txId: tx.stock_tx_id, status: tx.order_status } },
      el("td", {}, fmt.time(tx.time_stamp)),
      el("td", { class: "num" }, `#${tx.stock_tx_id}`),
      el("td", { class: "num muted" }, tx.parent_stock_tx_id === null ? "—" : `#${tx.parent_stock_tx_id}`),
      el("td", {}, stocks.nameOf(tx.stock_id)),
      el("td", {}, `${tx.is_buy ? "buy" : "sell"} ${tx.order_type.toLowerCase()}`),
      el("td", { class: "num" }, fmt.money(tx.stock_price)),
      el("td", { class: "num" }, fmt.count(tx.quantity)),
      el("td", {}, el("span", { class: `status s-${tx.order_status.toLowerCase()}` }, fmt.status(tx.order_status))),
      el("td", { class: "num muted" }, tx.wallet_tx_id === null ? "—" : `#${tx.wallet_tx_id}`),
    ));
  if (items.length > MAX_ROWS) rows.push(omittedRow(9, items.length - MAX_ROWS, "stock transactions"));
  fillRows(body, rows, "No stock transactions yet.");
}
