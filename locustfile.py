"""TestRun3 (v3) load plan for Locust: the same flow as dts-load and the course's JMeter plans.

InitialSetup.jmx runs once when the test starts (unless DTS_GOOGLE_ID/DTS_APPLE_ID are given),
then every Locust user takes the next row of a UserCreds_*.csv file (header skipped) and runs
UserThreadTest.jmx's ten steps once, with the plan's constant timers (500 ms before each request,
5000 ms before step 20) and its assertions, on one keep-alive session.

    DTS_USERS_FILE=UserCreds_1000.csv locust -f locustfile.py --host http://localhost:80 \
        --headless -u 1000 -r 22 --run-time 120s
    (-r 22: 1000 users over ~45 s, the plan's ramp-up)

Environment: DTS_USERS_FILE (required), DTS_PAUSE_SCALE (default 1; 0 = no pauses),
DTS_GOOGLE_ID / DTS_APPLE_ID (skip InitialSetup), DTS_TIMEOUT (seconds, default 80).
"""
import csv
import json
import os
import threading

import gevent
import requests
from locust import HttpUser, events, task
from locust.exception import StopUser

PAUSE_SCALE = float(os.environ.get("DTS_PAUSE_SCALE", "1"))
TIMEOUT = float(os.environ.get("DTS_TIMEOUT", "80"))
HEADERS = {"Content-Type": "application/json"}

STOCKS = {"google": os.environ.get("DTS_GOOGLE_ID", ""), "apple": os.environ.get("DTS_APPLE_ID", "")}
_rows = None
_rows_lock = threading.Lock()


def _next_row():
    """Next CSV row for a new user (the plan's CSV Data Set, shared by all threads; None at EOF)."""
    global _rows
    with _rows_lock:
        if _rows is None:
            path = os.environ["DTS_USERS_FILE"]
            with open(path, newline="") as f:
                reader = csv.reader(f)
                next(reader, None)  # header row
                _rows = iter([r for r in reader if len(r) == 3 and r[0]])
        return next(_rows, None)


def _value(doc, path):
    """`$.a.b[0].c` → the string form JMeter's JSONPath assertion compares (None if missing)."""
    cur = doc
    for part in path.lstrip("$").replace("[", ".[").split("."):
        if not part:
            continue
        try:
            cur = cur[int(part[1:-1])] if part.startswith("[") else cur[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    if cur is None:
        return "null"
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, (list, dict)):
        return "[]" if cur == [] else str(cur)
    return str(cur)


def _check(resp, expected):
    """Fails the sample like JMeter: a 4xx/5xx code, invalid JSON or a JSONPath mismatch."""
    if resp.status_code >= 400:
        resp.failure(f"HTTP {resp.status_code}")
        return None
    try:
        doc = resp.json()
    except ValueError:
        resp.failure("response is not JSON")
        return None
    for path, want in expected:
        got = _value(doc, path)
        if got != want:
            resp.failure(f"{path} = {got}, expected {want}")
            return doc
    resp.success()
    return doc


@events.test_start.add_listener
def initial_setup(environment, **_kwargs):
    """InitialSetup.jmx (steps 1–13) for the company user, once per test."""
    if STOCKS["google"] and STOCKS["apple"]:
        return
    base = environment.host.rstrip("/")
    s = requests.Session()
    s.headers.update(HEADERS)

    def call(method, path, body=None, token=None):
        gevent.sleep(0.5 * PAUSE_SCALE)
        headers = {"token": token} if token else {}
        return s.request(method, base + path, data=body, headers=headers, timeout=TIMEOUT)

    call("POST", "/authentication/register", '{"user_name":"VanguardETF", "password":"Vang@123", "name":"Vanguard Corp."}')
    call("POST", "/authentication/register", '{"user_name":"VanguardETF", "password":"Comp@124", "name":"Vanguard Ltd."}')
    call("POST", "/authentication/login", '{"user_name":"VanguardETF", "password":"Vang@1234"}')
    token = call("POST", "/authentication/login", '{"user_name":"VanguardETF", "password":"Vang@123"}').json()["data"]["token"]
    google = call("POST", "/setup/createStock", '{"stock_name":"Google"}', token).json()["data"]["stock_id"]
    call("POST", "/setup/addStockToUser", '{"stock_id": "%s",\r\n"quantity": 12488000000}' % google, token)
    apple = call("POST", "/setup/createStock", '{"stock_name":"Apple"}', token).json()["data"]["stock_id"]
    call("POST", "/setup/addStockToUser", '{"stock_id": "%s",\r\n"quantity": 15509763000}' % apple, token)
    call("POST", "/engine/placeStockOrder",
         '{"stock_id":"%s", "is_buy":false, "order_type":"LIMIT", "quantity":12488000000,\r\n"price":135}' % google, token)
    call("POST", "/engine/placeStockOrder",
         '{"stock_id":"%s", "is_buy":false, "order_type":"LIMIT", "quantity":15509763000,\r\n"price":140}' % apple, token)
    txs = call("GET", "/transaction/getStockTransactions", token=token).json()["data"]
    if len(txs) < 2 or txs[0]["order_status"] != "IN_PROGRESS":
        raise RuntimeError(f"InitialSetup failed: {txs}")
    STOCKS["google"], STOCKS["apple"] = google, apple


