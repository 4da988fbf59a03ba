-- A site's search-index queue flushed (index.lua), by a worker that
-- stored messages in it (src/ngx_http_chatport_index.c).
-- KEYS: the queue. Returns how many messages it held.
return index_flush(KEYS[1])
