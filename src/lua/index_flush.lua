-- A site's search-index queue flushed (index.lua), by a worker that
-- stored messages in it (src/ngx_http_chatport_index.c).
-- KEYS: the queue. ARGV: the most messages indexed. Returns how many are
-- left.
return index_flush(KEYS[1], tonumber(ARGV[1]))
