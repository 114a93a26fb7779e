// Stock names by id. The API's transaction lists carry only stock_id, so names are learnt from
// getStockPrices, getStockPortfolio and createStock, and remembered for this tab.
import { el } from "./dom.js";

const KEY = "daytrade.stocks";
const names = new Map(Object.entries(JSON.parse(sessionStorage.getItem(KEY) || "{}")));
const prices = new Map();   // stock_id → current_price (latest getStockPrices)
const listeners = new Set();

function changed() {
  sessionStorage.setItem(KEY, JSON.stringify(Object.fromEntries(names)));
  for (const listener of listeners) listener();
}

// Records id → name pairs from any list of {stock_id, stock_name}.
export function learn(items) {
  let dirty = false;
  for (const { stock_id: id, stock_name: name } of items) {
    if (id && name && names.get(String(id)) !== name) {
      names.set(String(id), name);
      dirty = true;
    }
  }
  if (dirty) changed();
}

export function setPrices(items) {
  prices.clear();
  for (const item of items) prices.set(String(item.stock_id), item.current_price);
  learn(items);
}

export const priceOf = (id) => prices.get(String(id));
export const nameOf = (id) => names.get(String(id)) || `stock #${id}`;
export const onChange = (listener) => listeners.add(listener);

export function forget() {
  names.clear();
  prices.clear();
  sessionStorage.removeItem(KEY);
}

// Fills a <select> with every known stock (creation order = ascending id), keeping the choice.
export function fillSelect(select, placeholder = "choose a stock") {
  const current = select.value;
  const ids = [...names.keys()].sort((a, b) => Number(a) - Number(b));
  select.replaceChildren(
    el("option", { value: "" }, ids.length ? placeholder : "no stocks yet — create one under Trade"),
    ...ids.map((id) => el("option", { value: id }, `${names.get(id)} (#${id})`)),
  );
  if (ids.includes(current)) select.value = current;
}
