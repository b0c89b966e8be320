-- One wrk script for every workload of tests/bench/bench.py, chosen by BENCH_WORKLOAD.
-- BENCH_USERS names a file of "id token" lines: the users requests come from and go to.
local workload = os.getenv("BENCH_WORKLOAD")
local ids, tokens = {}, {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_USERS"), "r"))
  for line in file:lines() do
    local id, token = line:match("^(%d+) (.+)$")
    ids[#ids + 1] = tonumber(id)
    tokens[#tokens + 1] = token
  end
  file:close()
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

local function headers(i)
  return { ["Authorization"] = "Bearer " .. tokens[i], ["Accept"] = "application/json" }
end

-- A random user other than the one at index i.
local function other(i)
  local j = math.random(#ids - 1)
  if j >= i then j = j + 1 end
  return j
end

function request()
  local i = math.random(#ids)
  if workload == "write" then
    return wrk.format("POST", "/api/v2/user/" .. ids[other(i)] .. "/connection/request/", headers(i), "")
  elseif workload == "repeat" then
    -- A fixed set of 1000 pairs: user k asks user k+1, again and again.
    local k = math.random(math.min(1000, #ids - 1))
    return wrk.format("POST", "/api/v2/user/" .. ids[k + 1] .. "/connection/request/", headers(k), "")
  elseif workload == "status" then
    return wrk.format("GET", "/api/v2/user/" .. ids[other(i)] .. "/connection_status/", headers(i))
  elseif workload == "list" then
    local r = math.random(4)
    if r == 1 then
      return wrk.format("GET", "/api/v2/user/connection/requests/?limit=20", headers(i))
    elseif r == 2 then
      return wrk.format("GET", "/api/v2/user/" .. ids[other(i)] .. "/connections/?limit=20", headers(i))
    else
      -- Later pages: offsets 20 to 100.
      local offset = 20 * math.random(5)
      return wrk.format("GET", "/api/v2/user/" .. ids[other(i)] .. "/connections/?limit=20&offset=" .. offset, headers(i))
    end
  elseif workload == "follow" then
    -- A toggle: follows, or unfollows a user followed before.
    return wrk.format("POST", "/api/v2/user/" .. ids[other(i)] .. "/follow/", headers(i), "")
  elseif workload == "followers" then
    -- The first five pages of user 1's followers (a celebrity: --celebrity-followers; pages
    -- that exist with 100 followers too), read by anyone else, who follows some of them
    -- (those come first).
    local caller = other(1)
    local offset = 20 * (math.random(5) - 1)
    return wrk.format("GET", "/api/v2/user/" .. ids[1] .. "/followers/?limit=20&offset=" .. offset, headers(caller))
  elseif workload == "suggest" then
    return wrk.format("GET", "/api/v2/suggestion/user/?limit=20", headers(i))
  else -- ceiling
    return wrk.format("GET", "/bench/ceiling", headers(i))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50":%d,"p90":%d,"p99":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
