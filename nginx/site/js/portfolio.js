// Portfolio: free shares per stock (shares escrowed in open sell orders are not shown here).
// refresh() answers the holdings, for the portfolio value samples.
import * as api from "./api.js";
import { $, el, fillRows, unchanged } from "./dom.js";
import * as fmt from "./format.js";
import * as stocks from "./stocks.js";

export async function refresh() {
  const items = await api.getStockPortfolio();
  stocks.learn(items);
  const body = $("#portfolio-body");
  if (unchanged(body, JSON.stringify([items, items.map((h) => stocks.priceOf(h.stock_id) ?? null)]))) return items;
  const rows = items.map((h) => {
    const price = stocks.priceOf(h.stock_id);
    return el("tr", { dataset: { stockId: h.stock_id, quantity: String(h.quantity_owned) } },
      el("td", {}, h.stock_name),
      el("td", { class: "num" }, fmt.count(h.quantity_owned)),
      el("td", { class: "num" }, price === undefined ? "—" : fmt.money(price)),
      el("td", { class: "num" }, price === undefined ? "—" : fmt.money(price * h.quantity_owned)),
    );
  });
  fillRows(body, rows, "You hold no shares yet.");
  return items;
}
