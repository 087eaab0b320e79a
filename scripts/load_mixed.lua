-- One class of the mixed load of scripts/load_mixed.sh: every request of this wrk process
-- deserves the same answer, so every response is checked against it.
--
--   wrk -t1 -c51 -d30s -s scripts/load_mixed.lua http://127.0.0.1:8091/admin -- CLASS [AUTHORIZATION]
--
-- CLASS is valid (200 "hello, admin"), forbidden (403, no challenge), expired (401
-- invalid_token "expired"), garbage (401 invalid_token "malformed") or missing (401 with the
-- bare challenge). Prints one line: "CLASS responses=N ok=N mismatched=N 5xx=N first=...".

-- Globals, not locals: done() reads them from the thread with thread:get().
class, expected, responses, ok, mismatched, server_errors, first = nil, nil, 0, 0, 0, 0, nil

local function header(headers, name)
  for key, value in pairs(headers) do
    if string.lower(key) == name then return value end
  end
  return nil
end

-- Whether a response is the one a request of `class` deserves, per shared/WIRE.md.
local checks = {
  valid = function(status, headers, body)
    return status == 200 and body == "hello, admin\n"
  end,
  forbidden = function(status, headers, body)
    return status == 403 and header(headers, "www-authenticate") == nil
  end,
  expired = function(status, headers, body)
    local challenge = header(headers, "www-authenticate") or ""
    return status == 401 and string.find(challenge, 'error="invalid_token"', 1, true) ~= nil
      and string.find(challenge, "expired", 1, true) ~= nil
  end,
  garbage = function(status, headers, body)
    local challenge = header(headers, "www-authenticate") or ""
    return status == 401 and string.find(challenge, 'error="invalid_token"', 1, true) ~= nil
      and string.find(challenge, "malformed", 1, true) ~= nil
  end,
  missing = function(status, headers, body)
    return status == 401 and header(headers, "www-authenticate") == 'Bearer realm="quickstart"'
  end,
}

function init(args)
  class = args[1]
  expected = checks[class]
  if expected == nil then error("unknown class " .. tostring(class)) end
  if args[2] ~= nil and args[2] ~= "" then wrk.headers["Authorization"] = args[2] end
  responses, ok, mismatched, server_errors = 0, 0, 0, 0
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 500 then server_errors = server_errors + 1 end
  if expected(status, headers, body) then
    ok = ok + 1
  else
    mismatched = mismatched + 1
    if first == nil then first = status .. " " .. tostring(header(headers, "www-authenticate")) end
  end
end

-- With one thread (-t1), the thread's counters are the whole run's; done() reads them back.
local thread_state
function setup(thread) thread_state = thread end

function done(summary, latency, requests)
  local t = thread_state
  io.write(string.format("%s responses=%d ok=%d mismatched=%d 5xx=%d first=%s\n",
    t:get("class"), t:get("responses"), t:get("ok"), t:get("mismatched"),
    t:get("server_errors"), tostring(t:get("first"))))
end
