-- A stream entry of a conversation's messages as a message: the table
-- its JSON is encoded from, and the entry's fields. A photo's URL is
-- images .. its id (nil: no URL, as in a mail, where "[photo]" stands
-- for a photo sent without a text).
local function message(e, images)
  local f = {}
  for j = 1, #e[2], 2 do f[e[2][j]] = e[2][j + 1] end
  local m = {id = e[1], from = f.from, text = f.text,
             ts = tonumber(string.match(e[1], '^%d+'))}
  if f.agent then m.agent = f.agent end
  if f.name then m.name = f.name end
  if f.image then
    if images then
      local i = cjson.decode(f.image)
      m.image = {url = images .. e[1], width = i.width, height = i.height}
    elseif m.text == '' then
      m.text = '[photo]'
    end
  end
  return m, f
end
