// Every call to the DayTrade API goes through here: JSON in and out, the token header, and the
// {"success", "data"} envelope unwrapped. Failures become ApiError with the server's own words
// (data.error), so the page can show them as they are.
import * as session from "./session.js";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

// Called when the server rejects our token (expired or signed with an old secret).
let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

// logout401: false for optional endpoints (the stream, depth), whose refusal must not end the session.
async function call(method, path, body, { logout401 = true } = {}) {
  const headers = { "Content-Type": "application/json" };
  const tok = session.token();
  if (tok) headers.token = tok;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(`cannot reach the server (${err.message})`, 0);
  }
  let envelope = null;
  try {
    envelope = await response.json();
  } catch {
    // Not JSON (e.g. an HTML error page from a proxy): fall through with the status line.
  }
  if (response.ok && envelope && envelope.success === true) return envelope.data;
  const message = errorText(envelope) || `${response.status} ${response.statusText || "request failed"}`;
  if (response.status === 401 && tok && logout401) onUnauthorized(message);
  throw new ApiError(message, response.status);
}

// data.error is the contract; a plain string or a top-level error are tolerated.
function errorText(envelope) {
  if (!envelope) return "";
  const data = envelope.data;
  if (data && typeof data === "object" && typeof data.error === "string") return data.error;
  if (typeof data === "string") return data;
  if (typeof envelope.error === "string") return envelope.error;
  return "";
}

// --- platform API (spec/platform.md §1.2) ---

export const register = (userName, password, name) =>
  call("POST", "/authentication/register", { user_name: userName, password, name });
export const login = (userName, password) =>
  call("POST", "/authentication/login", { user_name: userName, password });

export const createStock = (stockName) => call("POST", "/setup/createStock", { stock_name: stockName });
export const addStockToUser = (stockId, quantity) =>
  call("POST", "/setup/addStockToUser", { stock_id: String(stockId), quantity });

export const getStockPrices = () => call("GET", "/transaction/getStockPrices");
export const getStockPortfolio = () => call("GET", "/transaction/getStockPortfolio");
export const addMoneyToWallet = (amount) => call("POST", "/transaction/addMoneyToWallet", { amount });
export const getWalletBalance = () => call("GET", "/transaction/getWalletBalance");
export const getWalletTransactions = () => call("GET", "/transaction/getWalletTransactions");
export const getStockTransactions = () => call("GET", "/transaction/getStockTransactions");

// price: whole currency units for LIMIT, null for MARKET.
export const placeStockOrder = ({ stockId, isBuy, orderType, quantity, price }) =>
  call("POST", "/engine/placeStockOrder", {
    stock_id: String(stockId),
    is_buy: isBuy,
    order_type: orderType,
    quantity,
    price: orderType === "LIMIT" ? price : null,
  });
// Live data (issue 14). Both may be missing on an older server: the page then polls.
export const streamTicket = () => call("POST", "/engine/streamTicket", {}, { logout401: false });
export const getDepth = (stockId) =>
  call("GET", `/engine/depth?stock_id=${encodeURIComponent(stockId)}`, undefined, { logout401: false });

export const cancelStockTransaction = (stockTxId) =>
  call("POST", "/engine/cancelStockTransaction", { stock_tx_id: String(stockTxId) });

// --- classic commands: POST /classic/<COMMAND> ---

// fields: {stock, amount} as the command needs; userid is always the logged-in user.
export const classic = (command, fields = {}) =>
  call("POST", `/classic/${command}`, { userid: session.userName(), ...fields });
