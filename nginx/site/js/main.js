// Start-up, the views (#overview, #trade, #orders, #history, #classic) and the refresh loop.
import * as api from "./api.js";
import * as auth from "./auth.js";
import * as classic from "./classic.js";
import { $, $$ } from "./dom.js";
import * as history from "./history.js";
import * as orders from "./orders.js";
import * as portfolio from "./portfolio.js";
import * as prices from "./prices.js";
import * as session from "./session.js";
import * as setup from "./setup.js";
import * as stocks from "./stocks.js";
import * as wallet from "./wallet.js";

const VIEWS = ["overview", "trade", "orders", "history", "classic"];
const POLL_MS = 3000;
const NOTICE = "daytrade.notice";   // why the last session ended, shown once on the login page

let current = "overview";
let polling = null;
let inFlight = false;

const openTrade = (stockId, isBuy) => {
  location.hash = "#trade";
  orders.prefill(stockId, isBuy);
};

// What each view shows, fetched fresh.
const loaders = {
  overview: () => Promise.all([wallet.refreshBalance(), prices.refresh(openTrade).then(portfolio.refresh)]),
  trade: () => Promise.all([wallet.refreshBalance(), prices.refresh(openTrade).then(portfolio.refresh)]),
  orders: () => orders.refresh(afterChange),
  history: () => Promise.all([wallet.refreshTransactions(), orders.refresh(afterChange).then(history.render)]),
  classic: () => wallet.refreshBalance(),
};

async function refreshView() {
  if (!session.isLoggedIn() || inFlight) return;
  inFlight = true;
  try {
    await loaders[current]();
    showNetwork("");
  } catch (err) {
    if (session.isLoggedIn()) showNetwork(`Could not refresh: ${err.message}`);
  } finally {
    inFlight = false;
  }
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
  const wanted = location.hash.replace(/^#\/?/, "");
  if (!session.isLoggedIn()) {
    show("login");
    return;
  }
  current = VIEWS.includes(wanted) ? wanted : "overview";
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
    polling = setInterval(() => {
      if (document.visibilityState === "visible") refreshView();
    }, POLL_MS);
  }
  if (!loggedIn && polling) {
    clearInterval(polling);
    polling = null;
  }
}

// Logging out reloads the page, so nothing of the last user (tables, pending countdowns, the
// classic command log) survives into the next one's session; a reason is shown after the reload.
function logOut(reason) {
  session.end();
  stocks.forget();
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
