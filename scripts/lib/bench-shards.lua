-- wrk script of scripts/bench-shards: market buys of 1 share, each connection cycling over the
-- (token, stock) pairs of the file named by BENCH_PAIRS. Prints one RESULT line at the end:
-- requests, requests/s, p95 ms, errors (non-2xx answers and socket errors).
local list = {}
local i = 0

function init(args)
    for line in io.lines(os.getenv("BENCH_PAIRS")) do
        local token, stock = line:match("^(%S+) (%S+)$")
        if token then table.insert(list, { token, stock }) end
    end
    i = math.random(#list)
end

function request()
    i = i % #list + 1
    local p = list[i]
    return wrk.format("POST", "/engine/placeStockOrder",
        { ["Content-Type"] = "application/json", ["token"] = p[1] },
        '{"stock_id":"' .. p[2] .. '","is_buy":true,"order_type":"MARKET","quantity":1,"price":null}')
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %d %.1f %.2f %d\n", summary.requests,
        summary.requests / (summary.duration / 1e6), latency:percentile(95) / 1000,
        e.status + e.connect + e.read + e.write + e.timeout))
end
