-- wrk script for benches/dpop_load.sh: every request carries the bound token and the next of
-- the proofs in $PROOFS (first line: the token), so that no proof is ever replayed.
local token, proofs, next = nil, {}, 0
for line in io.lines(os.getenv("PROOFS")) do
  if token == nil then token = line else proofs[#proofs + 1] = line end
end

request = function()
  next = next + 1
  local proof = proofs[next] or proofs[#proofs]
  return wrk.format("GET", "/reports", { ["Authorization"] = "DPoP " .. token, ["DPoP"] = proof })
end
