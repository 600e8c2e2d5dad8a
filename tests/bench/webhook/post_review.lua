-- wrk script for tests/bench/webhook_bench.sh: POSTs one AdmissionReview over a keep-alive
-- connection and checks every answer.
--   BENCH_BODY=FILE BENCH_EXPECT=true|false wrk -s post_review.lua https://HOST:PORT
-- An answer counts as good when its status is 200 and its body carries "allowed":<BENCH_EXPECT>.
-- done() prints one line for the caller to parse:
--   BENCH requests=N seconds=S rps=R p50_us=U p99_us=U bad=N errors=N (connect/read/write/status/timeout)

local body_file = os.getenv("BENCH_BODY")
local expect = os.getenv("BENCH_EXPECT") or "true"
assert(body_file, "BENCH_BODY is not set")
local f = assert(io.open(body_file, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.path = "/validate?timeout=10s"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body

local needle = '"allowed":' .. expect

-- Per thread (each wrk thread has its own Lua state); read back in done() through the
-- thread handles collected in setup().
good = 0
bad = 0
first_bad = ""

function response(status, headers, resp_body)
  if status == 200 and resp_body and string.find(resp_body, needle, 1, true) then
    good = good + 1
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(resp_body or "", 1, 200)
    end
  end
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local good_n, bad_n, sample = 0, 0, ""
  for _, t in ipairs(threads) do
    good_n = good_n + t:get("good")
    bad_n = bad_n + t:get("bad")
    local s = t:get("first_bad")
    if sample == "" and s ~= nil then sample = s end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.0f p50_us=%d p99_us=%d good=%d bad=%d errors=%d/%d/%d/%d/%d\n",
    summary.requests, secs, summary.requests / secs, latency:percentile(50), latency:percentile(99),
    good_n, bad_n, e.connect, e.read, e.write, e.status, e.timeout))
  if sample ~= "" then
    io.write("BENCH_FIRST_BAD " .. string.gsub(sample, "\n", " ") .. "\n")
  end
end