class PlanUser(HttpUser):
    """One UserThreadTest.jmx thread: runs steps 14–23 once, then stops."""

    def pause(self, millis=500):
        if PAUSE_SCALE > 0:
            gevent.sleep(millis / 1000 * PAUSE_SCALE)

    def req(self, label, method, path, body=None, expected=(), pause=500):
        self.pause(pause)
        headers = dict(HEADERS)
        if self.token is not None:
            headers["token"] = self.token
        with self.client.request(method, path, data=body, headers=headers, name=label, timeout=TIMEOUT,
                                 catch_response=True) as resp:
            return _check(resp, [("$.success", "true"), *expected])

    @task
    def user_thread(self):
        row = _next_row()
        if row is None:
            raise StopUser()
        username, password, name = row
        g, a = STOCKS["google"], STOCKS["apple"]
        self.token = None
        creds = {"user_name": username, "password": password}

        self.req("14 Register Request", "POST", "/authentication/register", json.dumps({**creds, "name": name}))
        doc = self.req("15 Login Request", "POST", "/authentication/login", json.dumps(creds))
        self.token = (doc or {}).get("data", {}).get("token", "") if isinstance(doc, dict) else ""
        self.req("16 Get Stock Prices Request", "GET", "/transaction/getStockPrices", expected=[
            ("$.data[0].stock_id", g), ("$.data[0].stock_name", "Google"), ("$.data[0].current_price", "135"),
            ("$.data[1].stock_id", a), ("$.data[1].stock_name", "Apple"), ("$.data[1].current_price", "140")])
        self.req("17 Add Money Request", "POST", "/transaction/addMoneyToWallet", '{"amount":10000}')
        self.req("18 Get Wallet Balance Request", "GET", "/transaction/getWalletBalance",
                 expected=[("$.data.balance", "10000")])
        self.req("19 Place Stock Order Request", "POST", "/engine/placeStockOrder",
                 '{"stock_id":"%s", "is_buy":true, "order_type":"MARKET", "quantity":10, "price":null}' % g)
        doc = self.req("20 Get Stock Transactions Request", "GET", "/transaction/getStockTransactions", pause=5000, expected=[
            ("$.data[0].parent_stock_tx_id", "null"), ("$.data[0].stock_id", g), ("$.data[0].order_status", "COMPLETED"),
            ("$.data[0].is_buy", "true"), ("$.data[0].order_type", "MARKET"), ("$.data[0].stock_price", "135"),
            ("$.data[0].quantity", "10")])
        stock_tx = _value(doc, "$.data[0].stock_tx_id") if doc else None
        wallet_tx = _value(doc, "$.data[0].wallet_tx_id") if doc else None
        self.req("21 Get Wallet Transactions Request", "GET", "/transaction/getWalletTransactions", expected=[
            ("$.data[0].wallet_tx_id", wallet_tx), ("$.data[0].stock_tx_id", stock_tx),
            ("$.data[0].is_debit", "true"), ("$.data[0].amount", "1350")])
        self.req("22 Get Wallet Balance Request", "GET", "/transaction/getWalletBalance",
                 expected=[("$.data.balance", "8650")])
        self.req("23 Get Stock Portfolio Request", "GET", "/transaction/getStockPortfolio", expected=[
            ("$.data[0].stock_id", g), ("$.data[0].stock_name", "Google"), ("$.data[0].quantity_owned", "10")])
        raise StopUser()
