
/*
 * ChatPort: the operator's console and API below the "chatport_agent"
 * location. The operator is nginx's $remote_user.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_chatport.h"
#include "ngx_http_chatport_http.h"


static ngx_http_chatport_route_t  ngx_http_chatport_agent_routes[] = {
    { ngx_null_string, 0, ngx_null_string, NULL }
};


ngx_int_t
ngx_http_chatport_agent_handler(ngx_http_request_t *r)
{
    ngx_http_chatport_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_chatport_module);

    /*
     * The console must never be open by accident: without a user that
     * auth_basic or auth_request has let through, nothing is served.
     */

    if (ngx_http_auth_basic_user(r) != NGX_OK || r->headers_in.user.len == 0)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "chatport: operator request without a user: protect "
                      "the \"chatport_agent\" location \"%V\" with "
                      "auth_basic or auth_request", &clcf->agent_prefix);

        return ngx_http_chatport_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "not_protected",
                                            "the operator console is not "
                                            "protected by a login");
    }

    return ngx_http_chatport_dispatch(r, &clcf->agent_prefix,
                                      ngx_http_chatport_agent_routes);
}
