// The classic command panel: POST /classic/<COMMAND> as the logged-in user. Buttons carry
// data-command; the fields (stock, amount) come from the button's own form.
import * as api from "./api.js";
import * as countdown from "./countdown.js";
import { $, $$, busy, el, say } from "./dom.js";
import * as fmt from "./format.js";
import * as summary from "./summary.js";

// Which fields each command sends (from its form).
const FIELDS = {
  ADD: ["amount"], QUOTE: ["stock"],
  BUY: ["stock", "amount"], SELL: ["stock", "amount"],
  COMMIT_BUY: [], CANCEL_BUY: [], COMMIT_SELL: [], CANCEL_SELL: [],
  SET_BUY_AMOUNT: ["stock", "amount"], SET_BUY_TRIGGER: ["stock", "amount"], CANCEL_SET_BUY: ["stock"],
  SET_SELL_AMOUNT: ["stock", "amount"], SET_SELL_TRIGGER: ["stock", "amount"], CANCEL_SET_SELL: ["stock"],
  DISPLAY_SUMMARY: [],
};
const READ_ONLY = new Set(["QUOTE", "DISPLAY_SUMMARY"]);
const MAX_LOG = 25;

export function init(afterChange) {
  countdown.attach($("#classic-pending"));
  for (const form of $$("#view-classic form")) form.addEventListener("submit", (e) => e.preventDefault());
  for (const button of $$("#view-classic [data-command]")) {
    button.addEventListener("click", () => run(button, afterChange));
  }
}

function fieldsFor(command, form) {
  const out = {};
  for (const name of FIELDS[command] || []) {
    const input = form?.elements[name];
    if (!input) continue;
    const value = input.value.trim();
    if (value !== "") out[name] = name === "stock" ? value.toUpperCase() : value;
  }
  return out;
}

async function run(button, afterChange) {
  const command = button.dataset.command;
  const fields = fieldsFor(command, button.form);
  await busy(button, "#classic-msg", async () => {
    let data;
    try {
      data = await api.classic(command, fields);
    } catch (err) {
      logLine(command, fields, err.message, false);
      if (/^NO_PENDING_BUY\b/.test(err.message)) countdown.clear("buy");
      if (/^NO_PENDING_SELL\b/.test(err.message)) countdown.clear("sell");
      throw err;
    }
    const receivedAt = Date.now();
    const text = describe(command, data);
    logLine(command, fields, text, true);
    say("#classic-msg", text);
    switch (command) {
      case "BUY": countdown.pushFromResponse("buy", data, receivedAt); break;
      case "SELL": countdown.pushFromResponse("sell", data, receivedAt); break;
      case "COMMIT_BUY": case "CANCEL_BUY": countdown.popNewest("buy"); break;
      case "COMMIT_SELL": case "CANCEL_SELL": countdown.popNewest("sell"); break;
      case "QUOTE": showQuote(data); break;
      case "DISPLAY_SUMMARY":
        countdown.syncFromSummary(data, receivedAt);
        summary.render($("#classic-summary"), data);
        break;
    }
    if (!READ_ONLY.has(command)) await afterChange();
  });
}

function showQuote(q) {
  $("#classic-quote").replaceChildren(
    el("strong", {}, `${q.stock} ${fmt.money(q.price)}`),
    el("span", { class: "muted" }, ` ${q.cached ? "cached" : "fresh"} quote from ${new Date(Number(q.quoteServerTime)).toLocaleTimeString()}, good for 60 s`),
  );
}

// A short sentence for each command's answer.
function describe(command, d) {
  switch (command) {
    case "ADD": return `Added ${fmt.money(d.added)}; cash is now ${fmt.money(d.cash)}.`;
    case "QUOTE": return `${d.stock} costs ${fmt.money(d.price)}.`;
    case "BUY": return `Buying ${d.shares} ${d.stock} at ${fmt.money(d.price)} for ${fmt.money(d.cost)}: COMMIT_BUY within 60 s.`;
    case "SELL": return `Selling ${d.shares} ${d.stock} at ${fmt.money(d.price)} for ${fmt.money(d.proceeds)}: COMMIT_SELL within 60 s.`;
    case "COMMIT_BUY": return `Bought ${d.shares} ${d.stock} for ${fmt.money(d.cost)}; cash ${fmt.money(d.cash)}.`;
    case "CANCEL_BUY": return `Cancelled the buy of ${d.shares} ${d.stock}; ${fmt.money(d.released)} released.`;
    case "COMMIT_SELL": return `Sold ${d.shares} ${d.stock} for ${fmt.money(d.proceeds)}; cash ${fmt.money(d.cash)}.`;
    case "CANCEL_SELL": return `Cancelled the sell of ${d.shares} ${d.stock}.`;
    case "DISPLAY_SUMMARY": return "Summary updated below.";
    case "SET_BUY_AMOUNT":
      return `Automatic buy of ${d.stock}: ${fmt.money(d.amount)} held from your cash` +
        (d.triggerPrice ? `, buys at or below ${fmt.money(d.triggerPrice)}.` : "; now set its trigger price.");
    case "SET_BUY_TRIGGER": return `Automatic buy of ${d.stock} armed: buys when the price is at or below ${fmt.money(d.triggerPrice)}.`;
    case "CANCEL_SET_BUY": return `Automatic buy of ${d.stock} cancelled; ${fmt.money(d.released)} back in your cash.`;
    case "SET_SELL_AMOUNT":
      return `Automatic sell of ${d.stock}: ${fmt.money(d.amount)} worth` +
        (d.triggerPrice ? `, sells at or above ${fmt.money(d.triggerPrice)} (${fmt.count(d.reservedShares)} shares held).` : "; now set its trigger price.");
    case "SET_SELL_TRIGGER":
      return `Automatic sell of ${d.stock} armed: sells ${fmt.count(d.reservedShares)} shares when the price is at or above ${fmt.money(d.triggerPrice)}.`;
    case "CANCEL_SET_SELL": return `Automatic sell of ${d.stock} cancelled; ${fmt.count(d.releasedShares ?? 0)} held shares returned.`;
    default: return `${command} done.`;
  }
}

function logLine(command, fields, text, ok) {
  const list = $("#classic-log");
  const args = Object.values(fields).join(", ");
  list.prepend(el("li", { class: ok ? "ok" : "error", dataset: { command } },
    el("code", {}, `${command}${args ? ` ${args}` : ""}`), " ", el("span", {}, text)));
  while (list.children.length > MAX_LOG) list.lastElementChild.remove();
}
