
/*
 * ChatPort: what an uploaded photo is, told from its bytes alone.
 */


#ifndef _NGX_HTTP_CHATPORT_IMAGE_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_IMAGE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* the largest picture accepted, whatever its size in bytes */
#define NGX_HTTP_CHATPORT_IMAGE_SIDE_MAX    10000
#define NGX_HTTP_CHATPORT_IMAGE_PIXELS_MAX  50000000


typedef enum {
    NGX_HTTP_CHATPORT_IMAGE_NONE = 0,
    NGX_HTTP_CHATPORT_IMAGE_JPEG,
    NGX_HTTP_CHATPORT_IMAGE_PNG,
    NGX_HTTP_CHATPORT_IMAGE_WEBP,
    NGX_HTTP_CHATPORT_IMAGE_GIF
} ngx_http_chatport_image_format_e;


typedef struct {
    ngx_http_chatport_image_format_e  format;
    ngx_uint_t                        width;
    ngx_uint_t                        height;
} ngx_http_chatport_image_t;


ngx_int_t ngx_http_chatport_image_sniff(u_char *p, size_t len,
    ngx_http_chatport_image_t *img);
ngx_str_t *ngx_http_chatport_image_type(ngx_http_chatport_image_t *img);


#endif /* _NGX_HTTP_CHATPORT_IMAGE_H_INCLUDED_ */
