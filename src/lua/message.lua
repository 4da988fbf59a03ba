-- A stream entry of a conversation's messages as a message: the table
-- its JSON is encoded from, and the entry's fields.
local function message(e)
  local f = {}
  for j = 1, #e[2], 2 do f[e[2][j]] = e[2][j + 1] end
  local m = {id = e[1], from = f.from, text = f.text,
             ts = tonumber(string.match(e[1], '^%d+'))}
  if f.agent then m.agent = f.agent end
  return m, f
end
