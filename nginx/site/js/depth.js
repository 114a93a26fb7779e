// The order book's depth for one stock (GET /engine/depth): bids and asks per price level, best
// first, each as a table row with a bar for its size. The bars are decoration (aria-hidden); the
// numbers are in the cells. On a server without the endpoint the card says so and asks again
// only every 30 s.
import * as api from "./api.js";
import { $, el, fillRows } from "./dom.js";
import * as fmt from "./format.js";

const RETRY_UNAVAILABLE_MS = 30000;
let unavailableUntil = 0;

function rows(levels, most, side) {
  return levels.map((level) => {
    const fill = el("div", { class: `depth-fill ${side}` });
    fill.style.width = `${(Number(level.quantity) / most) * 100}%`;   // CSSOM: the CSP forbids style attributes
    // Numbers in the data attributes whichever form the server sends (25 or "25.00").
    return el("tr", { dataset: { price: String(Number(level.price)), quantity: String(Number(level.quantity)) } },
      el("td", { class: "num" }, fmt.money(level.price)),
      el("td", { class: "num" }, fmt.count(level.quantity)),
      el("td", { class: "depth-bar", "aria-hidden": "true" }, fill),
    );
  });
}

function clearTables(text) {
  fillRows($("#depth-bids"), [], text);
  fillRows($("#depth-asks"), [], text);
}

function status(state, text) {
  const note = $("#depth-status");
  note.dataset.state = state;
  note.textContent = text;
}

export async function refresh(stockId) {
  if (!stockId) {
    status("none", "Choose a stock to see its book.");
    clearTables("—");
    return;
  }
  if (Date.now() < unavailableUntil) return;
  let book;
  try {
    book = await api.getDepth(stockId);
  } catch (err) {
    unavailableUntil = Date.now() + RETRY_UNAVAILABLE_MS;
    clearTables("Not available.");
    status("unavailable", `Depth is not available from this server (${err.message}).`);
    return;
  }
  unavailableUntil = 0;
  const bids = book?.bids || [];
  const asks = book?.asks || [];
  const most = Math.max(1, ...bids.map((l) => Number(l.quantity)), ...asks.map((l) => Number(l.quantity)));
  fillRows($("#depth-bids"), rows(bids, most, "bid"), "No bids.");
  fillRows($("#depth-asks"), rows(asks, most, "ask"), "No asks.");
  status("ok", `${bids.length} bid and ${asks.length} ask levels, best first; updated ${fmt.clock(Date.now())}.`);
}

// A new stock is chosen: ask at once even after an unavailable answer.
export function retrySoon() {
  unavailableUntil = 0;
}
