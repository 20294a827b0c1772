-- wrk script: POST a chat completion. The body comes from the file named by $BENCH_BODY_FILE
-- (one JSON document), so every target gets byte-identical requests except the model name.
local path = os.getenv("BENCH_BODY_FILE")
local body = '{"model":"phi-4-mini","messages":[{"role":"user","content":"Say hello to the benchmark."}]}'
if path then
  local f = assert(io.open(path, "r"))
  body = f:read("*a"):gsub("%s+$", "")
  f:close()
end
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "http://bench.example"   -- exercises the gateway's CORS path
