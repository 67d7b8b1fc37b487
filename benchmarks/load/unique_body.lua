-- wrk script: METHOD (default POST) to the URL with the JSON BODY, its one "%s" replaced by a
-- token unique to the request (START_MS, thread, counter): e.g. a new registered-model name.
local method = os.getenv("METHOD") or "POST"
local template = os.getenv("BODY")
local start_ms = os.getenv("START_MS") or "0"
local headers = { ["Content-Type"] = "application/json" }
local counter = 0

local next_thread = 0
function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function request()
  counter = counter + 1
  local token = string.format("%s-%d-%d", start_ms, thread_id, counter)
  return wrk.format(method, nil, headers, string.format(template, token))
end
dofile("first_error.lua")
