-- wrk script: the full public-form path, as a citizen's phone does it.
-- Each connection alternates GET /s/<token> (the form, with its signed ticket) and
-- POST /s/<token> (answers + that ticket). A ticket read from any GET response in this thread
-- goes into a queue; the next request posts it, else it opens another form.
-- Arguments after `--`: <token> <answer bodies separated by "|"> (each without the ticket),
-- or `bare <path>`: plain GETs of one path, the same app's baseline on the same server.
-- Every request carries an X-Forwarded-For address from a random citizen pool, so the per-IP
-- rate limit sees many visitors (the server runs with TRUST_PROXY, as behind nginx).

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  args_path = args[2]
  bodies = {}
  for body in string.gmatch(args[2], "[^|]+") do
    table.insert(bodies, body)
  end
  tickets = {}
  acknowledged, rejected, forms, other, server_errors, rate_limited = 0, 0, 0, 0, 0, 0
  math.randomseed(os.time() * 1000 + id)
end

local function client_address()
  return string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255),
                       math.random(1, 254))
end

function request()
  if token == "bare" then
    return wrk.format("GET", args_path)
  end
  local headers = {["X-Forwarded-For"] = client_address()}
  local ticket = table.remove(tickets)
  if ticket then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local body = bodies[math.random(#bodies)] .. "&ticket=" .. ticket
    return wrk.format("POST", "/s/" .. token, headers, body)
  end
  return wrk.format("GET", "/s/" .. token .. "?via=qr", headers)
end

function response(status, headers, body)
  if token == "bare" then
    if status == 200 then acknowledged = acknowledged + 1 else rejected = rejected + 1 end
  elseif status == 303 then
    acknowledged = acknowledged + 1
  elseif status == 200 then
    local ticket = string.match(body, 'name="ticket"[^>]-value="([^"]+)"')
    if ticket then
      forms = forms + 1
      table.insert(tickets, ticket)
    else
      other = other + 1
    end
  elseif status >= 400 then
    rejected = rejected + 1
    if status >= 500 then server_errors = server_errors + 1 end
    if status == 429 then rate_limited = rate_limited + 1 end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = {acknowledged = 0, rejected = 0, forms = 0, other = 0, server_errors = 0,
                  rate_limited = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_s": %.3f, "acknowledged": %d, "rejected": %d, ' ..
    '"forms": %d, "other": %d, "server_errors": %d, "rate_limited": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, ' ..
    '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, totals.acknowledged, totals.rejected,
    totals.forms, totals.other, totals.server_errors, totals.rate_limited,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
