-- wrk: POST grant_type=client_credentials with client_secret_basic (BENCH_BASIC).
-- BENCH_BASIC_FILE: one Basic credential a line; requests take them in turn, so
-- the load spreads over many clients instead of one hot client.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. (os.getenv("BENCH_BASIC") or "")

local file = os.getenv("BENCH_BASIC_FILE")
local creds = {}
if file and file ~= "" then
  for line in io.lines(file) do
    if #line > 0 then creds[#creds + 1] = line end
  end
end
if #creds > 0 then
  local i = 0
  request = function()
    i = i % #creds + 1
    return wrk.format("POST", nil, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Authorization"] = "Basic " .. creds[i],
    }, "grant_type=client_credentials")
  end
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d requests=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, summary.requests))
end
