-- wrk script for bench/paging.py: a paced storm of new incidents. Every request is an
-- Alertmanager webhook for a new alert group (one firing critical alert), to the services'
-- integrations in turn (PAGERLINE_STORM_TOKENS, comma-separated). wrk has no rate option:
-- each request waits for its slot, PAGERLINE_STORM_RATE per second across wrk's
-- PAGERLINE_STORM_THREADS threads, so the load is offered at a fixed rate as long as a
-- connection is free (a late slot is sent at once, catching up). Keys are unique per
-- PAGERLINE_STORM_RUN, so each request opens a new incident.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } storm_timespec;
int clock_gettime(int clock_id, storm_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("storm_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local paths = {}
for token in string.gmatch(os.getenv("PAGERLINE_STORM_TOKENS") or "", "[^,]+") do
  table.insert(paths, "/hooks/alertmanager/" .. token)
end
local run = os.getenv("PAGERLINE_STORM_RUN") or "storm"
local headers = { ["Content-Type"] = "application/json" }
local threads = {}
local id, count, interval, start, slots, sent = 0, 1, 1, nil, 0, 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  id = tonumber(wrk.thread:get("id")) or 0
  count = tonumber(os.getenv("PAGERLINE_STORM_THREADS")) or 1
  interval = 1000 * count / tonumber(os.getenv("PAGERLINE_STORM_RATE"))
end

function delay()
  local now = now_ms()
  if start == nil then
    start = now + interval * id / count -- threads interleave their slots
  end
  local due = start + slots * interval
  slots = slots + 1
  return math.max(0, math.floor(due - now + 0.5))
end

request = function()
  -- Service n of this request: the threads' requests, interleaved, go round the services.
  local n = sent * count + id
  sent = sent + 1
  local key = string.format("%s-%d-%d", run, id, sent)
  local body = string.format(
    '{"version":"4","groupKey":"{}:{alertname=\\"InstanceDown\\",k=\\"%s\\"}",' ..
    '"truncatedAlerts":0,"status":"firing","receiver":"pagerline",' ..
    '"groupLabels":{"alertname":"InstanceDown"},"commonLabels":{"job":"svc-%d"},' ..
    '"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":[' ..
    '{"status":"firing","labels":{"alertname":"InstanceDown","instance":"host-%d:9100",' ..
    '"job":"svc-%d","severity":"critical"},"annotations":{"summary":"host-%d is down",' ..
    '"description":"No scrape for 1 minute."},"startsAt":"2026-11-26T10:00:00.000Z",' ..
    '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph",' ..
    '"fingerprint":"%s"}]}',
    key, n % #paths, n, n % #paths, n, key)
  return wrk.format("POST", paths[n % #paths + 1], headers, body)
end
