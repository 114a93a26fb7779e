// Portfolio value over time: samples of free cash + Σ free shares × current price, taken by the
// page whenever the overview refreshes (the server keeps no such history). Kept for the tab in
// sessionStorage, so a reload keeps the curve; logging out forgets it.
import { $ } from "./dom.js";
import * as fmt from "./format.js";
import * as stocks from "./stocks.js";
import * as svgchart from "./svgchart.js";

const KEY = "daytrade.worth";
const MAX_SAMPLES = 500;
const STEADY_MS = 30000;   // an unchanged value is sampled again only this often
let samples = JSON.parse(sessionStorage.getItem(KEY) || "[]");

// balance: getWalletBalance's; holdings: getStockPortfolio's items.
export function sample(balance, holdings) {
  if (typeof balance !== "number" || !Array.isArray(holdings)) return;
  let shares = 0;
  for (const h of holdings) shares += (stocks.priceOf(h.stock_id) ?? 0) * h.quantity_owned;
  const value = Math.round((balance + shares) * 100) / 100;
  const now = Date.now();
  const last = samples[samples.length - 1];
  if (!last || last.v !== value || now - last.t >= STEADY_MS) {
    samples.push({ t: now, v: value });
    if (samples.length > MAX_SAMPLES) samples = samples.slice(-MAX_SAMPLES);
    sessionStorage.setItem(KEY, JSON.stringify(samples));
  }
  render(balance, shares);
}

function render(balance, shares) {
  const box = $("#worth-chart");
  const last = samples[samples.length - 1];
  const first = samples[0];
  const change = last.v - first.v;
  const label = `Portfolio value ${fmt.money(last.v)} (cash ${fmt.money(balance)} + shares ${fmt.money(shares)}); ` +
    `${change >= 0 ? "up" : "down"} ${fmt.money(Math.abs(change))} over ${samples.length} samples since ${fmt.clock(first.t)}`;
  svgchart.draw(box, samples, { label, height: 160 });
  $("#worth-summary").textContent = label + ".";
}

export function forget() {
  samples = [];
  sessionStorage.removeItem(KEY);
}
