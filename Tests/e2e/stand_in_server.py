"""A stand-in for the live-data endpoints, so the browser test can drive the page's stream client
through every path: no stream (404, the page polls), a stream that ends (EventSource resumes
with Last-Event-ID by itself), a `reset`, and a spent ticket (401: the page must fetch a new one).

It serves the real nginx/site files with nginx's own Content-Security-Policy, the REST answers
the Market view needs, and the contract's streamTicket / stream / depth. In-process, port 0.
"""

import json
import os
import re
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
SITE = os.path.join(HERE, "..", "..", "nginx", "site")
TEMPLATE = os.path.join(HERE, "..", "..", "nginx", "nginx.conf.template")
STOCK = {"stock_id": "1", "stock_name": "StandIn"}
TRADES_PER_STREAM = 6
TICKET_USES = 2   # a ticket survives one EventSource self-retry, not two

REST = {
    "/transaction/getStockPrices": [{**STOCK, "current_price": 25}],
    "/transaction/getStockPortfolio": [{**STOCK, "quantity_owned": 10}],
    "/transaction/getWalletBalance": {"balance": 1000},
    "/transaction/getStockTransactions": [],
    "/transaction/getWalletTransactions": [],
    "/engine/depth": {"bids": [{"price": 24, "quantity": 50}, {"price": 23, "quantity": 120}, {"price": 21, "quantity": 30}],
                      "asks": [{"price": 25, "quantity": 40}, {"price": 26, "quantity": 15}, {"price": 28, "quantity": 90}]},
}


def site_csp():
    with open(TEMPLATE) as f:
        return re.search(r'Content-Security-Policy "([^"]+)"', f.read()).group(1)


class StandIn:
    def __init__(self):
        self.lock = threading.Lock()
        self.streaming = False        # POST /engine/streamTicket answers 404 until enable()
        self.tickets = 0
        self.connections = []         # Last-Event-ID sent by each accepted stream connection
        self.refused = 0              # stream requests with a spent ticket
        self.uses = {}
        self.csp = site_csp()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def enable(self):
        self.streaming = True

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        stand_in = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=SITE, **kwargs)

            def log_message(self, *args):
                pass

            def end_headers(self):
                self.send_header("Content-Security-Policy", stand_in.csp)
                super().end_headers()

            def reply(self, data, status=200):
                body = json.dumps({"success": status == 200, "data": data}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if urlparse(self.path).path != "/engine/streamTicket" or not stand_in.streaming:
                    return self.reply({"error": "no route"}, 404)
                with stand_in.lock:
                    stand_in.tickets += 1
                    ticket = f"t{stand_in.tickets}"
                self.reply({"ticket": ticket, "expires_in": 60})

            def do_GET(self):
                url = urlparse(self.path)
                if url.path == "/engine/stream":
                    return self.stream(parse_qs(url.query).get("ticket", [""])[0])
                if url.path in REST:
                    return self.reply(REST[url.path])
                return super().do_GET()

            def stream(self, ticket):
                with stand_in.lock:
                    stand_in.uses[ticket] = stand_in.uses.get(ticket, 0) + 1
                    if stand_in.uses[ticket] > TICKET_USES:
                        stand_in.refused += 1
                        spent = True
                    else:
                        spent = False
                        stand_in.connections.append(self.headers.get("Last-Event-ID"))
                        number = len(stand_in.connections)
                if spent:
                    return self.reply({"error": "ticket spent"}, 401)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                try:
                    self.send_event("retry: 300\n: heartbeat")
                    for i in range(TRADES_PER_STREAM):
                        time.sleep(0.3)
                        price = f"{25 + i % 3}.50" if i % 2 else 24 + i % 4   # both of the contract's price forms
                        trade = {"stock_id": STOCK["stock_id"], "price": price, "quantity": i + 1, "time_ms": int(time.time() * 1000)}
                        self.send_event(f"id: {number}-{i}\nevent: trade\ndata: {json.dumps(trade)}")
                        self.send_event('event: ping\ndata: {}')
                    if number == 2:
                        self.send_event('id: r\nevent: reset\ndata: {"reason": "stand-in"}')
                    if number <= 2:
                        return   # the connection ends: EventSource retries with the same ticket
                    while True:
                        time.sleep(1)
                        self.send_event(": heartbeat")
                except (BrokenPipeError, ConnectionResetError):
                    return

            def send_event(self, text):
                self.wfile.write(f"{text}\n\n".encode())
                self.wfile.flush()

        return Handler
