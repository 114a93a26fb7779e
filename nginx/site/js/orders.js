// Placing orders and "My orders": each order (parent transaction) with its fills (children),
// and a Cancel button while it still rests in the book.
import * as api from "./api.js";
import { $, busy, el, fillRows, omittedRow, say, unchanged } from "./dom.js";
import * as fmt from "./format.js";
import * as stocks from "./stocks.js";

const CANCELLABLE = new Set(["IN_PROGRESS", "PARTIALLY_COMPLETE"]);
const MAX_ORDERS = 100;   // newest orders shown
const MAX_FILLS = 10;     // newest fills shown under each order (one big sell can have thousands)
const COLUMNS = 9;

export function init(afterChange) {
  const form = $("#order-form");
  const syncPrice = () => {
    const limit = form.order_type.value === "LIMIT";
    form.price.disabled = !limit;
    form.price.required = limit;
    $("#order-price-field").classList.toggle("off", !limit);
    estimate();
  };
  form.order_type.addEventListener("change", syncPrice);
  for (const name of ["stock_id", "side", "quantity", "price"]) form[name].addEventListener("input", estimate);
  syncPrice();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const order = {
      stockId: form.stock_id.value,
      isBuy: form.side.value === "buy",
      orderType: form.order_type.value,
      quantity: Number(form.quantity.value),
      price: form.order_type.value === "LIMIT" ? Number(form.price.value) : null,
    };
    await busy(form.querySelector("button[type=submit]"), "#order-msg", async () => {
      await api.placeStockOrder(order);
      const what = `${order.isBuy ? "Buy" : "Sell"} ${fmt.count(order.quantity)} ${stocks.nameOf(order.stockId)}`;
      const how = order.orderType === "LIMIT" ? ` at ${fmt.money(order.price)} (limit)` : " at market";
      say("#order-msg", `Order placed: ${what}${how}.`);
      form.quantity.value = "";
      await afterChange();
    });
  });
}

// Pre-fills the form from the prices list.
export function prefill(stockId, isBuy) {
  const form = $("#order-form");
  stocks.fillSelect(form.stock_id);
  form.stock_id.value = String(stockId);
  form.side.value = isBuy ? "buy" : "sell";
  form.order_type.value = isBuy ? "MARKET" : "LIMIT";
  form.order_type.dispatchEvent(new Event("change"));
  form.quantity.focus();
}

function estimate() {
  const form = $("#order-form");
  const hint = $("#order-estimate");
  const qty = Number(form.quantity.value);
  const limit = form.order_type.value === "LIMIT";
  const unit = limit ? Number(form.price.value) : stocks.priceOf(form.stock_id.value);
  if (!form.stock_id.value || !qty || !unit) {
    hint.textContent = limit ? "" : "Market orders fill completely at the best prices on offer, or not at all.";
    return;
  }
  const approx = limit ? "" : "about ";
  hint.textContent = `${form.side.value === "buy" ? "Costs" : "Brings"} ${approx}${fmt.money(unit * qty)}` +
    (limit ? "." : ` at the current best ask of ${fmt.money(unit)}.`);
}

export async function refresh(afterChange) {
  const items = await api.getStockTransactions();
  const body = $("#orders-body");
  if (unchanged(body, JSON.stringify([items, items.map((tx) => stocks.nameOf(tx.stock_id))]))) return items;
  const children = new Map();
  for (const tx of items) {
    if (tx.parent_stock_tx_id === null) continue;
    const list = children.get(tx.parent_stock_tx_id) || [];
    list.push(tx);
    children.set(tx.parent_stock_tx_id, list);
  }
  const parents = items.filter((tx) => tx.parent_stock_tx_id === null).reverse();   // newest first
  const rows = [];
  for (const order of parents.slice(0, MAX_ORDERS)) {
    const fills = children.get(order.stock_tx_id) || [];
    rows.push(orderRow(order, fills, afterChange));
    if (fills.length > MAX_FILLS) rows.push(omittedRow(COLUMNS, fills.length - MAX_FILLS, "fills"));
    for (const fill of fills.slice(-MAX_FILLS)) rows.push(fillRow(fill));
  }
  if (parents.length > MAX_ORDERS) rows.push(omittedRow(COLUMNS, parents.length - MAX_ORDERS, "orders"));
  fillRows(body, rows, "No orders yet.");
  return items;
}

function filledOf(order, fills) {
  if (order.order_status === "COMPLETED") return order.quantity;
  return fills.reduce((sum, f) => sum + f.quantity, 0);
}

function orderRow(order, fills, afterChange) {
  const filled = filledOf(order, fills);
  const cancel = CANCELLABLE.has(order.order_status)
    ? el("button", {
      type: "button", class: "small danger", "data-cancel": order.stock_tx_id,
      onclick: (event) => cancelOrder(event.currentTarget, order, afterChange),
    }, "Cancel")
    : null;
  return el("tr", { class: "order", dataset: { txId: order.stock_tx_id, status: order.order_status, stockId: order.stock_id } },
    el("td", {}, fmt.time(order.time_stamp)),
    el("td", {}, stocks.nameOf(order.stock_id)),
    el("td", {}, el("span", { class: `badge ${order.is_buy ? "buy" : "sell"}` }, order.is_buy ? "buy" : "sell")),
    el("td", {}, order.order_type.toLowerCase()),
    el("td", { class: "num" }, fmt.money(order.stock_price)),
    el("td", { class: "num" }, fmt.count(order.quantity)),
    el("td", { class: "num" }, fmt.count(filled)),
    el("td", {}, el("span", { class: `status s-${order.order_status.toLowerCase()}` }, fmt.status(order.order_status))),
    el("td", { class: "actions" }, cancel),
  );
}

function fillRow(fill) {
  return el("tr", { class: "fill", dataset: { txId: fill.stock_tx_id, parent: fill.parent_stock_tx_id, status: fill.order_status } },
    el("td", {}, fmt.time(fill.time_stamp)),
    el("td", { colspan: 3, class: "muted" }, `↳ fill #${fill.stock_tx_id}`),
    el("td", { class: "num" }, fmt.money(fill.stock_price)),
    el("td", { class: "num" }, fmt.count(fill.quantity)),
    el("td", {}),
    el("td", {}, el("span", { class: `status s-${fill.order_status.toLowerCase()}` }, fmt.status(fill.order_status))),
    el("td", {}),
  );
}

async function cancelOrder(button, order, afterChange) {
  await busy(button, "#orders-msg", async () => {
    await api.cancelStockTransaction(order.stock_tx_id);
    say("#orders-msg", `Order #${order.stock_tx_id} (${stocks.nameOf(order.stock_id)}) cancelled; what had not filled came back.`);
    await afterChange();
  });
}
