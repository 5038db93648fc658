-- wrk script for bench/ingest.py: realistic Alertmanager and PagerDuty bodies.
-- Three of four requests open a distinct alert group; one in four repeats one of a few
-- groups (Alertmanager re-sending a snapshot). One in five is a PagerDuty Events v2 event.
local am_path = "/hooks/alertmanager/" .. os.getenv("PAGERLINE_AM_TOKEN")
local pd_path = "/hooks/pagerduty/" .. os.getenv("PAGERLINE_PD_TOKEN")
local headers = { ["Content-Type"] = "application/json" }
local counter = 0
local id = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  id = tonumber(wrk.thread:get("id")) or 0
end

local function am_body(key, alerts)
  local items = {}
  for i = 1, alerts do
    items[i] = string.format(
      '{"status":"firing","labels":{"alertname":"HighErrorRate","instance":"web-%d:9100",' ..
      '"job":"checkout","severity":"critical"},"annotations":{"summary":"5xx above 2%% on web-%d",' ..
      '"description":"The error ratio has been above 2%% for 5 minutes."},' ..
      '"startsAt":"2026-11-26T10:00:00.000Z","endsAt":"0001-01-01T00:00:00Z",' ..
      '"generatorURL":"http://prometheus:9090/graph?g0.expr=rate","fingerprint":"%s-%d"}',
      i, i, key, i)
  end
  return string.format(
    '{"version":"4","groupKey":"{}:{alertname=\\"HighErrorRate\\",k=\\"%s\\"}",' ..
    '"truncatedAlerts":0,"status":"firing","receiver":"pagerline",' ..
    '"groupLabels":{"alertname":"HighErrorRate"},"commonLabels":{"job":"checkout"},' ..
    '"commonAnnotations":{},"externalURL":"http://alertmanager:9093","alerts":[%s]}',
    key, table.concat(items, ","))
end

local function pd_body(key)
  return string.format(
    '{"routing_key":"x","event_action":"trigger","dedup_key":"%s","payload":' ..
    '{"summary":"Disk 95%% full on db-1","source":"db-1","severity":"critical",' ..
    '"timestamp":"2026-11-26T10:00:00Z","component":"postgres","group":"storage",' ..
    '"class":"disk","custom_details":{"free_bytes":1024}},' ..
    '"links":[{"href":"http://grafana/d/1","text":"Dashboard"}]}', key)
end

request = function()
  counter = counter + 1
  local key
  if counter % 4 == 0 then
    key = string.format("repeat-%d", counter % 20)
  else
    key = string.format("k-%d-%d", id, counter)
  end
  if counter % 5 == 0 then
    return wrk.format("POST", pd_path, headers, pd_body(key))
  end
  return wrk.format("POST", am_path, headers, am_body(key, 1 + counter % 3))
end
