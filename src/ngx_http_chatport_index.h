
/*
 * ChatPort: the search index's queue, flushed by the workers that
 * stored messages in it.
 */


#ifndef _NGX_HTTP_CHATPORT_INDEX_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_INDEX_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


void ngx_http_chatport_index_init(void);
void ngx_http_chatport_index_note(ngx_str_t *site);
void ngx_http_chatport_index_exit(void);


#endif /* _NGX_HTTP_CHATPORT_INDEX_H_INCLUDED_ */
