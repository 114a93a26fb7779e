// Trades per stock, for the price charts. Two sources: the stream's public `trade` events (every
// trade, live) and the caller's own fills over REST (all the page can know without the stream).
// The same trade can arrive from both: a REST fill is dropped when a streamed trade of the same
// price and quantity lies within a few seconds of it, and the other way round.
const MAX_PER_STOCK = 300;
const SAME_TRADE_MS = 3000;
const series = new Map();      // stock_id → [{t, price, quantity, source}], oldest first
const seenFills = new Set();   // stock_tx_ids already taken from REST

function listFor(stockId) {
  const id = String(stockId);
  if (!series.has(id)) series.set(id, []);
  return series.get(id);
}

function duplicate(list, trade) {
  return list.some((o) => o.source !== trade.source && o.price === trade.price && o.quantity === trade.quantity &&
    Math.abs(o.t - trade.t) <= SAME_TRADE_MS);
}

function add(stockId, trade) {
  const list = listFor(stockId);
  if (!Number.isFinite(trade.price) || !Number.isFinite(trade.t) || duplicate(list, trade)) return false;
  list.push(trade);
  list.sort((a, b) => a.t - b.t);
  if (list.length > MAX_PER_STOCK) list.splice(0, list.length - MAX_PER_STOCK);
  return true;
}

// data: the stream's trade event ({stock_id, price: 12 | "12.50", quantity, time_ms}).
export function fromStream(data) {
  return add(data.stock_id, { t: Number(data.time_ms), price: Number(data.price), quantity: Number(data.quantity), source: "stream" });
}

// items: getStockTransactions. A trade is a fill (a child), or an order that completed with no
// children (a taker filled at once is recorded on its own row).
export function fromTransactions(items) {
  const parents = new Set(items.map((tx) => tx.parent_stock_tx_id).filter((id) => id !== null));
  for (const tx of items) {
    const isFill = tx.parent_stock_tx_id !== null || (tx.order_status === "COMPLETED" && !parents.has(tx.stock_tx_id));
    if (!isFill || tx.order_status !== "COMPLETED" || seenFills.has(tx.stock_tx_id)) continue;
    seenFills.add(tx.stock_tx_id);
    add(tx.stock_id, { t: Date.parse(tx.time_stamp), price: Number(tx.stock_price), quantity: Number(tx.quantity), source: "rest" });
  }
}

export const of = (stockId) => listFor(stockId);
