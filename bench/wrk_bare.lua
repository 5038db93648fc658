-- wrk script for bench/ingest.py: the same POST shape against the bare 202 view.
local body = '{"version":"4","groupKey":"bare","status":"firing","alerts":[]}'
request = function()
  return wrk.format("POST", "/bench/bare", { ["Content-Type"] = "application/json" }, body)
end
