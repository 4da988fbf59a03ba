
/*
 * ChatPort: live chat and a contact form for any site behind nginx.
 * Module definition, directives, configuration and init hooks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_canned.h"
#include "ngx_http_chatport_claim.h"
#include "ngx_http_chatport_cluster.h"
#include "ngx_http_chatport_custom.h"
#include "ngx_http_chatport_data.h"
#include "ngx_http_chatport_errors.h"
#include "ngx_http_chatport_filter.h"
#include "ngx_http_chatport_form.h"
#include "ngx_http_chatport_forms.h"
#include "ngx_http_chatport_hours.h"
#include "ngx_http_chatport_index.h"
#include "ngx_http_chatport_presence.h"
#include "ngx_http_chatport_mail.h"
#include "ngx_http_chatport_names.h"
#include "ngx_http_chatport_outbox.h"
#include "ngx_http_chatport_list.h"
#include "ngx_http_chatport_page.h"
#include "ngx_http_chatport_redis.h"
#include "ngx_http_chatport_sites.h"
#include "ngx_http_chatport_store.h"
#include "ngx_http_chatport_typing.h"
#include "ngx_http_chatport_waiters.h"


/* how a numeric directive's value is read, kept in the command's post */
typedef enum {
    NGX_HTTP_CHATPORT_ARG_SIZE = 1,
    NGX_HTTP_CHATPORT_ARG_MSEC,
    NGX_HTTP_CHATPORT_ARG_SEC,
    NGX_HTTP_CHATPORT_ARG_COUNT,       /* an integer of 1 or more */
    NGX_HTTP_CHATPORT_ARG_INDEX        /* an integer of 0 or more */
} ngx_http_chatport_arg_e;


static ngx_int_t ngx_http_chatport_init_process(ngx_cycle_t *cycle);
static void ngx_http_chatport_exit_process(ngx_cycle_t *cycle);
static void ngx_http_chatport_on_message(redisReply *reply);
static void ngx_http_chatport_on_sub_state(ngx_uint_t up);

static void *ngx_http_chatport_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_chatport_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_chatport_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_chatport_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static void *ngx_http_chatport_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_chatport_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);

