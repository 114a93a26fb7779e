// Live stock prices (best ask, else last trade), polled while the tab is visible.
import * as api from "./api.js";
import { $, el, fillRows, unchanged } from "./dom.js";
import * as fmt from "./format.js";
import * as stocks from "./stocks.js";

const previous = new Map();   // stock_id → last shown price, to mark moves

// onTrade(stockId, isBuy) opens the order form for that stock.
export async function refresh(onTrade) {
  const items = await api.getStockPrices();
  stocks.setPrices(items);
  $("#prices-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  const body = $("#prices-body");
  if (unchanged(body, JSON.stringify(items))) return;
  const rows = items.map((p) => {
    const before = previous.get(p.stock_id);
    const move = before === undefined || before === p.current_price ? "" : p.current_price > before ? "up" : "down";
    previous.set(p.stock_id, p.current_price);
    return el("tr", { dataset: { stockId: p.stock_id } },
      el("td", {}, el("a", { href: `#market/${p.stock_id}`, title: `Chart and depth of ${p.stock_name}` }, p.stock_name)),
      el("td", { class: `num price ${move}` }, fmt.money(p.current_price)),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "small", onclick: () => onTrade(p.stock_id, true) }, "Buy"),
        el("button", { type: "button", class: "small secondary", onclick: () => onTrade(p.stock_id, false) }, "Sell"),
      ),
    );
  });
  fillRows(body, rows, "No stock is on offer yet.");
}
