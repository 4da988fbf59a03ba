
/*
 * ChatPort: live chat and a contact form for any site behind nginx.
 * Configuration structures shared by the module's subsystems.
 */


#ifndef _NGX_HTTP_CHATPORT_H_INCLUDED_
#define _NGX_HTTP_CHATPORT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_chatport_custom.h"
#include "ngx_http_chatport_hours.h"
#include "ngx_http_chatport_smtp.h"


#define NGX_HTTP_CHATPORT_SITE_MAX     64
#define NGX_HTTP_CHATPORT_TEXT_MAX     512     /* title, greeting */
#define NGX_HTTP_CHATPORT_PAGE_MAX     2048    /* page, referrer URLs */
#define NGX_HTTP_CHATPORT_AGENT_MAX    512     /* User-Agent kept */
#define NGX_HTTP_CHATPORT_POST_KEY_MAX 64      /* a post's "key" */

#define NGX_HTTP_CHATPORT_KEY_ERROR                                          \
    "\"key\" must be 1 to 64 characters of A-Z a-z 0-9 _ -"


/* "COUNT/TIME": at most count in a window, counted in Redis */
typedef struct {
    ngx_uint_t                count;           /* NGX_CONF_UNSET_UINT */
    ngx_msec_t                window;
} ngx_http_chatport_rate_t;


typedef enum {
    NGX_HTTP_CHATPORT_LANG_AUTO = 0,
    NGX_HTTP_CHATPORT_LANG_EN,
    NGX_HTTP_CHATPORT_LANG_JA
} ngx_http_chatport_lang_e;


/* a Redis server or a Sentinel */
typedef struct {
    ngx_str_t                 text;            /* as written, for logs */
    ngx_str_t                 host;            /* numeric, null-terminated */
    ngx_int_t                 port;
} ngx_http_chatport_addr_t;


typedef struct {
    ngx_str_t                 redis_text;      /* as written, for logs */
    ngx_str_t                 redis_host;      /* numeric address */
    ngx_int_t                 redis_port;      /* 0 for a unix socket */
    ngx_str_t                 redis_unix;      /* null-terminated path */
    ngx_str_t                 redis_password;
    ngx_int_t                 redis_db;
    ngx_msec_t                redis_timeout;
    ngx_int_t                 redis_wait;      /* replicas, 0: no WAIT */
    ngx_msec_t                redis_wait_timeout;
    ngx_str_t                 sentinel_name;   /* the master's */
    ngx_array_t              *sentinels;       /* of addr_t, or NULL */
    ngx_str_t                 sentinel_password;
    ngx_array_t              *cluster;         /* seeds (addr_t), or NULL */
    ngx_flag_t                used;            /* any chatport location */
    ngx_flag_t                inject_used;     /* chatport_inject on */
    ngx_http_chatport_smtp_conf_t  smtp;
    ngx_msec_t                mail_retry;      /* then a mail fails */
    ngx_array_t              *mail_sites;      /* of ngx_str_t, or NULL */
    ngx_array_t              *zones;           /* loaded, one per name */
} ngx_http_chatport_main_conf_t;


typedef struct {
    ngx_str_t                 site;
    ngx_uint_t                site_derived;    /* from server_name */
    ngx_uint_t                used;            /* a chatport location */
    ngx_str_t                 timezone;
    ngx_http_chatport_tz_t   *tz;              /* NULL: UTC */
    ngx_str_t                 agent_prefix;    /* for links to the console */
    ngx_str_t                 console_url;     /* chatport_console_url */
    ngx_str_t                 mail_from;
} ngx_http_chatport_srv_conf_t;


typedef struct {
    ngx_str_t                 prefix;          /* chatport location name */
    ngx_str_t                 agent_prefix;    /* chatport_agent name */
    ngx_uint_t                agent_protected; /* by auth_basic/_request */
    ngx_array_t              *agent_sites;     /* of ngx_str_t, NULL: the
                                                  server's site */

    ngx_flag_t                inject;
    ngx_str_t                 inject_src;
    ngx_str_t                 inject_tag;      /* made from inject_src */

    ngx_msec_t                poll_timeout;
    ngx_msec_t                presence_grace;
    size_t                    max_message;
    size_t                    max_upload;      /* a photo's bytes */
    size_t                    upload_quota;    /* the site's photos */
    ngx_int_t                 history;
    time_t                    retention;
    time_t                    reply_wait;      /* then ask for an email */

    u_char                   *hours;           /* NULL: always open */

    ngx_str_t                 title;
    ngx_str_t                 greeting;
    ngx_str_t                 color;
    ngx_uint_t                lang;
    ngx_http_chatport_custom_conf_t  custom;

    ngx_str_t                 notify;

    ngx_array_t              *form_fields;     /* of form_field_t */
    ngx_http_chatport_rate_t  form_rate;       /* from an address */

    ngx_http_chatport_rate_t  chat_rate;       /* new conversations from */
    ngx_http_chatport_rate_t  chat_site_rate;  /* an address, in the site */

    ngx_array_t              *mail_to;         /* of ngx_str_t */
    ngx_flag_t                mail_visitor;
    ngx_msec_t                mail_delay;
    ngx_str_t                 mail;            /* settings for the scripts,
                                                  "" when no mail goes */
    ngx_array_t              *operators;       /* of operator_name_t */
} ngx_http_chatport_loc_conf_t;


extern ngx_module_t  ngx_http_chatport_module;
extern ngx_str_t     ngx_http_chatport_lang_names[];


/* a message's body may hold the text escaped, a page and a little JSON */
#define ngx_http_chatport_body_limit(clcf)                                   \
    (2 * (clcf)->max_message + 8192)


ngx_int_t ngx_http_chatport_visitor_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_chatport_agent_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_chatport_cid(ngx_http_request_t *r, ngx_str_t *arg);
ngx_str_t *ngx_http_chatport_operator(ngx_http_request_t *r);
ngx_int_t ngx_http_chatport_conf_addr(ngx_conf_t *cf, ngx_url_t *u,
    ngx_str_t *addr);
ngx_int_t ngx_http_chatport_message_text(ngx_http_request_t *r, json_t *root,
    ngx_str_t *text, ngx_str_t *page);
ngx_uint_t ngx_http_chatport_agent_protected(ngx_conf_t *cf);
ngx_int_t ngx_http_chatport_cid(ngx_http_request_t *r, ngx_str_t *arg);



#endif /* _NGX_HTTP_CHATPORT_H_INCLUDED_ */
