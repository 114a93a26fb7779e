// Wallet: balance, deposits, and the wallet transaction history (every wallet transaction
// belongs to a stock transaction: debits pay for buys, credits are sale proceeds).
import * as api from "./api.js";
import { $, busy, el, fillRows, MAX_ROWS, omittedRow, say, unchanged } from "./dom.js";
import * as fmt from "./format.js";

export function init(afterChange) {
  const form = $("#add-money-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const amount = Number(form.amount.value);
    await busy(form.querySelector("button"), "#wallet-msg", async () => {
      await api.addMoneyToWallet(amount);
      say("#wallet-msg", `Added ${fmt.money(amount)} to your wallet.`);
      form.reset();
      await afterChange();
    });
  });
}

export async function refreshBalance() {
  const data = await api.getWalletBalance();
  for (const node of document.querySelectorAll("[data-balance]")) node.textContent = fmt.money(data.balance);
  return data.balance;
}

export async function refreshTransactions() {
  const items = await api.getWalletTransactions();
  const body = $("#wallet-tx-body");
  if (unchanged(body, JSON.stringify(items))) return;
  const rows = items.slice(-MAX_ROWS).reverse().map((tx) =>
    el("tr", { dataset: { walletTx: tx.wallet_tx_id, debit: String(tx.is_debit) } },
      el("td", {}, fmt.time(tx.time_stamp)),
      el("td", {}, tx.is_debit ? el("span", { class: "badge debit" }, "debit") : el("span", { class: "badge credit" }, "credit")),
      el("td", { class: "num" }, (tx.is_debit ? "−" : "+") + fmt.money(tx.amount)),
      el("td", { class: "num" }, `#${tx.stock_tx_id}`),
      el("td", { class: "num muted" }, `#${tx.wallet_tx_id}`),
    ));
  if (items.length > MAX_ROWS) rows.push(omittedRow(5, items.length - MAX_ROWS, "wallet transactions"));
  fillRows(body, rows, "No wallet transactions yet: they appear when you buy or sell.");
}
