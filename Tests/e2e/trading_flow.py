"""End-to-end browser test of the DayTrade front end, in two real headless Chromium windows.

User A registers, deposits, creates a stock, grants itself shares and places a limit sell, and
watches the stock's chart and depth (Market view); user B registers, deposits, sees the live price
and market-buys part of A's order; A's chart shows that trade without a reload; both see the fill
in their portfolios and histories; B's portfolio value is charted; A cancels the rest of its partly filled sell; B runs classic
commands (ADD, QUOTE, BUY with its 60-second countdown, COMMIT_BUY, DISPLAY_SUMMARY); the pages
are checked at phone width. A third window drives the page's stream client against a stand-in
server (stand_in_server.py): polling without a stream, then live, resumed, reset and re-ticketed.
Every step saves screenshots.

Each step is one check. After a failing step that others build on, the rest are skipped.
Last line: "e2e: N passed, M failed, K skipped" (scripts/test counts it); exit status 1 on failure.
"""

import argparse
import json
import os
import re
import secrets
import string
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium.webdriver.common.keys import Keys

from browser import Browser
from stand_in_server import StandIn

# Money as the page shows it (format.js: "$1,250.00").
def dollars(value):
    return f"${value:,.2f}"


class Flow:
    def __init__(self, base_url, shots_dir):
        self.base = base_url.rstrip("/")
        self.shots = shots_dir
        suffix = secrets.token_hex(4)
        self.user_a = f"web_a_{suffix}"
        self.user_b = f"web_b_{suffix}"
        self.password = f"Pw-{secrets.token_hex(6)}!"
        self.stock_name = f"WebCo {suffix}"
        # Classic symbols are 1-3 letters; random so runs and other tests do not share holdings.
        self.symbol = "".join(secrets.choice(string.ascii_uppercase) for _ in range(3))
        self.a = None
        self.b = None
        self.stock_id = None
        self.sell_tx = None
        self.classic_cash = None
        self.screenshots = []
        self.a_trades = None

    # --- helpers ---

    def shot(self, browser, label):
        self.screenshots.append(browser.screenshot(label))

    def register(self, browser, user, full_name):
        browser.open("")
        browser.wait_visible("#view-login")
        form = "#register-form"
        browser.fill(form, "user_name", user)
        browser.fill(form, "name", full_name)
        browser.fill(form, "password", self.password)
        browser.submit(form)
        browser.wait_text("#whoami .user", lambda t: t == user, f"{user} shown as logged in")
        browser.wait_visible("#view-overview")

    def add_money(self, browser, amount, expected_balance):
        browser.fill("#add-money-form", "amount", amount)
        browser.submit("#add-money-form")
        browser.wait_text("#wallet-msg", lambda t: t.startswith("Added"), "the deposit confirmation")
        browser.wait_text("#balance", lambda t: t == dollars(expected_balance), f"balance {dollars(expected_balance)}")

    def order_row(self, browser, tx_id):
        return f'#orders-body tr.order[data-tx-id="{tx_id}"]'

    def cells(self, browser, row_css):
        return [td.text.strip() for td in browser.find_all(f"{row_css} td")]

    def wait_portfolio(self, browser, quantity):
        css = f'#portfolio-body tr[data-stock-id="{self.stock_id}"]'
        browser.wait(lambda d: browser.find_all(f'{css}[data-quantity="{quantity}"]'),
                     f"portfolio to hold {quantity} {self.stock_name}")

    def stream_expected(self, browser):
        """"live" when the server hands out a ticket and opens an event stream with it, else
        "polling" (a server without the stream, or with tickets but no stream yet)."""
        status, body = self.api(browser, "POST", "/engine/streamTicket", {})
        if status != 200:
            return "polling"
        url = f"{self.base}/engine/stream?ticket={urllib.parse.quote(body['data']['ticket'])}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/event-stream"}), timeout=10) as response:
                return "live" if response.headers.get("Content-Type", "").startswith("text/event-stream") else "polling"
        except (urllib.error.URLError, OSError):
            return "polling"

    def check_depth(self, browser, asks):
        """The page's depth shows the server's book (asks: {price: qty}), or says it has none."""
        path = f"/engine/depth?stock_id={self.stock_id}"
        if self.api(browser, "GET", path)[0] != 200:
            browser.wait(lambda d: browser.find_all('#depth-status[data-state="unavailable"]'), "the depth card to say it is unavailable")
            return
        def server_asks(d):
            _, body = self.api(browser, "GET", path)
            return {float(l["price"]): int(l["quantity"]) for l in body["data"]["asks"]} == asks
        browser.wait(server_asks, f"the server's depth to show the asks {asks}")
        for price, quantity in asks.items():
            browser.wait(lambda d: browser.find_all(f'#depth-asks tr[data-price="{price}"][data-quantity="{quantity}"]'),
                         f"the ask level {quantity} @ {price} in the depth table")

    def chart_attr(self, browser, css, name="aria-label"):
        """An attribute of the chart in css, read in one script: the page redraws charts at any time."""
        return browser.js("const c = document.querySelector(arguments[0] + ' svg[role=img]');"
                          "return c ? c.getAttribute(arguments[1]) : null", css, name) or ""

    def chart_label(self, browser, css):
        return self.chart_attr(browser, css)

    def api(self, browser, method, path, body=None):
        """Calls the API with the token the page holds (to compare what the page shows with the server)."""
        token = browser.js("return sessionStorage.getItem('daytrade.token')")
        request = urllib.request.Request(f"{self.base}{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json", "token": token or ""})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    # --- the steps, in order ---

    def step_login_error_in_words(self):
        self.a = Browser("a", self.base, self.shots)
        self.a.open("")
        self.a.wait_visible("#view-login")
        self.a.fill("#login-form", "user_name", self.user_a)
        self.a.fill("#login-form", "password", self.password)
        self.a.submit("#login-form")
        text = self.a.wait_text("#login-msg.msg-error", bool, "the login error")
        assert text == "invalid user name or password", f"login error shown as {text!r}"
        self.shot(self.a, "01-login-error")

    def step_a_registers_and_deposits(self):
        self.register(self.a, self.user_a, "Alice Web")
        self.add_money(self.a, 1000, 1000)
        self.shot(self.a, "02-overview-after-deposit")

    def step_a_creates_stock_and_gets_shares(self):
        self.a.go("trade")
        self.a.fill("#create-stock-form", "stock_name", self.stock_name)
        self.a.submit("#create-stock-form")
        text = self.a.wait_text("#setup-msg", lambda t: t.startswith(f"Created {self.stock_name}"), "the stock creation message")
        self.stock_id = re.search(r"stock id (\d+)", text).group(1)
        # The new stock is preselected in the grant form.
        assert self.a.find('#add-shares-form select[name="stock_id"]').get_attribute("value") == self.stock_id
        self.a.fill("#add-shares-form", "quantity", 100)
        self.a.submit("#add-shares-form")
        self.a.wait_text("#setup-msg", lambda t: t == f"Added 100 shares of {self.stock_name} to your portfolio.", "the grant message")

    def step_a_places_limit_sell(self):
        form = "#order-form"
        self.a.choose(form, "stock_id", self.stock_id)
        self.a.choose(form, "side", "sell")
        self.a.choose(form, "order_type", "LIMIT")
        self.a.fill(form, "quantity", 40)
        self.a.fill(form, "price", 25)
        self.a.wait_text("#order-estimate", lambda t: t == "Brings $1,000.00.", "the order estimate")
        self.a.submit(form)
        self.a.wait_text("#order-msg", lambda t: t == f"Order placed: Sell 40 {self.stock_name} at $25.00 (limit).", "the order confirmation")
        self.shot(self.a, "03-trade-limit-sell")
        self.a.go("orders")
        row = self.a.wait(lambda d: self.a.find_all('#orders-body tr.order[data-status="IN_PROGRESS"]'), "the open sell order")[0]
        self.sell_tx = row.get_attribute("data-tx-id")
        cells = self.cells(self.a, self.order_row(self.a, self.sell_tx))
        assert cells[1:7] == [self.stock_name, "sell", "limit", "$25.00", "40", "0"], f"order row {cells}"
        assert self.a.find_all(f'[data-cancel="{self.sell_tx}"]'), "no Cancel button on the open order"
        self.a.go("overview")
        self.wait_portfolio(self.a, 60)   # 40 of 100 are held by the sell order
        self.a.wait_text(f'#prices-body tr[data-stock-id="{self.stock_id}"] td.price', lambda t: t == "$25.00", "the live price $25.00")
        self.shot(self.a, "04-overview-with-open-sell")

    def step_a_watches_market(self):
        a = self.a
        a.go("market")
        a.choose("#market-form", "stock_id", self.stock_id)
        a.wait(lambda d: "current price $25.00" in self.chart_label(a, "#price-chart"), "the chart's label with the price $25.00")
        assert self.chart_label(a, "#price-chart").startswith(self.stock_name), "the chart names another stock"
        self.check_depth(a, {25: 40})
        mode = self.stream_expected(a)
        a.wait(lambda d: a.find_all(f'#live-status[data-mode="{mode}"]'), f"the live status to say {mode}")
        # Keyboard: the stock picker comes right after the top bar's last control.
        a.js("document.getElementById('logout').focus()")
        a.find("#logout").send_keys(Keys.TAB)
        assert a.js("return document.activeElement.id") == "market-stock", "Tab from the top bar does not reach the stock picker"
        self.a_trades = int(a.find("#price-chart").get_attribute("data-trades"))
        a.js("window.e2eSamePage = true")   # gone if the page reloads
        self.shot(a, "04b-market")

    def step_a_chart_moves_without_reload(self):
        a = self.a
        a.wait(lambda d: int(a.find("#price-chart").get_attribute("data-trades")) > self.a_trades,
               "A's chart to gain B's trade")
        assert a.js("return window.e2eSamePage === true"), "the page was reloaded"
        assert "last $25.00" in self.chart_label(a, "#price-chart"), f"chart label {self.chart_label(a, '#price-chart')!r}"
        a.wait(lambda d: any(r.text.split()[-2:] == ["$25.00", "10"] for r in a.find_all("#trades-body tr")), "B's trade in the trades table")
        self.check_depth(a, {25: 30})
        self.shot(a, "06b-market-after-trade")
        a.element_shot("#view-market", "readme-market")

    def step_b_portfolio_value_chart(self):
        b = self.b
        b.go("overview")
        # 4,750 cash + 10 shares at 25.
        b.wait(lambda d: self.chart_label(b, "#worth-chart").startswith("Portfolio value $5,000.00"), "B's portfolio value $5,000.00")
        assert int(self.chart_attr(b, "#worth-chart", "data-points")) >= 2, "one sample only"
        b.element_shot("#view-overview", "readme-overview")

    def step_b_registers_and_sees_price(self):
        self.b = Browser("b", self.base, self.shots)
        self.register(self.b, self.user_b, "Bob Web")
        self.add_money(self.b, 5000, 5000)
        self.b.wait_text(f'#prices-body tr[data-stock-id="{self.stock_id}"] td.price', lambda t: t == "$25.00",
                         "B to see the live price $25.00")

    def step_b_market_buys(self):
        # "Buy" on the price row opens the order form preset to a market buy of that stock.
        self.b.click(f'#prices-body tr[data-stock-id="{self.stock_id}"] button')
        self.b.wait_visible("#view-trade")
        form = "#order-form"
        assert self.b.find(f'{form} select[name="stock_id"]').get_attribute("value") == self.stock_id
        assert self.b.find(f'{form} select[name="order_type"]').get_attribute("value") == "MARKET"
        self.b.fill(form, "quantity", 10)
        self.b.wait_text("#order-estimate", lambda t: t == "Costs about $250.00 at the current best ask of $25.00.", "the cost estimate")
        self.b.submit(form)
        self.b.wait_text("#order-msg", lambda t: t == f"Order placed: Buy 10 {self.stock_name} at market.", "the order confirmation")
        self.shot(self.b, "05-trade-market-buy")
        self.b.go("orders")
        row = self.b.wait(lambda d: self.b.find_all('#orders-body tr.order[data-status="COMPLETED"]'), "B's completed buy")[0]
        cells = self.cells(self.b, self.order_row(self.b, row.get_attribute("data-tx-id")))
        assert cells[1:8] == [self.stock_name, "buy", "market", "$25.00", "10", "10", "completed"], f"B's order row {cells}"
        assert not self.b.find_all("#orders-body [data-cancel]"), "a completed order must not offer Cancel"
        self.shot(self.b, "06-orders-completed-buy")

    def step_b_sees_fill_in_portfolio_and_history(self):
        self.b.go("overview")
        self.wait_portfolio(self.b, 10)
        self.b.wait_text("#balance", lambda t: t == dollars(4750), "B's balance $4,750.00")
        self.shot(self.b, "07-overview-after-buy")
        self.b.go("history")
        rows = self.b.wait(lambda d: self.b.find_all('#wallet-tx-body tr[data-debit="true"]'), "B's wallet debit")
        cells = [td.text for td in rows[0].find_elements("css selector", "td")]
        assert cells[1:3] == ["debit", "−$250.00"], f"B's wallet row {cells}"
        stock_rows = self.b.find_all('#stock-tx-body tr[data-status="COMPLETED"]')
        assert len(stock_rows) == 1, f"B should have one stock transaction, has {len(stock_rows)}"
        self.shot(self.b, "08-history-debit")

    def step_a_sees_partial_fill(self):
        self.a.go("orders")
        parent = self.order_row(self.a, self.sell_tx)
        self.a.wait(lambda d: self.a.find_all(f'{parent}[data-status="PARTIALLY_COMPLETE"]'), "A's sell to be partially complete")
        cells = self.cells(self.a, parent)
        assert cells[5:8] == ["40", "10", "partially complete"], f"A's order row {cells}"
        fills = self.a.find_all(f'#orders-body tr.fill[data-parent="{self.sell_tx}"]')
        assert len(fills) == 1, f"expected one fill row under the sell, found {len(fills)}"
        fill_cells = [td.text.strip() for td in fills[0].find_elements("css selector", "td")]
        assert fill_cells[2:4] == ["$25.00", "10"] and fill_cells[5] == "completed", f"fill row {fill_cells}"
        self.shot(self.a, "09-orders-partial-fill")
        self.a.go("history")
        rows = self.a.wait(lambda d: self.a.find_all('#wallet-tx-body tr[data-debit="false"]'), "A's sale proceeds")
        cells = [td.text for td in rows[0].find_elements("css selector", "td")]
        assert cells[1:3] == ["credit", "+$250.00"], f"A's wallet row {cells}"
        assert self.a.find_all(f'#stock-tx-body tr[data-tx-id="{self.sell_tx}"]'), "the sell is missing from the stock history"
        self.shot(self.a, "10-history-credit")
        self.a.go("overview")
        self.a.wait_text("#balance", lambda t: t == dollars(1250), "A's balance $1,250.00")

    def step_a_cancels_rest(self):
        self.a.go("orders")
        self.a.click(f'[data-cancel="{self.sell_tx}"]')
        self.a.wait_text("#orders-msg", lambda t: t.startswith(f"Order #{self.sell_tx} ({self.stock_name}) cancelled"), "the cancel confirmation")
        parent = self.order_row(self.a, self.sell_tx)
        self.a.wait(lambda d: self.a.find_all(f'{parent}[data-status="CANCELLED"]'), "A's sell to be cancelled")
        assert not self.a.find_all(f'[data-cancel="{self.sell_tx}"]'), "a cancelled order must not offer Cancel"
        self.shot(self.a, "11-orders-cancelled")
        self.a.go("overview")
        self.wait_portfolio(self.a, 90)   # 60 free + the 30 that never sold
        # No ask and a last trade at 25: the price stays listed.
        self.a.wait_text(f'#prices-body tr[data-stock-id="{self.stock_id}"] td.price', lambda t: t == "$25.00", "the last trade price")
        self.shot(self.a, "12-overview-after-cancel")

    def step_api_errors_shown_in_words(self):
        self.b.go("trade")
        form = "#order-form"
        self.b.choose(form, "stock_id", self.stock_id)
        self.b.choose(form, "side", "buy")
        self.b.choose(form, "order_type", "MARKET")
        self.b.fill(form, "quantity", 1_000_000)
        self.b.submit(form)
        shown = self.b.wait_text("#order-msg.msg-error", bool, "the order error")
        status, body = self.api(self.b, "POST", "/engine/placeStockOrder",
                                {"stock_id": self.stock_id, "is_buy": True, "order_type": "MARKET", "quantity": 1_000_000, "price": None})
        assert status == 400 and body["success"] is False, f"API answered {status} {body}"
        assert shown == body["data"]["error"], f"page shows {shown!r}, server said {body['data']['error']!r}"
        self.shot(self.b, "13-trade-error")

    def step_classic_buy_commit(self):
        b = self.b
        b.go("classic")
        b.fill("#classic-add-form", "amount", "20000.00")
        b.click('[data-command="ADD"]')
        b.wait_text("#classic-msg", lambda t: t.startswith("Added $20,000.00"), "the ADD confirmation")
        b.fill("#classic-quote-form", "stock", self.symbol)
        b.click('[data-command="QUOTE"]')
        quote = b.wait_text("#classic-quote", lambda t: t.startswith(self.symbol + " $"), "the quote")
        # Prices run $1-$5,000; $6,000 always buys at least one share at the cached price.
        b.fill("#classic-trade-form", "stock", self.symbol)
        b.fill("#classic-trade-form", "amount", "6000.00")
        b.click('[data-command="BUY"]')
        b.wait_text("#classic-msg", lambda t: t.startswith("Buying "), "the BUY confirmation")
        pending = b.wait_visible(f'#classic-pending li.pending.buy[data-stock="{self.symbol}"]')
        first = int(pending.get_attribute("data-seconds"))
        assert 55 <= first <= 60, f"countdown starts at {first} s"
        assert re.search(r"\d+ s left", b.text("#classic-pending .countdown")), "no visible countdown"
        self.shot(b, "14-classic-pending-buy")
        # The countdown is live: it ticks down on its own.
        b.wait(lambda d: int(b.find("#classic-pending li.pending.buy").get_attribute("data-seconds")) < first,
               "the countdown to tick", timeout=5)
        b.click('[data-command="COMMIT_BUY"]')
        done = b.wait_text("#classic-msg", lambda t: t.startswith("Bought "), "the COMMIT_BUY confirmation")
        match = re.match(rf"Bought (\d+) {self.symbol} for \$([\d,]+\.\d\d); cash \$([\d,]+\.\d\d)\.", done)
        assert match, f"COMMIT_BUY message {done!r}"
        shares, cost = int(match.group(1)), float(match.group(2).replace(",", ""))
        assert shares >= 1 and cost <= 6000, f"bought {shares} for {cost}"
        b.wait_text("#classic-pending", lambda t: t == "Nothing pending.", "the pending list to empty")
        # Classic cash and the wallet are one account: 4,750 + 20,000 - cost.
        expected = dollars(4750 + 20000 - cost)
        assert match.group(3) == expected[1:], f"cash after commit {match.group(3)}, expected {expected}"
        self.classic_cash = expected
        b.click('[data-command="DISPLAY_SUMMARY"]')
        b.wait(lambda d: any(r.text.split()[:2] == [self.symbol, f"{shares:,}"] for r in b.find_all("#classic-summary table tbody tr")),
               f"{shares} {self.symbol} in the summary's holdings")
        assert b.text("#summary-free") == expected, f"summary free cash {b.text('#summary-free')}"
        # Nothing is pending any more: the page says so in the server's words.
        b.click('[data-command="COMMIT_BUY"]')
        error = b.wait_text("#classic-msg.msg-error", bool, "the NO_PENDING_BUY error")
        assert error.startswith("NO_PENDING_BUY: "), f"classic error shown as {error!r}"
        assert quote, "no quote shown"
        self.shot(b, "15-classic-after-commit")

    def step_wallet_agrees_with_classic(self):
        # Classic cash and the platform wallet are one ledger account, so getWalletBalance must
        # show what the classic commands left (not a cached balance from before them).
        self.b.go("overview")
        self.b.wait_text("#balance", lambda t: t == self.classic_cash,
                         f"the wallet balance to be the classic cash {self.classic_cash}", timeout=10)

    def step_phone_width(self):
        b = self.b
        b.driver.set_window_size(390, 844)
        for view in ("overview", "market", "orders", "history", "classic"):
            b.go(view)
            if view == "overview":
                self.wait_portfolio(b, 10)
            if view == "market":
                b.choose("#market-form", "stock_id", self.stock_id)
                b.wait(lambda d: self.chart_label(b, "#price-chart").startswith(self.stock_name), "B's chart of the stock")
                b.viewport_shot("readme-phone-market")
            overflow = b.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{view} is {overflow}px wider than a 390px phone screen"
            self.shot(b, f"16-phone-{view}")

    def step_stream_client(self):
        stand_in = StandIn()
        s = Browser("s", stand_in.url, self.shots)
        try:
            s.open("")
            s.js("sessionStorage.setItem('daytrade.token', 'stand-in'); sessionStorage.setItem('daytrade.user', 'stand_in')")
            s.open("#market/1")
            s.wait(lambda d: s.find_all('#live-status[data-mode="polling"]'), "the page to poll while there is no stream")
            s.wait(lambda d: len(s.find_all("#depth-asks tr[data-price]")) == 3, "the depth's three ask levels")
            stand_in.enable()
            s.wait(lambda d: s.find_all('#live-status[data-mode="live"]'), "the page to go live once tickets are handed out", timeout=30)
            # 3 connections x 6 trades: the first ends and is resumed, the second sends reset and
            # ends, its retry's spent ticket is refused and a new ticket opens the third.
            s.wait(lambda d: s.find("#price-chart").get_attribute("data-trades") == "18", "18 streamed trades on the chart", timeout=30)
            assert stand_in.connections == [None, "1-5", None], f"Last-Event-ID per connection {stand_in.connections}"
            assert stand_in.refused == 1 and stand_in.tickets == 2, f"{stand_in.refused} refused, {stand_in.tickets} tickets"
            assert s.find("#live-status").get_attribute("data-mode") == "live"
            assert "18 trades" in self.chart_label(s, "#price-chart"), self.chart_label(s, "#price-chart")
            s.element_shot("#view-market", "readme-live-market")
            self.shot(s, "17-stream-client")
            problems = s.console_problems()
            assert not problems, f"console errors: {problems}"
        finally:
            s.quit()
            stand_in.close()

    def step_log_out(self):
        self.b.click("#logout")
        self.b.wait_visible("#view-login")
        assert self.b.js("return sessionStorage.getItem('daytrade.token')") is None, "token kept after log out"
        assert not self.b.find("#nav").is_displayed(), "navigation shown while logged out"

    def step_no_script_errors(self):
        for browser in (self.a, self.b):
            problems = browser.console_problems()
            assert not problems, f"[{browser.name}] console errors: {problems}"

    # (name, step, blocking): after a blocking step fails the rest are skipped (they build on
    # its state); a non-blocking step only checks and leaves the state as it was.
    STEPS = [
        ("login error is shown in words", step_login_error_in_words, True),
        ("A registers, logs in and deposits 1000", step_a_registers_and_deposits, True),
        ("A creates a stock and grants itself 100 shares", step_a_creates_stock_and_gets_shares, True),
        ("A places a limit sell of 40 at 25", step_a_places_limit_sell, True),
        ("A sees the stock's chart, depth and live status", step_a_watches_market, False),
        ("B registers, deposits 5000 and sees the live price", step_b_registers_and_sees_price, True),
        ("B market-buys 10 from the prices list", step_b_market_buys, True),
        ("A's chart shows B's trade without a reload", step_a_chart_moves_without_reload, False),
        ("B sees the shares, balance and wallet debit", step_b_sees_fill_in_portfolio_and_history, True),
        ("B's portfolio value is charted", step_b_portfolio_value_chart, False),
        ("A sees the partial fill and the proceeds", step_a_sees_partial_fill, True),
        ("A cancels the rest of its sell", step_a_cancels_rest, True),
        ("API errors are shown as the server words them", step_api_errors_shown_in_words, False),
        ("classic ADD, QUOTE, BUY with countdown, COMMIT_BUY, DISPLAY_SUMMARY", step_classic_buy_commit, True),
        ("wallet balance shows the cash classic commands moved", step_wallet_agrees_with_classic, False),
        ("pages fit a 390px phone screen", step_phone_width, False),
        ("stream client: polls without a stream, goes live, resumes, resets, re-tickets", step_stream_client, False),
        ("log out clears the session", step_log_out, True),
        ("no script errors in either browser", step_no_script_errors, False),
    ]

    def run(self):
        passed = failed = skipped = 0
        blocked = False
        try:
            for name, step, blocking in self.STEPS:
                if blocked:
                    skipped += 1
                    print(f"SKIP  {name}", flush=True)
                    continue
                started = time.monotonic()
                try:
                    step(self)
                    passed += 1
                    print(f"PASS  {name} ({time.monotonic() - started:.1f}s)", flush=True)
                except Exception as err:  # noqa: BLE001 - every failure is reported the same way
                    failed += 1
                    blocked = blocked or blocking
                    print(f"FAIL  {name}: {err}", flush=True)
                    if not isinstance(err, AssertionError):
                        traceback.print_exc()
                    for browser in (self.a, self.b):
                        if browser:
                            try:
                                self.shot(browser, f"FAILED-{failed}")
                            except Exception:  # noqa: BLE001 - the browser may be the problem
                                pass
        finally:
            for browser in (self.a, self.b):
                if browser:
                    browser.quit()
        print(f"screenshots ({len(self.screenshots)}): {self.shots}")
        print(f"e2e: {passed} passed, {failed} failed, {skipped} skipped")
        return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=os.environ.get("DT_TEST_NGINX"), help="front door URL (DT_TEST_NGINX)")
    parser.add_argument("--shots", required=True, help="folder for the screenshots")
    args = parser.parse_args()
    if not args.base:
        print("FAIL  DT_TEST_NGINX is not set (run through scripts/test, or pass --base)")
        print("e2e: 0 passed, 1 failed")
        return 1
    os.makedirs(args.shots, exist_ok=True)
    for old in os.listdir(args.shots):
        if old.endswith(".png"):
            os.remove(os.path.join(args.shots, old))
    print(f"e2e: browser test against {args.base}")
    return Flow(args.base, args.shots).run()


if __name__ == "__main__":
    sys.exit(main())