static char *ngx_http_chatport_endpoints(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_redis_sentinel(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_chatport_redis_cluster(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_array_t *ngx_http_chatport_conf_addrs(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_uint_t first, char *what);
static char *ngx_http_chatport_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_smtp(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_smtp_string(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_chatport_smtp_read(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *name, ngx_str_t *value);
static ngx_fd_t ngx_http_chatport_smtp_open(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *name);
static char *ngx_http_chatport_number(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_site(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_timezone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_hours(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_mail_address_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_chatport_mail_to(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_chatport_mail_settings(ngx_conf_t *cf,
    ngx_http_chatport_loc_conf_t *conf);
static char *ngx_http_chatport_text(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_color(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_lang(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_form_field(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_form_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_chatport_chat_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_chatport_rate_parse(ngx_str_t *value,
    ngx_http_chatport_rate_t *rate);
static void ngx_http_chatport_merge_rate(ngx_http_chatport_rate_t *conf,
    ngx_http_chatport_rate_t *prev, ngx_uint_t count, ngx_msec_t window);

static char *ngx_http_chatport_inject_post(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_chatport_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_chatport_check_sites(ngx_conf_t *cf);
static int ngx_libc_cdecl ngx_http_chatport_cmp_sites(const void *one,
    const void *two);

static char *ngx_http_chatport_invalid(ngx_conf_t *cf, ngx_command_t *cmd,
    const char *why);


/* how a chatport_smtp_* string is given, kept in the command's post */
typedef enum {
    NGX_HTTP_CHATPORT_SMTP_VALUE = 0,
    NGX_HTTP_CHATPORT_SMTP_FILE,       /* the value is in the file */
    NGX_HTTP_CHATPORT_SMTP_PATH        /* a file libcurl reads */
} ngx_http_chatport_smtp_arg_e;


/* by ngx_http_chatport_lang_e */
ngx_str_t  ngx_http_chatport_lang_names[] = {
    ngx_string("auto"),
    ngx_string("en"),
    ngx_string("ja")
};


static ngx_conf_post_t  ngx_http_chatport_inject_used =
    { ngx_http_chatport_inject_post };


static ngx_command_t  ngx_http_chatport_commands[] = {

    { ngx_string("chatport_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("chatport_redis_sentinel"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_chatport_redis_sentinel,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("chatport_redis_cluster"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_chatport_redis_cluster,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("chatport_redis_sentinel_password"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, sentinel_password),
      NULL },

    { ngx_string("chatport_redis_wait"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_chatport_redis_wait,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("chatport_redis_password"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, redis_password),
      NULL },

    { ngx_string("chatport_redis_db"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, redis_db),
      (void *) NGX_HTTP_CHATPORT_ARG_INDEX },

    { ngx_string("chatport_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, redis_timeout),
      (void *) NGX_HTTP_CHATPORT_ARG_MSEC },

    { ngx_string("chatport_smtp"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_smtp,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("chatport_smtp_user"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_smtp_string,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, smtp.user),
      (void *) NGX_HTTP_CHATPORT_SMTP_VALUE },

    { ngx_string("chatport_smtp_password"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_smtp_string,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, smtp.password),
      (void *) NGX_HTTP_CHATPORT_SMTP_VALUE },

    { ngx_string("chatport_smtp_password_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_smtp_string,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, smtp.password),
      (void *) NGX_HTTP_CHATPORT_SMTP_FILE },

    { ngx_string("chatport_smtp_ca"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_smtp_string,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, smtp.ca),
      (void *) NGX_HTTP_CHATPORT_SMTP_PATH },

    { ngx_string("chatport_smtp_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, smtp.timeout),
      (void *) NGX_HTTP_CHATPORT_ARG_MSEC },

    { ngx_string("chatport_site"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_site,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_chatport_srv_conf_t, site),
      NULL },

    { ngx_string("chatport_timezone"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_timezone,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_chatport_srv_conf_t, timezone),
      NULL },

    { ngx_string("chatport_console_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_uri,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_chatport_srv_conf_t, console_url),
      (void *) 2 },                        /* http(s):// URLs only */

    { ngx_string("chatport_mail_from"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_mail_address_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_chatport_srv_conf_t, mail_from),
      NULL },

    { ngx_string("chatport_mail_retry"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_chatport_main_conf_t, mail_retry),
      (void *) NGX_HTTP_CHATPORT_ARG_MSEC },

    { ngx_string("chatport"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_chatport_endpoints,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, prefix),
      ngx_http_chatport_visitor_handler },

    { ngx_string("chatport_agent"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_chatport_endpoints,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, agent_prefix),
      ngx_http_chatport_agent_handler },

    { ngx_string("chatport_agent_sites"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_chatport_agent_sites,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("chatport_inject"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, inject),
      &ngx_http_chatport_inject_used },

    { ngx_string("chatport_inject_src"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, inject_src),
      (void *) 1 },                        /* http(s):// URLs allowed */

    { ngx_string("chatport_poll_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, poll_timeout),
      (void *) NGX_HTTP_CHATPORT_ARG_MSEC },

    { ngx_string("chatport_presence_grace"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, presence_grace),
      (void *) NGX_HTTP_CHATPORT_ARG_MSEC },

    { ngx_string("chatport_max_message"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, max_message),
      (void *) NGX_HTTP_CHATPORT_ARG_SIZE },

    { ngx_string("chatport_max_upload"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, max_upload),
      (void *) NGX_HTTP_CHATPORT_ARG_SIZE },

    { ngx_string("chatport_upload_quota"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, upload_quota),
      (void *) NGX_HTTP_CHATPORT_ARG_SIZE },

    { ngx_string("chatport_reply_wait"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, reply_wait),
      (void *) NGX_HTTP_CHATPORT_ARG_SEC },

    { ngx_string("chatport_history"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, history),
      (void *) NGX_HTTP_CHATPORT_ARG_COUNT },

    { ngx_string("chatport_retention"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, retention),
      (void *) NGX_HTTP_CHATPORT_ARG_SEC },

    { ngx_string("chatport_hours"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_chatport_hours,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, hours),
      NULL },

    { ngx_string("chatport_title"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_text,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, title),
      NULL },

    { ngx_string("chatport_greeting"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_text,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, greeting),
      NULL },

    { ngx_string("chatport_color"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_color,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, color),
      NULL },

    { ngx_string("chatport_lang"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_lang,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, lang),
      NULL },

    { ngx_string("chatport_offline_text"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_text,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, custom.offline),
      NULL },

    { ngx_string("chatport_thanks_text"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_text,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, custom.thanks),
      NULL },

    { ngx_string("chatport_privacy_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, custom.privacy_url),
      (void *) 2 },                        /* http(s):// URLs only */

    { ngx_string("chatport_position"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_chatport_position,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, custom),
      NULL },

    { ngx_string("chatport_notify"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, notify),
      NULL },

    { ngx_string("chatport_form_field"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_chatport_form_field,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, form_fields),
      NULL },

    { ngx_string("chatport_form_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_form_rate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("chatport_chat_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_chatport_chat_rate,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("chatport_mail_to"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_chatport_mail_to,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, mail_to),
      NULL },

    { ngx_string("chatport_mail_visitor"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, mail_visitor),
      NULL },

    { ngx_string("chatport_mail_delay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_chatport_number,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, mail_delay),
      (void *) NGX_HTTP_CHATPORT_ARG_MSEC },

    { ngx_string("chatport_operator"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_chatport_operator_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_chatport_loc_conf_t, operators),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_chatport_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_chatport_postconfiguration,   /* postconfiguration */

    ngx_http_chatport_create_main_conf,    /* create main configuration */
    ngx_http_chatport_init_main_conf,      /* init main configuration */

    ngx_http_chatport_create_srv_conf,     /* create server configuration */
    ngx_http_chatport_merge_srv_conf,      /* merge server configuration */

    ngx_http_chatport_create_loc_conf,     /* create location configuration */
    ngx_http_chatport_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_chatport_module = {
    NGX_MODULE_V1,
    &ngx_http_chatport_module_ctx,         /* module context */
    ngx_http_chatport_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_chatport_init_process,        /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_chatport_exit_process,        /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* each worker has its own Redis connections and table of waiters */

static ngx_int_t
ngx_http_chatport_init_process(ngx_cycle_t *cycle)
{
    ngx_http_chatport_main_conf_t  *cmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_chatport_module);

    if (cmcf == NULL || !cmcf->used) {
        return NGX_OK;
    }

    ngx_http_chatport_store_init();
    ngx_http_chatport_forms_init();
    ngx_http_chatport_data_init();
    ngx_http_chatport_list_init();
    ngx_http_chatport_page_init();
    ngx_http_chatport_typing_init();
    ngx_http_chatport_claim_init();
    ngx_http_chatport_canned_init();
    ngx_http_chatport_waiters_init();
    ngx_http_chatport_presence_init();
    ngx_http_chatport_index_init();

    if (ngx_http_chatport_outbox_init(cycle, cmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_chatport_redis_init(cycle, cmcf,
                                        ngx_http_chatport_on_message,
                                        ngx_http_chatport_on_sub_state,
                                        ngx_http_chatport_waiters_on_cmd_ready);
}


/*
 * The pub/sub link carries the waiters' channels, the presence one and
 * the outbox's.
 */

static void
ngx_http_chatport_on_message(redisReply *reply)
{
    if (ngx_http_chatport_presence_on_message(reply) == NGX_DECLINED
        && ngx_http_chatport_outbox_on_message(reply) == NGX_DECLINED)
    {
        ngx_http_chatport_waiters_on_message(reply);
    }
}


static void
ngx_http_chatport_on_sub_state(ngx_uint_t up)
{
    ngx_http_chatport_presence_on_sub_state(up);
    ngx_http_chatport_outbox_on_sub_state(up);
    ngx_http_chatport_waiters_on_sub_state(up);
}


static void
ngx_http_chatport_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_chatport_main_conf_t  *cmcf;

    /* only what ngx_http_chatport_init_process() started */
    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_chatport_module);

    if (cmcf != NULL && cmcf->used) {
        ngx_http_chatport_redis_exit();
        ngx_http_chatport_waiters_exit();
        ngx_http_chatport_presence_exit();
        ngx_http_chatport_outbox_exit();
        ngx_http_chatport_index_exit();
    }
}


/* the filters are in the chain only where some location needs them */

static ngx_int_t
ngx_http_chatport_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_chatport_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_chatport_module);

    if (cmcf->used
        && (ngx_http_chatport_check_sites(cf) != NGX_OK
            || ngx_http_chatport_errors_init(cf) != NGX_OK))
    {
        return NGX_ERROR;
    }

    if (cmcf->inject_used) {
        return ngx_http_chatport_filter_init(cf);
    }

    return NGX_OK;
}


/*
 * Two servers whose default sites (derived from server_name) come out the
 * same from different names, "*.a.test" and "_.a.test", two long names
 * alike in their first 64 bytes, or two servers without a name, would
 * share conversations by accident: nginx -t fails and asks for
 * chatport_site. The same first name, or a chatport_site set on purpose,
 * shares them as meant.
 */

static ngx_int_t
ngx_http_chatport_check_sites(ngx_conf_t *cf)
{
    ngx_uint_t                     i, n;
    ngx_http_core_srv_conf_t     **cores, **derived, *a, *b;
    ngx_http_core_main_conf_t     *core;
    ngx_http_chatport_srv_conf_t  *cscf;

    core = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    cores = core->servers.elts;

    derived = ngx_palloc(cf->temp_pool,
                         core->servers.nelts * sizeof(void *));
    if (derived == NULL) {
        return NGX_ERROR;
    }

    n = 0;

    for (i = 0; i < core->servers.nelts; i++) {
        cscf = cores[i]->ctx->srv_conf[ngx_http_chatport_module.ctx_index];

        if (cscf->used && cscf->site_derived) {
            derived[n++] = cores[i];
        }
    }

    ngx_qsort(derived, n, sizeof(void *), ngx_http_chatport_cmp_sites);

    for (i = 1; i < n; i++) {
        if (ngx_http_chatport_cmp_sites(&derived[i - 1], &derived[i]) != 0) {
            continue;
        }

        a = derived[i - 1];
        b = derived[i];

        if (a->server_name.len
            && a->server_name.len == b->server_name.len
            && ngx_strncmp(a->server_name.data, b->server_name.data,
                           a->server_name.len) == 0)
        {
            continue;
        }

        cscf = a->ctx->srv_conf[ngx_http_chatport_module.ctx_index];

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "servers \"%V\" and \"%V\" would share the "
                           "chatport site \"%V\" derived from their names: "
                           "set \"chatport_site\" in each of them",
                           &a->server_name, &b->server_name, &cscf->site);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_chatport_cmp_sites(const void *one, const void *two)
{
    ngx_http_core_srv_conf_t     *a, *b;
    ngx_http_chatport_srv_conf_t  *sa, *sb;

    a = *(ngx_http_core_srv_conf_t **) one;
    b = *(ngx_http_core_srv_conf_t **) two;

    sa = a->ctx->srv_conf[ngx_http_chatport_module.ctx_index];
    sb = b->ctx->srv_conf[ngx_http_chatport_module.ctx_index];

    if (sa->site.len != sb->site.len) {
        return sa->site.len < sb->site.len ? -1 : 1;
    }

    return ngx_strncmp(sa->site.data, sb->site.data, sa->site.len);
}


static char *
ngx_http_chatport_inject_post(ngx_conf_t *cf, void *post, void *data)
{
    ngx_flag_t                     *inject = data;
    ngx_http_chatport_main_conf_t  *cmcf;

    if (*inject) {
        cmcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_chatport_module);
        cmcf->inject_used = 1;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_chatport_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_chatport_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_chatport_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cmcf->redis_text = { 0, NULL };
     *     cmcf->redis_host = { 0, NULL };
     *     cmcf->redis_unix = { 0, NULL };
     *     cmcf->redis_password = { 0, NULL };
     *     cmcf->sentinel_name = { 0, NULL };
     *     cmcf->sentinels = NULL;
     *     cmcf->sentinel_password = { 0, NULL };
     *     cmcf->cluster = NULL;
     *     cmcf->smtp.url = { 0, NULL };
     *     cmcf->smtp.user = { 0, NULL };
     *     cmcf->smtp.password = { 0, NULL };
     *     cmcf->smtp.ca = { 0, NULL };
     *     cmcf->used = 0;
     *     cmcf->zones = NULL;
     */

    cmcf->redis_port = NGX_CONF_UNSET;
    cmcf->redis_db = NGX_CONF_UNSET;
    cmcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    cmcf->redis_wait = NGX_CONF_UNSET;
    cmcf->redis_wait_timeout = NGX_CONF_UNSET_MSEC;
    cmcf->mail_retry = NGX_CONF_UNSET_MSEC;
    cmcf->smtp.timeout = NGX_CONF_UNSET_MSEC;

    return cmcf;
}


static char *
ngx_http_chatport_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_chatport_main_conf_t  *cmcf = conf;

    if (cmcf->sentinels && cmcf->redis_port != NGX_CONF_UNSET) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"chatport_redis\" and "
                           "\"chatport_redis_sentinel\" exclude each other: "
                           "the sentinels name the master");
        return NGX_CONF_ERROR;
    }

    if (cmcf->cluster
        && (cmcf->sentinels || cmcf->redis_port != NGX_CONF_UNSET))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"chatport_redis_cluster\" and \"%s\" exclude "
                           "each other: the cluster's nodes name its masters",
                           cmcf->sentinels ? "chatport_redis_sentinel"
                                           : "chatport_redis");
        return NGX_CONF_ERROR;
    }

    if (cmcf->cluster && cmcf->redis_db != NGX_CONF_UNSET
        && cmcf->redis_db != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"chatport_redis_db\" must be 0 with "
                           "\"chatport_redis_cluster\": a cluster has "
                           "database 0 only");
        return NGX_CONF_ERROR;
    }

    if (cmcf->sentinel_password.data && cmcf->sentinels == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"chatport_redis_sentinel_password\" is set "
                           "without \"chatport_redis_sentinel\"");
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(cmcf->redis_wait, 0);
    /* 0 without WAIT: the command timers add it */
    ngx_conf_init_msec_value(cmcf->redis_wait_timeout,
                             cmcf->redis_wait ? 1000 : 0);

    if (cmcf->redis_port == NGX_CONF_UNSET) {
        ngx_str_set(&cmcf->redis_text, "127.0.0.1:6379");
        ngx_str_set(&cmcf->redis_host, "127.0.0.1");
        cmcf->redis_port = 6379;
    }

    ngx_conf_init_value(cmcf->redis_db, 0);
    ngx_conf_init_msec_value(cmcf->redis_timeout, 3000);
    ngx_conf_init_msec_value(cmcf->mail_retry, 24 * 60 * 60 * 1000);
    ngx_conf_init_msec_value(cmcf->smtp.timeout, 30000);

    if ((cmcf->smtp.user.len == 0) != (cmcf->smtp.password.len == 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"chatport_smtp_user\" and a password "
                           "(\"chatport_smtp_password\" or "
                           "\"chatport_smtp_password_file\") go together");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_chatport_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_chatport_srv_conf_t  *cscf;

    cscf = ngx_pcalloc(cf->pool, sizeof(ngx_http_chatport_srv_conf_t));
    if (cscf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     cscf->site = { 0, NULL };
     *     cscf->site_derived = 0;
     *     cscf->used = 0;
     *     cscf->timezone = { 0, NULL };
     *     cscf->console_url = { 0, NULL };
     *     cscf->mail_from = { 0, NULL };
     */

    cscf->tz = NGX_CONF_UNSET_PTR;

    return cscf;
}


static char *
ngx_http_chatport_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_chatport_srv_conf_t *prev = parent;
    ngx_http_chatport_srv_conf_t *conf = child;

    u_char                    *p;
    size_t                     len;
    ngx_http_core_srv_conf_t  *core;

    ngx_conf_merge_str_value(conf->timezone, prev->timezone, "UTC");
    ngx_conf_merge_str_value(conf->console_url, prev->console_url, "");
    ngx_conf_merge_str_value(conf->mail_from, prev->mail_from, "");
    ngx_conf_merge_ptr_value(conf->tz, prev->tz, NULL);

    if (conf->site.data == NULL) {
        conf->site = prev->site;
    }

    if (conf->site.data != NULL) {
        return NGX_CONF_OK;
    }

    /*
     * The default site is the server's first name, with every character
     * that a site name cannot hold (a wildcard, a regex) turned into "_".
     */

    core = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    conf->site_derived = 1;
    len = ngx_min(core->server_name.len, NGX_HTTP_CHATPORT_SITE_MAX);

    if (len == 0) {
        ngx_str_set(&conf->site, "default");
        return NGX_CONF_OK;
    }

    conf->site.data = ngx_pnalloc(cf->pool, len);
    if (conf->site.data == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->site.len = len;

    for (p = conf->site.data; len--; p++) {
        *p = core->server_name.data[p - conf->site.data];

        if (!(isalnum(*p) || *p == '.' || *p == '_' || *p == '-')) {
            *p = '_';
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_chatport_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_chatport_loc_conf_t));
    if (clcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     clcf->prefix = { 0, NULL };
     *     clcf->agent_prefix = { 0, NULL };
     *     clcf->inject_src = { 0, NULL };
     *     clcf->title = { 0, NULL };
     *     clcf->greeting = { 0, NULL };
     *     clcf->color = { 0, NULL };
     *     clcf->notify = { 0, NULL };
     *     clcf->mail = { 0, NULL };
     *     clcf->custom.offline = { 0, NULL };
     *     clcf->custom.thanks = { 0, NULL };
     *     clcf->custom.privacy_url = { 0, NULL };
     */

    clcf->inject = NGX_CONF_UNSET;
    clcf->poll_timeout = NGX_CONF_UNSET_MSEC;
    clcf->presence_grace = NGX_CONF_UNSET_MSEC;
    clcf->max_message = NGX_CONF_UNSET_SIZE;
    clcf->max_upload = NGX_CONF_UNSET_SIZE;
    clcf->upload_quota = NGX_CONF_UNSET_SIZE;
    clcf->history = NGX_CONF_UNSET;
    clcf->retention = NGX_CONF_UNSET;
    clcf->reply_wait = NGX_CONF_UNSET;
    clcf->hours = NGX_CONF_UNSET_PTR;
    clcf->lang = NGX_CONF_UNSET_UINT;
    clcf->form_fields = NGX_CONF_UNSET_PTR;
    clcf->form_rate.count = NGX_CONF_UNSET_UINT;
    clcf->chat_rate.count = NGX_CONF_UNSET_UINT;
    clcf->chat_site_rate.count = NGX_CONF_UNSET_UINT;
    clcf->mail_to = NGX_CONF_UNSET_PTR;
    clcf->mail_visitor = NGX_CONF_UNSET;
    clcf->mail_delay = NGX_CONF_UNSET_MSEC;
    clcf->operators = NGX_CONF_UNSET_PTR;
    clcf->custom.position = NGX_CONF_UNSET_UINT;
    clcf->agent_sites = NGX_CONF_UNSET_PTR;

    return clcf;
}


static char *
ngx_http_chatport_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_chatport_loc_conf_t *prev = parent;
    ngx_http_chatport_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->inject, prev->inject, 0);
    ngx_conf_merge_str_value(conf->inject_src, prev->inject_src,
                             "/chatport/widget.js");

    if (conf->inject) {
        conf->inject_tag.len = sizeof("<script src=\"\" defer data-chatport>"
                                      "</script>") - 1
                               + conf->inject_src.len;
        conf->inject_tag.data = ngx_pnalloc(cf->pool, conf->inject_tag.len);
        if (conf->inject_tag.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(conf->inject_tag.data,
                    "<script src=\"%V\" defer data-chatport></script>",
                    &conf->inject_src);
    }

    ngx_conf_merge_msec_value(conf->poll_timeout, prev->poll_timeout, 30000);
    ngx_conf_merge_msec_value(conf->presence_grace, prev->presence_grace,
                              90000);
    ngx_conf_merge_size_value(conf->max_message, prev->max_message, 2048);
    ngx_conf_merge_size_value(conf->max_upload, prev->max_upload,
                              4 * 1024 * 1024);
    ngx_conf_merge_size_value(conf->upload_quota, prev->upload_quota,
                              200 * 1024 * 1024);
    ngx_conf_merge_value(conf->history, prev->history, 200);
    ngx_conf_merge_sec_value(conf->retention, prev->retention,
                             30 * 24 * 60 * 60);
    ngx_conf_merge_sec_value(conf->reply_wait, prev->reply_wait, 2 * 60);
    ngx_conf_merge_ptr_value(conf->hours, prev->hours, NULL);

    /* an empty title or greeting means the widget's own per-language text */
    ngx_conf_merge_str_value(conf->title, prev->title, "");
    ngx_conf_merge_str_value(conf->greeting, prev->greeting, "");
    ngx_conf_merge_str_value(conf->color, prev->color, "#2563eb");
    ngx_conf_merge_uint_value(conf->lang, prev->lang,
                              NGX_HTTP_CHATPORT_LANG_AUTO);

    ngx_conf_merge_str_value(conf->notify, prev->notify, "");

    ngx_http_chatport_custom_merge(&conf->custom, &prev->custom);

    ngx_conf_merge_ptr_value(conf->form_fields, prev->form_fields, NULL);

    if (conf->form_fields == NULL) {
        conf->form_fields = ngx_http_chatport_form_default_fields(cf);
        if (conf->form_fields == NULL) {
            return NGX_CONF_ERROR;
        }

        /* one default list for the levels below */
        prev->form_fields = conf->form_fields;
    }

    ngx_http_chatport_merge_rate(&conf->form_rate, &prev->form_rate,
                                 5, 10 * 60 * 1000);
    ngx_http_chatport_merge_rate(&conf->chat_rate, &prev->chat_rate,
                                 10, 10 * 60 * 1000);
    ngx_http_chatport_merge_rate(&conf->chat_site_rate, &prev->chat_site_rate,
                                 1000, 10 * 60 * 1000);

    ngx_conf_merge_ptr_value(conf->mail_to, prev->mail_to, NULL);
    ngx_conf_merge_value(conf->mail_visitor, prev->mail_visitor, 1);
    ngx_conf_merge_msec_value(conf->mail_delay, prev->mail_delay, 60000);
    ngx_conf_merge_ptr_value(conf->operators, prev->operators, NULL);

    if (ngx_http_chatport_mail_settings(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->agent_sites != NGX_CONF_UNSET_PTR
        && conf->agent_prefix.data == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"chatport_agent_sites\" needs \"chatport_agent\" "
                           "in the same location");
        return NGX_CONF_ERROR;
    }

    /*
     * Not inherited: a location below would otherwise let its requests
     * choose their site with "site", a visitor's too.
     */
    if (conf->agent_sites == NGX_CONF_UNSET_PTR) {
        conf->agent_sites = NULL;
    }

    if (conf->agent_prefix.data) {
        conf->agent_protected = ngx_http_chatport_agent_protected(cf);

        if (!conf->agent_protected) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "chatport_agent location \"%V\" is not "
                               "protected by auth_basic or auth_request: "
                               "it will refuse every request",
                               &conf->agent_prefix);
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_endpoints(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                      *prefix;
    ngx_http_core_loc_conf_t       *core;
    ngx_http_chatport_srv_conf_t   *cscf;
    ngx_http_chatport_main_conf_t  *cmcf;

    prefix = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (prefix->data != NULL) {
        return "is duplicate";
    }

    core = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

#if (NGX_PCRE)
    if (core->regex) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be used in a regex location \"%V\"",
                           &cmd->name, &core->name);
        return NGX_CONF_ERROR;
    }
#endif

    if (core->exact_match) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs a prefix location, not \"= %V\"",
                           &cmd->name, &core->name);
        return NGX_CONF_ERROR;
    }

    if (core->handler != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" location \"%V\" already has a content "
                           "handler", &cmd->name, &core->name);
        return NGX_CONF_ERROR;
    }

    *prefix = core->name;
    core->handler = (ngx_http_handler_pt) cmd->post;

    /*
     * error_page inherited from the server would turn an error into a
     * redirect to an HTML page: below ChatPort errors are JSON. An empty
     * list is not inherited; error_page in this location still adds to it.
     */
    if (core->error_pages == NULL) {
        core->error_pages = ngx_array_create(cf->pool, 1,
                                             sizeof(ngx_http_err_page_t));
        if (core->error_pages == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* "/chatport/agent" is redirected to "/chatport/agent/" */
    if (core->name.len && core->name.data[core->name.len - 1] == '/') {
        core->auto_redirect = 1;
    }

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_chatport_module);
    cscf->used = 1;

    if (cmd->post == ngx_http_chatport_agent_handler) {
        /* notifications link to the server's first console */
        if (cscf->agent_prefix.len == 0) {
            cscf->agent_prefix = core->name;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_chatport_module);
    cmcf->used = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_main_conf_t  *cmcf = conf;

    u_char     *p;
    ngx_int_t   rc;
    ngx_str_t  *value;
    ngx_url_t   u;

    if (cmcf->redis_port != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    cmcf->redis_text = value[1];

    if (value[1].len > 5 && ngx_strncmp(value[1].data, "unix:", 5) == 0) {

        if (value[1].len == 5 || value[1].data[5] != '/') {
            return ngx_http_chatport_invalid(cf, cmd,
                                             "\"unix:\" and a full path");
        }

        /* hiredis wants a C string */
        p = ngx_pnalloc(cf->pool, value[1].len - 5 + 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        cmcf->redis_unix.len = value[1].len - 5;
        cmcf->redis_unix.data = p;
        *ngx_cpymem(p, value[1].data + 5, cmcf->redis_unix.len) = '\0';
        cmcf->redis_port = 0;

        return NGX_CONF_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = value[1];

    rc = ngx_http_chatport_conf_addr(cf, &u, &cmcf->redis_host);

    if (rc == NGX_DECLINED) {
        return ngx_http_chatport_invalid(cf, cmd, "a host name that resolves");
    }

    if (rc != NGX_OK || u.no_port || u.port == 0) {
        return ngx_http_chatport_invalid(cf, cmd,
                                         "\"host:port\" or \"unix:/path\"");
    }

    cmcf->redis_port = u.port;

    return NGX_CONF_OK;
}


/* chatport_redis_sentinel NAME host:port ... */

static char *
ngx_http_chatport_redis_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_chatport_main_conf_t  *cmcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (cmcf->sentinels) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= ' ' || value[1].data[i] == 0x7f) {
            return ngx_http_chatport_invalid(cf, cmd,
                                             "a master name without spaces");
        }
    }

    cmcf->sentinel_name = value[1];

    cmcf->sentinels = ngx_http_chatport_conf_addrs(cf, cmd, 2, "sentinel");
    if (cmcf->sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* chatport_redis_cluster host:port ... */

static char *
ngx_http_chatport_redis_cluster(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_chatport_main_conf_t  *cmcf = conf;

    if (cmcf->cluster) {
        return "is duplicate";
    }

    cmcf->cluster = ngx_http_chatport_conf_addrs(cf, cmd, 1, "node");
    if (cmcf->cluster == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cmcf->cluster->nelts > NGX_HTTP_CHATPORT_CLUSTER_NODES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "more than %d nodes in \"%V\" directive",
                           NGX_HTTP_CHATPORT_CLUSTER_NODES, &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the directive's "host:port" arguments from the first-th on */

static ngx_array_t *
ngx_http_chatport_conf_addrs(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_uint_t first, char *what)
{
    ngx_int_t                  rc;
    ngx_str_t                 *value;
    ngx_url_t                  u;
    ngx_uint_t                 i;
    ngx_array_t               *a;
    ngx_http_chatport_addr_t  *addr;

    value = cf->args->elts;

    a = ngx_array_create(cf->pool, cf->args->nelts - first,
                         sizeof(ngx_http_chatport_addr_t));
    if (a == NULL) {
        return NULL;
    }

    for (i = first; i < cf->args->nelts; i++) {
        addr = ngx_array_push(a);
        if (addr == NULL) {
            return NULL;
        }

        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url = value[i];

        rc = ngx_http_chatport_conf_addr(cf, &u, &addr->host);

        if (rc != NGX_OK || u.no_port || u.port == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid %s \"%V\" in \"%V\" "
                               "directive, it must be \"host:port\"%s",
                               what, &value[i], &cmd->name,
                               rc == NGX_DECLINED
                               ? " with a host name that resolves" : "");
            return NULL;
        }

        addr->text = value[i];
        addr->port = u.port;
    }

    return a;
}


/* chatport_redis_wait N [TIMEOUT] */

static char *
ngx_http_chatport_redis_wait(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_main_conf_t  *cmcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (cmcf->redis_wait != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n == 0) {
        return ngx_http_chatport_invalid(cf, cmd,
                                         "a number of replicas above 0");
    }

    cmcf->redis_wait = n;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    n = ngx_parse_time(&value[2], 0);
    if (n == NGX_ERROR || n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid timeout \"%V\" in \"%V\" directive, "
                           "it must be a time above 0", &value[2],
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    cmcf->redis_wait_timeout = n;

    return NGX_CONF_OK;
}


/*
 * Parses u->url, "host[:port]" (u->default_port when none), and resolves
 * the host here, once: a worker must never block on DNS. addr gets the
 * first address, numeric and null-terminated. NGX_DECLINED: the host name
 * does not resolve; NGX_ERROR: not a host and port.
 */

ngx_int_t
ngx_http_chatport_conf_addr(ngx_conf_t *cf, ngx_url_t *u, ngx_str_t *addr)
{
    u_char  *p;

    u->no_resolve = 0;

    if (ngx_parse_url(cf->pool, u) != NGX_OK) {
        return (u->err && ngx_strcmp(u->err, "host not found") == 0)
               ? NGX_DECLINED : NGX_ERROR;
    }

    if (u->naddrs == 0 || u->uri.len) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    addr->data = p;
    addr->len = ngx_sock_ntop(u->addrs[0].sockaddr, u->addrs[0].socklen, p,
                              NGX_SOCKADDR_STRLEN, 0);
    p[addr->len] = '\0';

    return NGX_OK;
}


static char *
ngx_http_chatport_smtp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_main_conf_t  *cmcf = conf;

    char       *rv;
    ngx_str_t  *value;

    if (cmcf->smtp.url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rv = ngx_http_chatport_smtp_url(cf, &cmcf->smtp, &value[1]);

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

    return ngx_http_chatport_invalid(cf, cmd, rv);
}


/*
 * The SMTP user, password and CA file, which libcurl takes as C strings
 * (nginx's arguments are null-terminated). A password file or a CA file
 * that cannot be read fails nginx -t, not the first mail.
 */

static char *
ngx_http_chatport_smtp_string(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_fd_t    fd;
    ngx_str_t  *field, *value, name;

    field = (ngx_str_t *) ((char *) conf + cmd->offset);
    value = cf->args->elts;

    if (field->data) {
        if (cmd->offset != offsetof(ngx_http_chatport_main_conf_t,
                                    smtp.password))
        {
            return "is duplicate";
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the SMTP password is given once, with either "
                           "\"chatport_smtp_password\" or "
                           "\"chatport_smtp_password_file\"");
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 0) {
        return ngx_http_chatport_invalid(cf, cmd, "not empty");
    }

    switch ((ngx_http_chatport_smtp_arg_e) (uintptr_t) cmd->post) {

    case NGX_HTTP_CHATPORT_SMTP_VALUE:
        *field = value[1];
        return NGX_CONF_OK;

    case NGX_HTTP_CHATPORT_SMTP_FILE:
        name = value[1];
        return ngx_http_chatport_smtp_read(cf, cmd, &name, field);

    default: /* PATH */
        break;
    }

    name = value[1];

    fd = ngx_http_chatport_smtp_open(cf, cmd, &name);
    if (fd == NGX_INVALID_FILE) {
        return NGX_CONF_ERROR;
    }

    ngx_close_file(fd);

    *field = name;

    return NGX_CONF_OK;
}


/* a password file: its content, without one trailing newline */

static char *
ngx_http_chatport_smtp_read(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *name, ngx_str_t *value)
{
    u_char    *p, buf[4096];
    ssize_t    n;
    ngx_fd_t   fd;

    fd = ngx_http_chatport_smtp_open(cf, cmd, name);
    if (fd == NGX_INVALID_FILE) {
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));

    ngx_close_file(fd);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot read \"%s\"", &cmd->name,
                           name->data);
        return NGX_CONF_ERROR;
    }

    if (n > 0 && buf[n - 1] == '\n') {
        n--;

        if (n > 0 && buf[n - 1] == '\r') {
            n--;
        }
    }

    if (n == 0 || n == sizeof(buf) || ngx_strlchr(buf, buf + n, '\0')
        || ngx_strlchr(buf, buf + n, '\n'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" file \"%s\" must hold a password of "
                           "one line, up to 4095 bytes", &cmd->name,
                           name->data);
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, n + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    value->data = p;
    value->len = n;
    *ngx_cpymem(p, buf, n) = '\0';

    return NGX_CONF_OK;
}


/* a regular file, its name made full (relative to the configuration) */

static ngx_fd_t
ngx_http_chatport_smtp_open(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *name)
{
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_INVALID_FILE;
    }

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot read \"%s\"", &cmd->name,
                           name->data);
        return NGX_INVALID_FILE;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot read \"%s\": not a file",
                           &cmd->name, name->data);
        ngx_close_file(fd);
        return NGX_INVALID_FILE;
    }

    return fd;
}


static char *
ngx_http_chatport_number(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *field = conf;
    ngx_str_t  *value;
    ngx_int_t   n;

    value = cf->args->elts;
    field += cmd->offset;

    switch ((ngx_http_chatport_arg_e) (uintptr_t) cmd->post) {

    case NGX_HTTP_CHATPORT_ARG_SIZE:
        if (*(size_t *) field != NGX_CONF_UNSET_SIZE) {
            return "is duplicate";
        }

        n = ngx_parse_size(&value[1]);
        if (n <= 0) {
            return ngx_http_chatport_invalid(cf, cmd, "a size above 0");
        }

        *(size_t *) field = n;
        break;

    case NGX_HTTP_CHATPORT_ARG_MSEC:
        if (*(ngx_msec_t *) field != NGX_CONF_UNSET_MSEC) {
            return "is duplicate";
        }

        n = ngx_parse_time(&value[1], 0);
        if (n == NGX_ERROR || n == 0) {
            return ngx_http_chatport_invalid(cf, cmd, "a time above 0");
        }

        *(ngx_msec_t *) field = n;
        break;

    case NGX_HTTP_CHATPORT_ARG_SEC:
        if (*(time_t *) field != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        n = ngx_parse_time(&value[1], 1);
        if (n == NGX_ERROR || n == 0) {
            return ngx_http_chatport_invalid(cf, cmd, "a time above 0");
        }

        *(time_t *) field = n;
        break;

    default: /* COUNT, INDEX */
        if (*(ngx_int_t *) field != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        n = ngx_atoi(value[1].data, value[1].len);
        if (n == NGX_ERROR
            || (n == 0
                && (uintptr_t) cmd->post == NGX_HTTP_CHATPORT_ARG_COUNT))
        {
            return ngx_http_chatport_invalid(cf, cmd,
                       (uintptr_t) cmd->post == NGX_HTTP_CHATPORT_ARG_COUNT
                       ? "a number above 0" : "a number of 0 or more");
        }

        *(ngx_int_t *) field = n;
        break;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_site(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *site, *value;

    site = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (site->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_chatport_site_name(&value[1]) != NGX_OK) {
        return ngx_http_chatport_invalid(cf, cmd,
                                         "1 to 64 of A-Z a-z 0-9 . _ -");
    }

    *site = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_timezone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_srv_conf_t *cscf = conf;

    ngx_str_t                      *value;
    ngx_http_chatport_main_conf_t  *cmcf;

    if (cscf->timezone.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_chatport_module);

    cscf->tz = ngx_http_chatport_tz_get(cf->pool, cf->log, &cmcf->zones,
                                        &value[1]);

    if (cscf->tz == NULL) {
        return ngx_http_chatport_invalid(cf, cmd,
                                         "a time zone such as \"Asia/Tokyo\"");
    }

    cscf->timezone = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_hours(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_loc_conf_t *clcf = conf;

    char       *err;
    u_char     *p;
    size_t      len;
    ngx_str_t   spec, *value;
    ngx_uint_t  i;

    if (clcf->hours != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    /* "Mon-Fri 09:00-18:00" may be one quoted argument or several */

    value = cf->args->elts;
    len = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        len += value[i].len + 1;
    }

    spec.data = ngx_pnalloc(cf->pool, len);
    if (spec.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = spec.data;

    for (i = 1; i < cf->args->nelts; i++) {
        p = ngx_cpymem(p, value[i].data, value[i].len);
        *p++ = ' ';
    }

    spec.len = len - 1;

    err = ngx_http_chatport_hours_parse(cf->pool, &spec, &clcf->hours);

    if (err != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive: %s",
                           &spec, &cmd->name, err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* an address for a header and an SMTP envelope, checked once here */

static char *
ngx_http_chatport_mail_address_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_str_t  *field, *value;

    field = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (field->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (!ngx_http_chatport_mail_address(&value[1])) {
        return ngx_http_chatport_invalid(cf, cmd, "an email address");
    }

    *field = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_mail_to(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_loc_conf_t *clcf = conf;

    ngx_str_t   *value, *to;
    ngx_uint_t   i;

    if (clcf->mail_to != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    clcf->mail_to = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_str_t));
    if (clcf->mail_to == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (!ngx_http_chatport_mail_address(&value[i])) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid address \"%V\" in \"%V\": an email "
                               "address is expected", &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        to = ngx_array_push(clcf->mail_to);
        if (to == NULL) {
            return NGX_CONF_ERROR;
        }

        *to = value[i];
    }

    return NGX_CONF_OK;
}


/*
 * What the scripts need to record a mail, as JSON, made once here: {"site",
 * "title", "lang", "from", "to", "mail_visitor", "delay", "wait",
 * "retention"}. Only a chatport or chatport_agent location of a server
 * with chatport_mail_from, under chatport_smtp, has it; the site is then
 * one whose outbox the workers read.
 */

static ngx_int_t
ngx_http_chatport_mail_settings(ngx_conf_t *cf,
    ngx_http_chatport_loc_conf_t *conf)
{
    char                           *dump;
    json_t                         *settings, *to;
    ngx_str_t                      *addr, *site, *title;
    ngx_uint_t                      i;
    ngx_http_chatport_srv_conf_t   *cscf;
    ngx_http_chatport_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_chatport_module);
    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_chatport_module);

    if (conf->mail_to && cmcf->smtp.url.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"chatport_mail_to\" needs \"chatport_smtp\"");
        return NGX_ERROR;
    }

    if (conf->mail_to && cscf->mail_from.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"chatport_mail_to\" needs "
                           "\"chatport_mail_from\"");
        return NGX_ERROR;
    }

    if ((conf->prefix.data == NULL && conf->agent_prefix.data == NULL)
        || cmcf->smtp.url.len == 0 || cscf->mail_from.len == 0
        || (conf->mail_to == NULL && !conf->mail_visitor))
    {
        return NGX_OK;
    }

    to = json_array();
    if (to == NULL) {
        return NGX_ERROR;
    }

    addr = conf->mail_to ? conf->mail_to->elts : NULL;

    for (i = 0; conf->mail_to && i < conf->mail_to->nelts; i++) {
        if (json_array_append_new(to, json_stringn((char *) addr[i].data,
                                                   addr[i].len))
            != 0)
        {
            json_decref(to);
            return NGX_ERROR;
        }
    }

    site = &cscf->site;
    title = conf->title.len ? &conf->title : site;

    settings = json_pack("{s:s%,s:s%,s:s,s:s%,s:o,s:b,s:I,s:I,s:I}",
                         "site", site->data, site->len,
                         "title", title->data, title->len,
                         "lang", conf->lang == NGX_HTTP_CHATPORT_LANG_JA
                                 ? "ja" : "en",
                         "from", cscf->mail_from.data, cscf->mail_from.len,
                         "to", to,
                         "mail_visitor", (int) conf->mail_visitor,
                         "delay", (json_int_t) conf->mail_delay,
                         "wait", (json_int_t) conf->reply_wait * 1000,
                         "retention", (json_int_t) conf->retention * 1000);
    if (settings == NULL) {
        return NGX_ERROR;
    }

    dump = json_dumps(settings, JSON_COMPACT);
    json_decref(settings);

    if (dump == NULL) {
        return NGX_ERROR;
    }

    conf->mail.len = ngx_strlen(dump);
    conf->mail.data = ngx_pnalloc(cf->pool, conf->mail.len);

    if (conf->mail.data == NULL) {
        free(dump);
        return NGX_ERROR;
    }

    ngx_memcpy(conf->mail.data, dump, conf->mail.len);
    free(dump);

    /* the workers read the outbox of every site with mail */

    if (cmcf->mail_sites == NULL) {
        cmcf->mail_sites = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (cmcf->mail_sites == NULL) {
            return NGX_ERROR;
        }
    }

    site = cmcf->mail_sites->elts;

    for (i = 0; i < cmcf->mail_sites->nelts; i++) {
        if (site[i].len == cscf->site.len
            && ngx_strncmp(site[i].data, cscf->site.data, site[i].len) == 0)
        {
            return NGX_OK;
        }
    }

    site = ngx_array_push(cmcf->mail_sites);
    if (site == NULL) {
        return NGX_ERROR;
    }

    *site = cscf->site;

    return NGX_OK;
}


static char *
ngx_http_chatport_text(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *why;
    ngx_str_t  *text, *value;

    text = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (text->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len > NGX_HTTP_CHATPORT_TEXT_MAX) {
        return ngx_http_chatport_invalid(cf, cmd, "at most 512 bytes");
    }

    why = ngx_http_chatport_text_check(&value[1]);

    if (why != NULL) {
        return ngx_http_chatport_invalid(cf, cmd, why);
    }

    *text = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_color(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *color, *value;
    ngx_uint_t  i;

    color = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (color->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if ((value[1].len != 4 && value[1].len != 7) || value[1].data[0] != '#') {
        return ngx_http_chatport_invalid(cf, cmd, "\"#rgb\" or \"#rrggbb\"");
    }

    for (i = 1; i < value[1].len; i++) {
        if (!isxdigit(value[1].data[i])) {
            return ngx_http_chatport_invalid(cf, cmd,
                                             "\"#rgb\" or \"#rrggbb\"");
        }
    }

    *color = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_lang(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_loc_conf_t *clcf = conf;

    ngx_str_t  *value;

    if (clcf->lang != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "auto") == 0) {
        clcf->lang = NGX_HTTP_CHATPORT_LANG_AUTO;

    } else if (ngx_strcmp(value[1].data, "en") == 0) {
        clcf->lang = NGX_HTTP_CHATPORT_LANG_EN;

    } else if (ngx_strcmp(value[1].data, "ja") == 0) {
        clcf->lang = NGX_HTTP_CHATPORT_LANG_JA;

    } else {
        return ngx_http_chatport_invalid(cf, cmd,
                                         "\"ja\", \"en\" or \"auto\"");
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *uri, *value;
    ngx_uint_t  i, absolute;

    uri = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (uri->data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /*
     * The script URL goes into an HTML attribute and the notify URI into
     * a subrequest: neither may hold a quote, an angle bracket or a space.
     */

    absolute = ngx_strncmp(value[1].data, "https://", 8) == 0
               || ngx_strncmp(value[1].data, "http://", 7) == 0;

    switch ((uintptr_t) cmd->post) {

    case 2:
        if (!absolute) {
            return ngx_http_chatport_invalid(cf, cmd,
                                             "an http:// or https:// URL");
        }

        break;

    default:
        if (value[1].len == 0
            || (value[1].data[0] != '/' && !(cmd->post != NULL && absolute)))
        {
            return ngx_http_chatport_invalid(cf, cmd,
                                             "a URI starting with \"/\"");
        }
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= ' ' || value[1].data[i] == '"'
            || value[1].data[i] == '\'' || value[1].data[i] == '<'
            || value[1].data[i] == '>' || value[1].data[i] == 0x7f)
        {
            return ngx_http_chatport_invalid(cf, cmd,
                                             "a URI without spaces, quotes "
                                             "or angle brackets");
        }
    }

    *uri = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_chatport_form_field(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_loc_conf_t *clcf = conf;

    char  *rv;

    rv = ngx_http_chatport_form_field_parse(cf, &clcf->form_fields);

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

    return ngx_http_chatport_invalid(cf, cmd, rv);
}


static char *
ngx_http_chatport_form_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_loc_conf_t *clcf = conf;

    ngx_str_t  *value;

    if (clcf->form_rate.count != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_chatport_rate_parse(&value[1], &clcf->form_rate) != NGX_OK) {
        return ngx_http_chatport_invalid(cf, cmd,
                                         "\"COUNT/TIME\", as \"5/10m\"");
    }

    return NGX_CONF_OK;
}


/* chatport_chat_rate 10/10m [site=1000/10m] */

static char *
ngx_http_chatport_chat_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_chatport_loc_conf_t *clcf = conf;

    ngx_str_t  *value, site;

    if (clcf->chat_rate.count != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_chatport_rate_parse(&value[1], &clcf->chat_rate) != NGX_OK) {
        return ngx_http_chatport_invalid(cf, cmd,
                                         "\"COUNT/TIME\", as \"10/10m\"");
    }

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    site.data = value[2].data + 5;
    site.len = value[2].len - 5;

    if (value[2].len <= 5 || ngx_strncmp(value[2].data, "site=", 5) != 0
        || ngx_http_chatport_rate_parse(&site, &clcf->chat_site_rate)
           != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive, "
                           "it must be \"site=COUNT/TIME\", "
                           "as \"site=1000/10m\"",
                           &value[2], &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* "5/10m": at most 5 in 10 minutes; a window of at least a second */

static ngx_int_t
ngx_http_chatport_rate_parse(ngx_str_t *value, ngx_http_chatport_rate_t *rate)
{
    u_char     *slash;
    ngx_int_t   n, window;
    ngx_str_t   w;

    slash = ngx_strlchr(value->data, value->data + value->len, '/');
    if (slash == NULL) {
        return NGX_ERROR;
    }

    n = ngx_atoi(value->data, slash - value->data);

    w.data = slash + 1;
    w.len = value->data + value->len - w.data;
    window = ngx_parse_time(&w, 0);

    if (n <= 0 || window == NGX_ERROR || window < 1000) {
        return NGX_ERROR;
    }

    rate->count = n;
    rate->window = window;

    return NGX_OK;
}


static void
ngx_http_chatport_merge_rate(ngx_http_chatport_rate_t *conf,
    ngx_http_chatport_rate_t *prev, ngx_uint_t count, ngx_msec_t window)
{
    if (conf->count != NGX_CONF_UNSET_UINT) {
        return;
    }

    if (prev->count != NGX_CONF_UNSET_UINT) {
        *conf = *prev;
        return;
    }

    conf->count = count;
    conf->window = window;
}


static char *
ngx_http_chatport_invalid(ngx_conf_t *cf, ngx_command_t *cmd,
    const char *why)
{
    ngx_str_t  *value;

    value = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\" directive, "
                       "it must be %s",
                       &value[1], &cmd->name, why);

    return NGX_CONF_ERROR;
}
