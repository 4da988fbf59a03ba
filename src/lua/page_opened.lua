-- A conversation's page history is a list of JSON entries {url, title,
-- ts}, oldest first, that starts with the page the conversation was
-- opened on: its first message or form recorded it in the meta, and
-- until a page report writes the history it is read from there.
-- Returns that first entry (a table) when the history is still empty,
-- nil when it is not (or no page was recorded), false when there is no
-- such conversation.
local function page_opened(meta, pages)
  local m = redis.call('HMGET', meta, 'created', 'first_page')
  if not m[1] then return false end
  if m[2] and m[2] ~= '' and redis.call('LLEN', pages) == 0 then
    return {url = m[2], title = '', ts = tonumber(m[1])}
  end
end
