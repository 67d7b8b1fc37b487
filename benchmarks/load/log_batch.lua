-- wrk script: POST runs/log-batch into one run, a new body per request.
-- Env: RUN_ID; METRICS, PARAMS, TAGS (counts; default 10, 0, 0); START_MS (distinct per wrk run).
-- Metrics metric_0.. at step 0 with a timestamp and value unique to the request (no duplicate
-- rows). Param keys are unique per request too: a logged param's value can't change. Tags
-- tag_0.. are overwritten each time.
local run_id = os.getenv("RUN_ID")
local n_metrics = tonumber(os.getenv("METRICS") or "10")
local n_params = tonumber(os.getenv("PARAMS") or "0")
local n_tags = tonumber(os.getenv("TAGS") or "0")
local start_ms = tonumber(os.getenv("START_MS") or "0")
local headers = { ["Content-Type"] = "application/json" }
local counter = 0

local next_thread = 0
function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local function list(n, fmt, ...)
  local items = {}
  for i = 0, n - 1 do
    items[#items + 1] = string.format(fmt, i, ...)
  end
  return table.concat(items, ",")
end

function request()
  counter = counter + 1
  local seq = counter * 64 + thread_id
  local body = string.format(
    '{"run_id":"%s","metrics":[%s],"params":[%s],"tags":[%s]}',
    run_id,
    list(n_metrics, '{"key":"metric_%d","value":%d,"timestamp":%d,"step":0}', seq, start_ms + seq),
    list(n_params, '{"key":"param_%d_%d_%d","value":"v"}', start_ms, seq),
    list(n_tags, '{"key":"tag_%d","value":"%d"}', seq)
  )
  return wrk.format("POST", "/api/2.0/mlflow/runs/log-batch", headers, body)
end
dofile("first_error.lua")
