-- wrk script for the benchmark's POST scenarios (bench/load-wrk.ts drives it).
-- args: path, key prefix, bodies file (one JSON body per line), responses directory.
-- Every request gets a unique Idempotency-Key; bodies rotate through the file. Every answer
-- is written as "status<TAB>body" to a file per thread, read back for the consistency check.

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  path, prefix, bodies_file, out_dir = args[1], args[2], args[3], args[4]
  bodies = {}
  for line in io.lines(bodies_file) do
    bodies[#bodies + 1] = line
  end
  -- Fully buffered (a write per answer cost wrk ~10 % more CPU); wrk never closes a thread's
  -- Lua state, but C stdio flushes every open file when wrk exits, and load-wrk.ts checks that
  -- the file holds as many answers as wrk counted.
  out = io.open(out_dir .. "/responses-" .. id .. ".tsv", "w")
  counter = 0
end

function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. "-" .. id .. "-" .. counter,
  }, body)
end

function response(status, headers, body)
  out:write(status, "\t", body, "\n")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,' ..
    '"connect":%d,"read":%d,"write":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout))
end
