// Pending classic BUYs and SELLs with their 60-second windows, as a per-side stack (newest
// first, as the server keeps them). Deadlines are local clock times; they are set from the
// server's expiresAt when both clocks agree, else from "now + 60 s", and re-synced from
// DISPLAY_SUMMARY's secondsLeft.
import { el } from "./dom.js";
import * as fmt from "./format.js";

const WINDOW_MS = 60_000;
const stacks = { buy: [], sell: [] };
let list = null;
let timer = null;

export function attach(listElement) {
  list = listElement;
  render();
}

// data: the BUY/SELL response ({stock, shares, price, cost|proceeds, expiresAt}).
export function pushFromResponse(side, data, receivedAt = Date.now()) {
  let deadline = Number(data.expiresAt);
  const left = deadline - receivedAt;
  if (!(left > 0 && left <= WINDOW_MS + 2000)) deadline = receivedAt + WINDOW_MS;   // clocks disagree
  stacks[side].unshift({ stock: data.stock, shares: data.shares, price: data.price,
    amount: data.cost ?? data.proceeds, deadline });
  start();
}

// The newest live one was committed or cancelled.
export function popNewest(side) {
  const now = Date.now();
  const i = stacks[side].findIndex((p) => p.deadline > now);
  if (i >= 0) stacks[side].splice(i, 1);
  render();
}

// The server says nothing is pending on this side.
export function clear(side) {
  stacks[side] = [];
  render();
}

// From DISPLAY_SUMMARY: pendingBuys / pendingSells with secondsLeft.
export function syncFromSummary(summary, receivedAt = Date.now()) {
  for (const [side, items] of [["buy", summary.pendingBuys || []], ["sell", summary.pendingSells || []]]) {
    stacks[side] = items.map((p) => ({ stock: p.stock, shares: p.shares, price: p.price, amount: p.amount,
      deadline: receivedAt + Math.round(Number(p.secondsLeft) * 1000) }));
  }
  start();
}

function start() {
  render();
  if (!timer) timer = setInterval(render, 250);
}

function render() {
  if (!list) return;
  const now = Date.now();
  const items = [];
  for (const side of ["buy", "sell"]) {
    // Expired entries stay visible for 5 s, marked, then go (the server has released them).
    stacks[side] = stacks[side].filter((p) => p.deadline > now - 5000);
    for (const p of stacks[side]) items.push(item(side, p, now));
  }
  list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "Nothing pending.")]));
  if (!stacks.buy.length && !stacks.sell.length && timer) {
    clearInterval(timer);
    timer = null;
  }
}

function item(side, p, now) {
  const leftMs = Math.max(0, p.deadline - now);
  const seconds = Math.ceil(leftMs / 1000);
  const expired = leftMs === 0;
  const fill = el("div");
  fill.style.width = `${(leftMs / WINDOW_MS) * 100}%`;   // CSSOM, not a style attribute: the CSP forbids those
  return el("li", { class: `pending ${side}${expired ? " expired" : ""}`, dataset: { side, stock: p.stock, seconds: String(seconds) } },
    el("div", { class: "pending-line" },
      el("span", { class: `badge ${side}` }, side.toUpperCase()),
      el("span", {}, `${fmt.count(p.shares)} ${p.stock} @ ${fmt.money(p.price)} = ${fmt.money(p.amount)}`),
      el("span", { class: "countdown" }, expired ? "expired" : `${seconds} s left`),
    ),
    el("div", { class: "bar" }, fill),
  );
}
