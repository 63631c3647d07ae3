-- wrk script: rotates through a realistic mix of AdmissionReviews (TMR create/update, PVC
-- create, allowed and denied) on /validate and /mutate. BODY_DIR is set by run.sh.
local dir = os.getenv("BODY_DIR") or "bench/webhook/bodies"
local mix = {
  {"/validate", "tmr-create.json"},
  {"/mutate", "tmr-create.json"},
  {"/validate", "tmr-update.json"},
  {"/mutate", "pvc-create.json"},
  {"/validate", "pvc-create.json"},
  {"/validate", "tmr-create-denied.json"},
}
local requests = {}

function init(args)
  for i, m in ipairs(mix) do
    local f = assert(io.open(dir .. "/" .. m[2], "rb"))
    local body = f:read("*a")
    f:close()
    requests[i] = wrk.format("POST", m[1], {["Content-Type"] = "application/json"}, body)
  end
end

local n = 0
function request()
  n = n % #requests + 1
  return requests[n]
end

-- One machine-readable line for run.sh.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d max_us=%d errors=%d requests=%d\n",
    summary.requests / secs, latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.requests))
end
