// The Market view: one stock's price chart (its trades), its recent trades as a table (the
// chart's text alternative), and its book's depth.
import * as api from "./api.js";
import * as depth from "./depth.js";
import { $, el, fillRows, unchanged } from "./dom.js";
import * as fmt from "./format.js";
import * as stocks from "./stocks.js";
import * as svgchart from "./svgchart.js";
import * as trades from "./trades.js";

const TABLE_ROWS = 10;
let chosen = "";

export function init(onChoose) {
  const select = $("#market-stock");
  select.addEventListener("change", () => {
    chosen = select.value;
    depth.retrySoon();
    onChoose(chosen);
  });
}

// From the route (#market/<id>) or the prices list.
export function choose(stockId) {
  chosen = String(stockId || "");
  depth.retrySoon();
}

export const current = () => chosen;

// The first stock with a price, when none is chosen yet.
function ensureChoice(prices) {
  if (!chosen && prices.length) chosen = String(prices[0].stock_id);
  if (chosen) $("#market-stock").value = chosen;   // its options follow stocks.onChange
}

export async function refresh() {
  const [prices, txs] = await Promise.all([api.getStockPrices(), api.getStockTransactions()]);
  stocks.setPrices(prices);
  trades.fromTransactions(txs);
  ensureChoice(prices);
  renderChart();
  await depth.refresh(chosen);
}

// Also called on every streamed trade of the chosen stock.
export function renderChart() {
  const box = $("#price-chart");
  if (!box) return;
  const list = chosen ? trades.of(chosen) : [];
  const name = chosen ? stocks.nameOf(chosen) : "no stock";
  const price = chosen ? stocks.priceOf(chosen) : undefined;
  const last = list[list.length - 1];
  const label = last
    ? `${name}: ${list.length} trade${list.length === 1 ? "" : "s"}, last ${fmt.money(last.price)} at ${fmt.clock(last.t)}` +
      (price === undefined ? "" : `; current price ${fmt.money(price)}`)
    : `${name}: no trades seen yet` + (price === undefined ? "" : `; current price ${fmt.money(price)}`);
  // The current price continues the line to now (dashed); with no trade yet it is the only level.
  const current = price === undefined ? null : { t: Date.now(), v: price };
  const points = list.length ? list.map((tr) => ({ t: tr.t, v: tr.price })) : current ? [current] : [];
  svgchart.draw(box, points, { label, step: true, now: list.length ? current : null });
  box.dataset.trades = String(list.length);
  $("#chart-summary").textContent = label + ".";
  renderTable(list);
}

function renderTable(list) {
  const body = $("#trades-body");
  const recent = list.slice(-TABLE_ROWS).reverse();
  if (unchanged(body, JSON.stringify([chosen, recent]))) return;
  fillRows(body, recent.map((tr) => el("tr", {},
    el("td", {}, fmt.clock(tr.t)),
    el("td", { class: "num" }, fmt.money(tr.price)),
    el("td", { class: "num" }, fmt.count(tr.quantity)),
  )), "No trades seen yet: the stream shows everyone's, without it only your own fills are known.");
}
