// Start-up, the views (#overview, #market, #trade, #orders, #history, #classic) and the refresh
// loop (polling; the live stream, when there is one, triggers refreshes and slows the polling).
import * as api from "./api.js";
import * as auth from "./auth.js";
import * as classic from "./classic.js";
import { $, $$ } from "./dom.js";
import * as history from "./history.js";
import * as live from "./live.js";
import * as market from "./market.js";
import * as orders from "./orders.js";
import * as portfolio from "./portfolio.js";
import * as prices from "./prices.js";
import * as session from "./session.js";
import * as setup from "./setup.js";
import * as stocks from "./stocks.js";
import * as wallet from "./wallet.js";
import * as worth from "./worth.js";

const VIEWS = ["overview", "market", "trade", "orders", "history", "classic"];
const NOTICE = "daytrade.notice";   // why the last session ended, shown once on the login page

let current = "overview";
let polling = null;
let inFlight = false;
let again = false;   // a refresh was asked for while one ran

const openTrade = (stockId, isBuy) => {
  location.hash = "#trade";
  orders.prefill(stockId, isBuy);
};

// What each view shows, fetched fresh.
const loaders = {
  overview: () => Promise.all([wallet.refreshBalance(), prices.refresh(openTrade).then(portfolio.refresh)])
    .then(([balance, holdings]) => worth.sample(balance, holdings)),
  market: () => market.refresh(),
  trade: () => Promise.all([wallet.refreshBalance(), prices.refresh(openTrade).then(portfolio.refresh)]),
  orders: () => orders.refresh(afterChange),
  history: () => Promise.all([wallet.refreshTransactions(), orders.refresh(afterChange).then(history.render)]),
  classic: () => wallet.refreshBalance(),
};

async function refreshView() {
  if (!session.isLoggedIn()) return;
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  again = false;
  try {
    await loaders[current]();
    showNetwork("");
  } catch (err) {
    if (session.isLoggedIn()) showNetwork(`Could not refresh: ${err.message}`);
  } finally {
    inFlight = false;
  }
  if (again) refreshView();
}

// After anything that moves money or shares: reload what the current view shows.
async function afterChange() {
  inFlight = false;
  await refreshView();
}

function showNetwork(text) {
  const box = $("#net-status");
  box.textContent = text;
  box.hidden = !text;
}

function route() {
  const [wanted, stockId] = location.hash.replace(/^#\/?/, "").split("/");   // #market/<stock id>
  if (!session.isLoggedIn()) {
    show("login");
    return;
  }
  current = VIEWS.includes(wanted) ? wanted : "overview";
  if (current === "market" && stockId) market.choose(stockId);
  show(current);
  refreshView();
}

function show(view) {
  const loggedIn = view !== "login";
  $("#view-login").hidden = loggedIn;
  for (const name of VIEWS) $(`#view-${name}`).hidden = name !== view;
  $("#nav").hidden = !loggedIn;
  $("#whoami").hidden = !loggedIn;
  for (const link of $$("#nav a")) link.classList.toggle("active", link.getAttribute("href") === `#${view}`);
  for (const node of $$("[data-user]")) node.textContent = session.userName() || "";
  document.title = loggedIn ? `DayTrade — ${view}` : "DayTrade — log in";
  if (loggedIn && !polling) {
    live.start(refreshView, () => {
      clearTimeout(polling);
      poll();
    });
    poll();
  }
}

// One refresh per period; the period follows the stream's mode (live.pollEvery).
function poll() {
  polling = setTimeout(() => {
    if (document.visibilityState === "visible") refreshView();
    poll();
  }, live.pollEvery());
}

// Logging out reloads the page, so nothing of the last user (tables, pending countdowns, the
// classic command log) survives into the next one's session; a reason is shown after the reload.
function logOut(reason) {
  session.end();
  stocks.forget();
  worth.forget();
  if (reason) sessionStorage.setItem(NOTICE, reason);
  location.replace(location.pathname);
}

api.setUnauthorizedHandler((message) => logOut(message));
auth.init(() => {
  location.hash = "#overview";
  route();
});
wallet.init(afterChange);
setup.init(afterChange);
orders.init(afterChange);
classic.init(afterChange);
market.init(() => refreshView());
stocks.onChange(() => {
  for (const select of $$("select[data-stocks]")) stocks.fillSelect(select);
});
for (const select of $$("select[data-stocks]")) stocks.fillSelect(select);
$("#logout").addEventListener("click", () => logOut());
window.addEventListener("hashchange", route);
const notice = sessionStorage.getItem(NOTICE);
if (notice) {
  sessionStorage.removeItem(NOTICE);
  auth.showExpired(notice);
}
route();
