// Setup for a fresh system: create a stock, and grant shares of it to yourself.
import * as api from "./api.js";
import { $, busy, say } from "./dom.js";
import * as fmt from "./format.js";
import * as stocks from "./stocks.js";

export function init(afterChange) {
  const create = $("#create-stock-form");
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = create.stock_name.value.trim();
    await busy(create.querySelector("button"), "#setup-msg", async () => {
      const data = await api.createStock(name);
      stocks.learn([{ stock_id: data.stock_id, stock_name: name }]);
      say("#setup-msg", `Created ${name} (stock id ${data.stock_id}).`);
      create.reset();
      $("#add-shares-form").stock_id.value = data.stock_id;
    });
  });

  const grant = $("#add-shares-form");
  grant.addEventListener("submit", async (event) => {
    event.preventDefault();
    const stockId = grant.stock_id.value;
    const quantity = Number(grant.quantity.value);
    await busy(grant.querySelector("button"), "#setup-msg", async () => {
      await api.addStockToUser(stockId, quantity);
      say("#setup-msg", `Added ${fmt.count(quantity)} shares of ${stocks.nameOf(stockId)} to your portfolio.`);
      grant.quantity.value = "";
      await afterChange();
    });
  });
}
