-- wrk script: optional POST body, counts responses whose status is not the expected one,
-- and prints a JSON summary line ("WRKJSON {...}") that bench/run.py parses.
-- Arguments after "--": expected status [method [body-file content-type]].

local threads = {}
local expected = 200

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  expected = tonumber(args[1] or "200")
  unexpected = 0
  if args[2] == "POST" then
    wrk.method = "POST"
    local file = io.open(args[3], "rb")
    wrk.body = file:read("*a")
    file:close()
    wrk.headers["Content-Type"] = args[4]
  end
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do
    wrong = wrong + (thread:get("unexpected") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d, "unexpected": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, wrong,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
