
/*
 * ChatPort: an outbox entry as an RFC 5322 mail.
 *
 * The entry is a JSON object written by the outbox scripts:
 *
 *   "kind"       "form" (a contact form, to the owners), "owner" (visitor
 *                messages, to the owners) or "visitor" (operators'
 *                replies, to the visitor)
 *   "reason"     owner only: "offline" (written while nobody was
 *                available) or "unanswered" (left for chatport_reply_wait)
 *   "site", "title"   the site, and its name for people ("" for the site)
 *   "lang"       "en" or "ja": the language of the mail's own texts
 *   "cid"        the conversation, 32 hex digits
 *   "from"       the envelope sender and From:, shown as the title
 *   "to"         [addresses]: the envelope recipients and To:
 *   "reply_to"   the address for Reply-To: (owner, form: the visitor's;
 *                visitor: the first owner's), or ""
 *   "visitor"    {"email", "name"}, either may be ""
 *   "link"       the conversation in the console (owner, form), or the
 *                page to come back to (visitor), or ""
 *   "page", "referrer"   where the visitor is and came from (owner, form)
 *   "messages"   [{"id", "from": "visitor"|"agent", "agent", "name",
 *                "text", "ts"}]: the news, oldest first (an operator
 *                by "name", else "agent")
 *   "thread"     visitor only: earlier messages, the same shape
 *   "form"       form only: {"id", "ts", "fields": {name: value, ...} in
 *                the form's order, "page", "referrer", "user_agent"}
 *   "seq", "root"   this mail's number in the conversation and its first
 *                one's: Message-ID <chatport.CID.SEQ@DOMAIN>, and
 *                In-Reply-To and References to ROOT when they differ
 *   "ts"         milliseconds: Date:
 *
 * A corrupt entry never stops the sender: what is missing or of another
 * type is left out; only a mail that cannot be sent (no sender, no
 * recipient, an unknown kind) is declined.
 *
 * Nothing the visitor or an operator wrote is ever raw in a header:
 * their names only inside RFC 2047 encoded-words (so no line break can
 * start a header), addresses only when ngx_http_chatport_mail_address()
 * takes them. The body is UTF-8 text in base64.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_json.h"
#include "ngx_http_chatport_mail.h"


#define NGX_HTTP_CHATPORT_MAIL_LINE        78
#define NGX_HTTP_CHATPORT_MAIL_WORD        75   /* an encoded-word */
#define NGX_HTTP_CHATPORT_MAIL_ADDRESS     254  /* RFC 5321 path - <> */
#define NGX_HTTP_CHATPORT_MAIL_NAME        60   /* characters in a subject */
#define NGX_HTTP_CHATPORT_MAIL_TS_MAX      253402300799999LL  /* 9999 */
#define NGX_HTTP_CHATPORT_MAIL_INDENT      "    "


typedef enum {
    NGX_HTTP_CHATPORT_MAIL_FORM = 0,
    NGX_HTTP_CHATPORT_MAIL_OFFLINE,
    NGX_HTTP_CHATPORT_MAIL_UNANSWERED,
    NGX_HTTP_CHATPORT_MAIL_VISITOR
} ngx_http_chatport_mail_kind_e;


/*
 * The texts of a mail in one language. Templates take "{title}",
 * "{name}", "{agent}" and "{n}", in whatever order the language wants.
 */
typedef struct {
    char                         *subject[4];   /* by kind */
    char                         *subject_many;  /* offline, n > 1 */
    char                         *lead[4];
    char                         *someone;       /* NAME of nobody known */
    char                         *honorific;     /* after a known NAME */
    char                         *visitor;       /* a visitor's message */
    char                         *you;           /* ... in a visitor mail */
    char                         *conversation;  /* messages of a form */
    char                         *earlier;       /* the thread */
    char                         *who;
    char                         *page;
    char                         *referrer;
    char                         *user_agent;
    char                         *answer;        /* the console link */
    char                         *come_back;     /* the visitor's link */
    char                         *reply;         /* replying reaches them */
    char                         *no_reply;      /* ... or not */
    ngx_str_t                    *labels;        /* of form fields */
} ngx_http_chatport_mail_texts_t;


typedef struct {
    ngx_str_t                     title;
    ngx_str_t                     name;
    ngx_str_t                     agent;
    ngx_uint_t                    n;
} ngx_http_chatport_mail_vars_t;


typedef struct {
    json_t                       *entry;
    ngx_http_chatport_mail_kind_e kind;
    ngx_http_chatport_mail_texts_t *texts;
    ngx_http_chatport_mail_vars_t vars;
    ngx_str_t                     vname;       /* the visitor, one line */
    ngx_str_t                     vemail;
    ngx_str_t                     reply_to;    /* valid, or "" */
    ngx_uint_t                    named;       /* the subject names one */
    ngx_pool_t                   *pool;
} ngx_http_chatport_mail_ctx_t;


static ngx_int_t ngx_http_chatport_mail_recipients(
    ngx_http_chatport_mail_ctx_t *ctx, ngx_http_chatport_mail_t *mail,
    ngx_log_t *log);
static ngx_int_t ngx_http_chatport_mail_people(
    ngx_http_chatport_mail_ctx_t *ctx);
static void ngx_http_chatport_mail_headers(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *h, ngx_http_chatport_mail_t *mail);
static void ngx_http_chatport_mail_threading(
    ngx_http_chatport_mail_ctx_t *ctx, ngx_http_chatport_json_t *h,
    ngx_str_t *from);
static void ngx_http_chatport_mail_subject(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *h);
static void ngx_http_chatport_mail_body(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *b);
static void ngx_http_chatport_mail_form(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *b, json_t *form);
static void ngx_http_chatport_mail_messages(
    ngx_http_chatport_mail_ctx_t *ctx, ngx_http_chatport_json_t *b,
    json_t *messages);
static void ngx_http_chatport_mail_labelled(ngx_http_chatport_json_t *b,
    char *label, ngx_str_t *label_str, ngx_str_t *value);
static void ngx_http_chatport_mail_lines(ngx_http_chatport_json_t *b,
    ngx_str_t *text);
static void ngx_http_chatport_mail_expand(ngx_http_chatport_json_t *b,
    char *template, ngx_http_chatport_mail_vars_t *vars);
static void ngx_http_chatport_mail_words(ngx_http_chatport_json_t *h,
    ngx_str_t *text);
static void ngx_http_chatport_mail_base64(ngx_http_chatport_json_t *h,
    ngx_str_t *body);
static size_t ngx_http_chatport_mail_column(ngx_http_chatport_json_t *h);
static ngx_int_t ngx_http_chatport_mail_oneline(ngx_pool_t *pool,
    ngx_str_t *s, size_t max);
static void ngx_http_chatport_mail_address_line(ngx_http_chatport_json_t *h,
    ngx_str_t *name, ngx_uint_t plain, ngx_str_t *addr);
static ngx_uint_t ngx_http_chatport_mail_plain(ngx_str_t *s);
static void ngx_http_chatport_mail_string(json_t *object, const char *key,
    ngx_str_t *value);
static ngx_int_t ngx_http_chatport_mail_int(json_t *object, const char *key,
    int64_t *value);
static ngx_int_t ngx_http_chatport_mail_copy(ngx_pool_t *pool,
    ngx_str_t *src, ngx_str_t *dst);
static ngx_int_t ngx_http_chatport_mail_time(json_t *object, const char *key,
    time_t *sec);


#define ngx_http_chatport_mail_text(b, s)                                     \
    ngx_http_chatport_json_raw(b, (u_char *) (s), ngx_strlen(s))
#define ngx_http_chatport_mail_crlf(b)                                        \
    ngx_http_chatport_json_literal(b, "\r\n")


static char  *ngx_http_chatport_mail_kinds[] = {
    "form", "owner", "owner", "visitor"
};


/* the labels of the form fields the configuration knows by name */

static ngx_str_t  ngx_http_chatport_mail_fields[] = {
    ngx_string("name"), ngx_string("email"), ngx_string("tel"),
    ngx_string("message"), ngx_string("subject"), ngx_string("company"),
    ngx_null_string
};

static ngx_str_t  ngx_http_chatport_mail_labels_en[] = {
    ngx_string("Name"), ngx_string("Email"), ngx_string("Phone"),
    ngx_string("Message"), ngx_string("Subject"), ngx_string("Company")
};

static ngx_str_t  ngx_http_chatport_mail_labels_ja[] = {
    ngx_string("お名前"), ngx_string("メールアドレス"),
    ngx_string("電話番号"), ngx_string("お問い合わせ内容"),
    ngx_string("件名"), ngx_string("会社名")
};


static ngx_http_chatport_mail_texts_t  ngx_http_chatport_mail_texts[] = {

    { { "[{title}] Contact form from {name}",
        "[{title}] New message from {name}",
        "[{title}] Waiting for an answer: {name}",
        "[{title}] Reply from {agent}" },
      "[{title}] {n} new messages from {name}",
      { "{name} sent the contact form on {title}.",
        "{name} wrote on {title} while nobody was available.",
        "{name} has been waiting for an answer on {title}.",
        "You have a reply from {title} to your conversation." },
      "a visitor",
      "",
      "Visitor",
      "You",
      "Conversation:",
      "Earlier in the conversation:",
      "Visitor",
      "Page",
      "Referrer",
      "User agent",
      "Answer in the console",
      "Continue the conversation",
      "Replying to this mail writes to the visitor by email.",
      "No email address of the visitor to reply to:"
      " answer in the console.",
      ngx_http_chatport_mail_labels_en },

    { { "[{title}] お問い合わせ: {name}",
        "[{title}] {name}から新着メッセージ",
        "[{title}] 未返信のメッセージ: {name}",
        "[{title}] {agent} からの返信" },
      "[{title}] {name}から {n} 件の新着メッセージ",
      { "{title} のお問い合わせフォームに"
        " {name}から送信がありました。",
        "担当者が不在の間に"
        " {name}から {title} にメッセージが届きました。",
        "{name}のメッセージが"
        " {title} で返信を待っています。",
        "{title} から"
        "お問い合わせへの返信が届きました。" },
      "訪問者",
      " さん",
      "訪問者",
      "あなた",
      "会話:",
      "これまでのやりとり:",
      "訪問者",
      "ページ",
      "参照元",
      "ユーザーエージェント",
      "管理画面で返信する",
      "会話の続きはこちら",
      "このメールに返信すると、"
      "訪問者にメールで届きます。",
      "訪問者のメールアドレスがないため、"
      "管理画面から返信してください。",
      ngx_http_chatport_mail_labels_ja }
};


ngx_int_t
ngx_http_chatport_mail_render(ngx_pool_t *pool, json_t *entry,
    ngx_http_chatport_mail_t *mail, ngx_log_t *log)
{
    ngx_int_t                      rc;
    ngx_str_t                      s, body;
    ngx_http_chatport_json_t       h, b;
    ngx_http_chatport_mail_ctx_t   ctx;

    ngx_memzero(mail, sizeof(ngx_http_chatport_mail_t));
    ngx_memzero(&ctx, sizeof(ngx_http_chatport_mail_ctx_t));

    if (!json_is_object(entry)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "chatport: mail entry is not an object");
        return NGX_DECLINED;
    }

    ctx.entry = entry;
    ctx.pool = pool;

    ngx_http_chatport_mail_string(entry, "kind", &s);

    if (s.len == 4 && ngx_strncmp(s.data, "form", 4) == 0) {
        ctx.kind = NGX_HTTP_CHATPORT_MAIL_FORM;

    } else if (s.len == 5 && ngx_strncmp(s.data, "owner", 5) == 0) {
        ngx_http_chatport_mail_string(entry, "reason", &s);
        ctx.kind = (s.len == 10 && ngx_strncmp(s.data, "unanswered", 10) == 0)
                   ? NGX_HTTP_CHATPORT_MAIL_UNANSWERED
                   : NGX_HTTP_CHATPORT_MAIL_OFFLINE;

    } else if (s.len == 7 && ngx_strncmp(s.data, "visitor", 7) == 0) {
        ctx.kind = NGX_HTTP_CHATPORT_MAIL_VISITOR;

    } else {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "chatport: mail entry of an unknown kind");
        return NGX_DECLINED;
    }

    ngx_http_chatport_mail_string(entry, "from", &s);

    if (!ngx_http_chatport_mail_address(&s)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "chatport: %s mail without a valid sender",
                      ngx_http_chatport_mail_kinds[ctx.kind]);
        return NGX_DECLINED;
    }

    if (ngx_http_chatport_mail_copy(pool, &s, &mail->from) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_chatport_mail_recipients(&ctx, mail, log);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_chatport_mail_string(entry, "lang", &s);
    ctx.texts = &ngx_http_chatport_mail_texts[
                    s.len == 2 && ngx_strncmp(s.data, "ja", 2) == 0];

    if (ngx_http_chatport_mail_people(&ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_chatport_json_init(&h, pool);
    ngx_http_chatport_json_init(&b, pool);

    ngx_http_chatport_mail_headers(&ctx, &h, mail);
    ngx_http_chatport_mail_body(&ctx, &b);

    if (ngx_http_chatport_json_result(&b, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_chatport_mail_base64(&h, &body);

    return ngx_http_chatport_json_result(&h, &mail->message);
}


/*
 * A practical check, not RFC 5322: one "@", a local part without spaces or
 * quotes, a domain of labels with at least one dot; no longer than an SMTP
 * path may be.
 */

ngx_uint_t
ngx_http_chatport_mail_address(ngx_str_t *s)
{
    u_char      *at, *p, *last, c;
    ngx_uint_t   dots;

    /* an empty ngx_str_t may have data NULL: no arithmetic on it */

    if (s->len == 0 || s->len > NGX_HTTP_CHATPORT_MAIL_ADDRESS) {
        return 0;
    }

    p = s->data;
    last = p + s->len;

    at = ngx_strlchr(p, last, '@');

    if (at == NULL || at == p || at - p > 64 || last - at < 4
        || ngx_strlchr(at + 1, last, '@') != NULL)
    {
        return 0;
    }

    for ( /* void */ ; p < at; p++) {
        c = *p;

        if (c <= ' ' || c == '"' || c == '(' || c == ')' || c == ',' || c == ':'
            || c == ';' || c == '<' || c == '>' || c == '[' || c == ']'
            || c == '\\' || c == 0x7f)
        {
            return 0;
        }
    }

    dots = 0;

    for (p = at + 1; p < last; p++) {
        c = *p;

        if (c == '.') {
            if (p == at + 1 || p + 1 == last || p[-1] == '.') {
                return 0;
            }

            dots++;
            continue;
        }

        /* letters, digits, hyphens, and UTF-8 of international names */
        if (!(isalnum(c) || c == '-' || c >= 0x80)) {
            return 0;
        }
    }

    return dots > 0;
}


/* the valid addresses of "to", or NGX_DECLINED when there is none */

static ngx_int_t
ngx_http_chatport_mail_recipients(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_mail_t *mail, ngx_log_t *log)
{
    size_t      i, n;
    json_t     *to;
    ngx_str_t   addr;

    to = json_object_get(ctx->entry, "to");
    n = json_array_size(to);

    mail->to = ngx_palloc(ctx->pool, (n ? n : 1) * sizeof(ngx_str_t));
    if (mail->to == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        addr.data = (u_char *) json_string_value(json_array_get(to, i));

        if (addr.data == NULL) {
            continue;
        }

        addr.len = json_string_length(json_array_get(to, i));

        if (ngx_http_chatport_mail_address(&addr)) {
            if (ngx_http_chatport_mail_copy(ctx->pool, &addr,
                                            &mail->to[mail->nto++])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (mail->nto == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "chatport: %s mail without a valid recipient",
                      ngx_http_chatport_mail_kinds[ctx->kind]);
        return NGX_DECLINED;
    }

    if (mail->nto < n) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "chatport: %s mail: %uz invalid recipients left out",
                      ngx_http_chatport_mail_kinds[ctx->kind],
                      n - mail->nto);
    }

    return NGX_OK;
}


/* who the mail is about: the visitor, the first operator, the site */

static ngx_int_t
ngx_http_chatport_mail_people(ngx_http_chatport_mail_ctx_t *ctx)
{
    size_t       i, n;
    json_t      *visitor, *fields, *messages, *m;
    ngx_str_t    s;
    ngx_int_t    rc;
    ngx_uint_t   known, agent;

    visitor = json_object_get(ctx->entry, "visitor");
    ngx_http_chatport_mail_string(visitor, "name", &ctx->vname);
    ngx_http_chatport_mail_string(visitor, "email", &ctx->vemail);

    /* a form without a known visitor: the visitor is who filled it */

    if (ctx->kind == NGX_HTTP_CHATPORT_MAIL_FORM) {
        fields = json_object_get(json_object_get(ctx->entry, "form"),
                                 "fields");

        if (ctx->vname.len == 0) {
            ngx_http_chatport_mail_string(fields, "name", &ctx->vname);
        }

        if (ctx->vemail.len == 0) {
            ngx_http_chatport_mail_string(fields, "email", &ctx->vemail);
        }
    }

    ngx_http_chatport_mail_string(ctx->entry, "reply_to", &ctx->reply_to);

    if (!ngx_http_chatport_mail_address(&ctx->reply_to)) {
        ngx_str_null(&ctx->reply_to);
    }

    ngx_http_chatport_mail_string(ctx->entry, "title", &ctx->vars.title);

    if (ctx->vars.title.len == 0) {
        ngx_http_chatport_mail_string(ctx->entry, "site", &ctx->vars.title);
    }

    ctx->vars.name = ctx->vname.len ? ctx->vname : ctx->vemail;
    known = (ctx->vars.name.len != 0);

    if (!known) {
        ctx->vars.name.data = (u_char *) ctx->texts->someone;
        ctx->vars.name.len = ngx_strlen(ctx->texts->someone);

    } else if (ctx->kind != NGX_HTTP_CHATPORT_MAIL_VISITOR) {
        ctx->named = 1;
    }

    rc = ngx_http_chatport_mail_oneline(ctx->pool, &ctx->vname, 0)
         | ngx_http_chatport_mail_oneline(ctx->pool, &ctx->vemail, 0)
         | ngx_http_chatport_mail_oneline(ctx->pool, &ctx->vars.title,
                                          NGX_HTTP_CHATPORT_MAIL_NAME)
         | ngx_http_chatport_mail_oneline(ctx->pool, &ctx->vars.name,
                                          NGX_HTTP_CHATPORT_MAIL_NAME);

    /* "Yamada san", but never "visitor san" */

    n = ngx_strlen(ctx->texts->honorific);

    if (n && known) {
        s.data = ngx_pnalloc(ctx->pool, ctx->vars.name.len + n);
        if (s.data == NULL) {
            return NGX_ERROR;
        }

        s.len = ngx_cpymem(ngx_cpymem(s.data, ctx->vars.name.data,
                                      ctx->vars.name.len),
                           ctx->texts->honorific, n)
                - s.data;
        ctx->vars.name = s;
    }

    messages = json_object_get(ctx->entry, "messages");
    n = json_array_size(messages);
    ctx->vars.agent = ctx->vars.title;
    agent = 0;

    for (i = 0; i < n; i++) {
        m = json_array_get(messages, i);

        if (json_is_string(json_object_get(m, "text"))) {
            ctx->vars.n++;
        }

        /* the display name the visitor saw, else the login */
        ngx_http_chatport_mail_string(m, "name", &s);

        if (s.len == 0) {
            ngx_http_chatport_mail_string(m, "agent", &s);
        }

        if (s.len && !agent) {
            rc |= ngx_http_chatport_mail_oneline(ctx->pool, &s,
                                                 NGX_HTTP_CHATPORT_MAIL_NAME);
            ctx->vars.agent = s;
            agent = 1;

            if (ctx->kind == NGX_HTTP_CHATPORT_MAIL_VISITOR) {
                ctx->named = 1;
            }
        }
    }

    return rc == NGX_OK ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_chatport_mail_headers(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *h, ngx_http_chatport_mail_t *mail)
{
    u_char      date[sizeof("Mon, 28 Sep 1970 06:00:00 +0000") - 1], *p;
    time_t      sec;
    ngx_str_t   name;
    ngx_uint_t  i;

    if (ngx_http_chatport_mail_time(ctx->entry, "ts", &sec) != NGX_OK) {
        sec = ngx_time();
    }

    /* nginx's HTTP date is RFC 5322's with the obsolete zone "GMT" */
    p = ngx_http_time(date, sec);
    ngx_memcpy(p - 3, "+0000", 5);

    ngx_http_chatport_json_literal(h, "Date: ");
    ngx_http_chatport_json_raw(h, date, sizeof(date));
    ngx_http_chatport_mail_crlf(h);

    ngx_http_chatport_json_literal(h, "From: ");
    ngx_http_chatport_mail_address_line(h, &ctx->vars.title, 1, &mail->from);

    ngx_http_chatport_json_literal(h, "To: ");

    for (i = 0; i < mail->nto; i++) {
        if (i) {
            ngx_http_chatport_json_literal(h, ",");

            if (ngx_http_chatport_mail_column(h) + 1 + mail->to[i].len
                > NGX_HTTP_CHATPORT_MAIL_LINE)
            {
                ngx_http_chatport_mail_crlf(h);
            }

            ngx_http_chatport_json_literal(h, " ");
        }

        ngx_http_chatport_json_raw(h, mail->to[i].data, mail->to[i].len);
    }

    ngx_http_chatport_mail_crlf(h);

    /* the owners' mail answers the visitor, the visitor's an owner */
    if (ctx->reply_to.len) {
        name = ctx->kind == NGX_HTTP_CHATPORT_MAIL_VISITOR ? ctx->vars.title
                                                            : ctx->vname;

        if (ngx_http_chatport_mail_oneline(ctx->pool, &name,
                                           NGX_HTTP_CHATPORT_MAIL_NAME)
            != NGX_OK)
        {
            h->failed = 1;
            return;
        }

        ngx_http_chatport_json_literal(h, "Reply-To: ");
        ngx_http_chatport_mail_address_line(h, &name, 0, &ctx->reply_to);
    }

    ngx_http_chatport_mail_subject(ctx, h);
    ngx_http_chatport_mail_threading(ctx, h, &mail->from);

    ngx_http_chatport_json_literal(h,
        "Auto-Submitted: auto-generated\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n");
}


/*
 * NAME <addr> and the line's end; the name as encoded-words, or in quotes
 * when "plain" allows and it is plain text that fits the line.
 */

static void
ngx_http_chatport_mail_address_line(ngx_http_chatport_json_t *h,
    ngx_str_t *name, ngx_uint_t plain, ngx_str_t *addr)
{
    if (name->len) {
        if (plain && ngx_http_chatport_mail_plain(name)
            && ngx_http_chatport_mail_column(h) + name->len + addr->len
               + sizeof("\"\" <>") - 1 <= NGX_HTTP_CHATPORT_MAIL_LINE)
        {
            ngx_http_chatport_json_literal(h, "\"");
            ngx_http_chatport_json_raw(h, name->data, name->len);
            ngx_http_chatport_json_literal(h, "\"");

        } else {
            ngx_http_chatport_mail_words(h, name);

            if (ngx_http_chatport_mail_column(h) + addr->len + 3
                > NGX_HTTP_CHATPORT_MAIL_LINE)
            {
                ngx_http_chatport_mail_crlf(h);
            }
        }

        ngx_http_chatport_json_literal(h, " ");
    }

    ngx_http_chatport_json_literal(h, "<");
    ngx_http_chatport_json_raw(h, addr->data, addr->len);
    ngx_http_chatport_json_literal(h, ">");
    ngx_http_chatport_mail_crlf(h);
}


/*
 * Message-ID <chatport.CID.SEQ@DOMAIN>, and the first mail of the
 * conversation as the one this answers, so that mail clients thread them.
 * A domain in UTF-8 would need SMTPUTF8 to stay in a header: "localhost"
 * then, which threads all the same.
 */

static void
ngx_http_chatport_mail_threading(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *h, ngx_str_t *from)
{
    u_char     *p, id[NGX_INT64_LEN * 2 + 32 + 300];
    int64_t     seq, root;
    ngx_str_t   cid, domain;
    ngx_uint_t  i;

    ngx_http_chatport_mail_string(ctx->entry, "cid", &cid);

    if (cid.len != 32
        || ngx_http_chatport_mail_int(ctx->entry, "seq", &seq) != NGX_OK
        || seq < 0)
    {
        return;
    }

    for (i = 0; i < cid.len; i++) {
        if (!isxdigit(cid.data[i])) {
            return;
        }
    }

    p = ngx_strlchr(from->data, from->data + from->len, '@');
    domain.data = p + 1;
    domain.len = from->data + from->len - domain.data;

    for (i = 0; i < domain.len; i++) {
        if (domain.data[i] >= 0x80) {
            ngx_str_set(&domain, "localhost");
            break;
        }
    }

    p = ngx_sprintf(id, "<chatport.%V.%L@%V>\r\n", &cid, seq, &domain);

    ngx_http_chatport_json_literal(h, "Message-ID: ");
    ngx_http_chatport_json_raw(h, id, p - id);

    if (ngx_http_chatport_mail_int(ctx->entry, "root", &root) != NGX_OK
        || root < 0 || root == seq)
    {
        return;
    }

    p = ngx_sprintf(id, "<chatport.%V.%L@%V>\r\n", &cid, root, &domain);

    ngx_http_chatport_json_literal(h, "In-Reply-To: ");
    ngx_http_chatport_json_raw(h, id, p - id);
    ngx_http_chatport_json_literal(h, "References: ");
    ngx_http_chatport_json_raw(h, id, p - id);
}


/*
 * A subject naming the visitor or an operator is all encoded-words; only
 * one of the site's plain text alone may stay as it is.
 */

static void
ngx_http_chatport_mail_subject(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *h)
{
    char                      *template;
    ngx_str_t                  subject;
    ngx_http_chatport_json_t   s;

    template = ctx->texts->subject[ctx->kind];

    if (ctx->kind == NGX_HTTP_CHATPORT_MAIL_OFFLINE && ctx->vars.n > 1) {
        template = ctx->texts->subject_many;
    }

    ngx_http_chatport_json_init(&s, ctx->pool);
    ngx_http_chatport_mail_expand(&s, template, &ctx->vars);

    if (ngx_http_chatport_json_result(&s, &subject) != NGX_OK) {
        h->failed = 1;
        return;
    }

    ngx_http_chatport_json_literal(h, "Subject: ");

    if (!ctx->named
        && ngx_http_chatport_mail_plain(&subject)
        && sizeof("Subject: ") - 1 + subject.len
           <= NGX_HTTP_CHATPORT_MAIL_LINE)
    {
        ngx_http_chatport_json_raw(h, subject.data, subject.len);

    } else {
        ngx_http_chatport_mail_words(h, &subject);
    }

    ngx_http_chatport_mail_crlf(h);
}


static void
ngx_http_chatport_mail_body(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *b)
{
    json_t                          *form;
    ngx_str_t                        page, referrer, agent, link, who, s;
    ngx_http_chatport_mail_texts_t  *t;

    t = ctx->texts;

    ngx_http_chatport_mail_expand(b, t->lead[ctx->kind], &ctx->vars);
    ngx_http_chatport_json_literal(b, "\r\n\r\n");

    form = json_object_get(ctx->entry, "form");

    ngx_http_chatport_mail_string(ctx->entry, "page", &page);
    ngx_http_chatport_mail_string(ctx->entry, "referrer", &referrer);
    ngx_http_chatport_mail_string(ctx->entry, "link", &link);

    if (ctx->kind == NGX_HTTP_CHATPORT_MAIL_FORM) {
        ngx_http_chatport_mail_form(ctx, b, form);

        if (ctx->vars.n) {
            ngx_http_chatport_mail_text(b, t->conversation);
            ngx_http_chatport_json_literal(b, "\r\n\r\n");
        }

        /* the page of the form rather than where the visitor is now */

        ngx_http_chatport_mail_string(form, "page", &s);

        if (s.len) {
            page = s;
        }

        ngx_http_chatport_mail_string(form, "referrer", &s);

        if (s.len) {
            referrer = s;
        }
    }

    ngx_http_chatport_mail_messages(ctx, b,
                                    json_object_get(ctx->entry, "messages"));

    if (ctx->kind == NGX_HTTP_CHATPORT_MAIL_VISITOR) {
        if (json_array_size(json_object_get(ctx->entry, "thread"))) {
            ngx_http_chatport_mail_text(b, t->earlier);
            ngx_http_chatport_json_literal(b, "\r\n\r\n");
            ngx_http_chatport_mail_messages(ctx, b,
                                  json_object_get(ctx->entry, "thread"));
        }

        ngx_http_chatport_mail_labelled(b, t->come_back, NULL, &link);

        return;
    }

    /* the owners': who, where from, how to answer */

    if (ctx->vname.len && ctx->vemail.len) {
        who.len = ctx->vname.len + ctx->vemail.len + sizeof(" <>") - 1;
        who.data = ngx_pnalloc(ctx->pool, who.len);

        if (who.data == NULL) {
            b->failed = 1;
            return;
        }

        ngx_sprintf(who.data, "%V <%V>", &ctx->vname, &ctx->vemail);

    } else {
        who = ctx->vname.len ? ctx->vname : ctx->vemail;
    }

    ngx_http_chatport_mail_labelled(b, t->who, NULL, &who);
    ngx_http_chatport_mail_labelled(b, t->page, NULL, &page);
    ngx_http_chatport_mail_labelled(b, t->referrer, NULL, &referrer);

    if (ctx->kind == NGX_HTTP_CHATPORT_MAIL_FORM) {
        ngx_http_chatport_mail_string(form, "user_agent", &agent);
        ngx_http_chatport_mail_labelled(b, t->user_agent, NULL, &agent);
    }

    ngx_http_chatport_mail_crlf(b);

    ngx_http_chatport_mail_labelled(b, t->answer, NULL, &link);
    ngx_http_chatport_mail_text(b, ctx->reply_to.len ? t->reply
                                                     : t->no_reply);
    ngx_http_chatport_mail_crlf(b);
}


/*
 * The fields in the form's order, by the labels the configuration gave
 * them (the form's "labels"), else by the labels of the names known.
 */

static void
ngx_http_chatport_mail_form(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *b, json_t *form)
{
    json_t      *fields, *labels, *value;
    ngx_str_t    key, text, label;
    ngx_uint_t   i, any;
    const char  *k;

    fields = json_object_get(form, "fields");
    labels = json_object_get(form, "labels");
    any = 0;

    json_object_foreach(fields, k, value) {
        if (!json_is_string(value)) {
            continue;
        }

        key.data = (u_char *) k;
        key.len = ngx_strlen(k);

        ngx_http_chatport_mail_string(labels, k, &label);

        for (i = 0; label.len == 0 && ngx_http_chatport_mail_fields[i].len;
             i++)
        {
            if (key.len == ngx_http_chatport_mail_fields[i].len
                && ngx_strncmp(key.data, ngx_http_chatport_mail_fields[i].data,
                               key.len)
                   == 0)
            {
                label = ctx->texts->labels[i];
            }
        }

        if (label.len == 0) {
            label = key;
        }

        text.data = (u_char *) json_string_value(value);
        text.len = json_string_length(value);

        if (ngx_http_chatport_mail_oneline(ctx->pool, &label, 0) != NGX_OK) {
            b->failed = 1;
            return;
        }

        ngx_http_chatport_mail_labelled(b, NULL, &label, &text);
        any = 1;
    }

    if (any) {
        ngx_http_chatport_mail_crlf(b);
    }
}


/* each message as "YYYY-MM-DD HH:MM UTC  NAME:" and its lines indented */

static void
ngx_http_chatport_mail_messages(ngx_http_chatport_mail_ctx_t *ctx,
    ngx_http_chatport_json_t *b, json_t *messages)
{
    u_char     *p, line[sizeof("9999-12-31 23:59 UTC  ") - 1];
    size_t      i, n;
    json_t     *m;
    time_t      sec;
    ngx_tm_t    tm;
    ngx_str_t   text, from, name;

    n = json_array_size(messages);

    for (i = 0; i < n; i++) {
        m = json_array_get(messages, i);

        if (!json_is_string(json_object_get(m, "text"))) {
            continue;
        }

        ngx_http_chatport_mail_string(m, "text", &text);
        ngx_http_chatport_mail_string(m, "from", &from);

        if (from.len == 5 && ngx_strncmp(from.data, "agent", 5) == 0) {
            ngx_http_chatport_mail_string(m, "name", &name);

            if (name.len == 0) {
                ngx_http_chatport_mail_string(m, "agent", &name);
            }

            if (name.len == 0) {
                name = ctx->vars.title;
            }

        } else if (ctx->kind == NGX_HTTP_CHATPORT_MAIL_VISITOR) {
            name.data = (u_char *) ctx->texts->you;
            name.len = ngx_strlen(ctx->texts->you);

        } else {
            name = ctx->vname.len ? ctx->vname : ctx->vemail;

            if (name.len == 0) {
                name.data = (u_char *) ctx->texts->visitor;
                name.len = ngx_strlen(ctx->texts->visitor);
            }
        }

        if (ngx_http_chatport_mail_oneline(ctx->pool, &name, 0) != NGX_OK) {
            b->failed = 1;
            return;
        }

        if (ngx_http_chatport_mail_time(m, "ts", &sec) == NGX_OK) {
            ngx_gmtime(sec, &tm);
            p = ngx_sprintf(line, "%4d-%02d-%02d %02d:%02d UTC  ",
                            tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                            tm.ngx_tm_hour, tm.ngx_tm_min);
            ngx_http_chatport_json_raw(b, line, p - line);
        }

        ngx_http_chatport_json_raw(b, name.data, name.len);
        ngx_http_chatport_json_literal(b, ":\r\n");
        ngx_http_chatport_json_literal(b, NGX_HTTP_CHATPORT_MAIL_INDENT);
        ngx_http_chatport_mail_lines(b, &text);
        ngx_http_chatport_mail_crlf(b);
    }
}


/*
 * "label: value", or "label:" and the value's lines indented when it has
 * more than one; nothing for an empty value.
 */

static void
ngx_http_chatport_mail_labelled(ngx_http_chatport_json_t *b, char *label,
    ngx_str_t *label_str, ngx_str_t *value)
{
    if (value->len == 0) {
        return;
    }

    if (label) {
        ngx_http_chatport_mail_text(b, label);

    } else {
        ngx_http_chatport_json_raw(b, label_str->data, label_str->len);
    }

    if (ngx_strlchr(value->data, value->data + value->len, '\n') == NULL
        && ngx_strlchr(value->data, value->data + value->len, '\r') == NULL)
    {
        ngx_http_chatport_json_literal(b, ": ");

    } else {
        ngx_http_chatport_json_literal(b,
                                       ":\r\n" NGX_HTTP_CHATPORT_MAIL_INDENT);
    }

    ngx_http_chatport_mail_lines(b, value);
}


/* text as CRLF lines, the ones after the first indented */

static void
ngx_http_chatport_mail_lines(ngx_http_chatport_json_t *b, ngx_str_t *text)
{
    u_char  *p, *last, *start;

    p = text->data;
    last = p + text->len;
    start = p;

    for ( /* void */ ; p < last; p++) {
        if (*p != '\r' && *p != '\n') {
            continue;
        }

        ngx_http_chatport_json_raw(b, start, p - start);
        ngx_http_chatport_json_literal(b, "\r\n" NGX_HTTP_CHATPORT_MAIL_INDENT);

        if (*p == '\r' && p + 1 < last && p[1] == '\n') {
            p++;
        }

        start = p + 1;
    }

    ngx_http_chatport_json_raw(b, start, last - start);
    ngx_http_chatport_mail_crlf(b);
}


static void
ngx_http_chatport_mail_expand(ngx_http_chatport_json_t *b, char *template,
    ngx_http_chatport_mail_vars_t *vars)
{
    u_char     *p, *start, num[NGX_INT_T_LEN];
    ngx_str_t  *value;

    p = (u_char *) template;
    start = p;

    for ( /* void */ ; *p; p++) {
        if (*p != '{') {
            continue;
        }

        ngx_http_chatport_json_raw(b, start, p - start);

        if (ngx_strncmp(p, "{title}", 7) == 0) {
            value = &vars->title;

        } else if (ngx_strncmp(p, "{name}", 6) == 0) {
            value = &vars->name;

        } else if (ngx_strncmp(p, "{agent}", 7) == 0) {
            value = &vars->agent;

        } else {
            /* "{n}", the only other one the tables have */
            ngx_http_chatport_json_raw(b, num,
                                       ngx_sprintf(num, "%ui", vars->n) - num);
            value = NULL;
        }

        if (value) {
            ngx_http_chatport_json_raw(b, value->data, value->len);
        }

        p = (u_char *) ngx_strchr(p, '}');
        start = p + 1;
    }

    ngx_http_chatport_json_raw(b, start, p - start);
}


/*
 * UTF-8 text as "=?UTF-8?B?...?=" words (RFC 2047) of at most 75
 * characters, folded so that a line stays within 78 columns; a character
 * is never cut across two words.
 */

static void
ngx_http_chatport_mail_words(ngx_http_chatport_json_t *h, ngx_str_t *text)
{
    u_char     *p, *last, *cut, buf[NGX_HTTP_CHATPORT_MAIL_WORD];
    size_t      col, room, n;
    ngx_str_t   src, dst;

    p = text->data;
    last = p + text->len;

    while (p < last) {
        col = ngx_http_chatport_mail_column(h);
        room = ngx_min(NGX_HTTP_CHATPORT_MAIL_WORD,
                       NGX_HTTP_CHATPORT_MAIL_LINE
                       - ngx_min(col, NGX_HTTP_CHATPORT_MAIL_LINE));

        /* the bytes that fit: 12 characters of "=?UTF-8?B?" and "?=" */
        n = room > 12 ? (room - 12) / 4 * 3 : 0;
        n = ngx_min(n, (size_t) (last - p));
        cut = p + n;

        while (cut > p && cut < last && (*cut & 0xc0) == 0x80) {
            cut--;
        }

        if (cut == p && col > 1) {
            /* no room left on this line: the next one has */
            ngx_http_chatport_json_literal(h, "\r\n ");
            continue;
        }

        if (cut == p) {
            /* not UTF-8 after all: cut anywhere rather than loop */
            cut = p + n;
        }

        src.data = p;
        src.len = cut - p;
        dst.data = buf;
        ngx_encode_base64(&dst, &src);

        ngx_http_chatport_json_literal(h, "=?UTF-8?B?");
        ngx_http_chatport_json_raw(h, dst.data, dst.len);
        ngx_http_chatport_json_literal(h, "?=");

        p = cut;

        if (p < last) {
            ngx_http_chatport_json_literal(h, "\r\n ");
        }
    }
}


/* the body in base64 lines of 76 characters */

static void
ngx_http_chatport_mail_base64(ngx_http_chatport_json_t *h, ngx_str_t *body)
{
    u_char     *p, *last, buf[76];
    ngx_str_t   src, dst;

    p = body->data;
    last = p + body->len;

    while (p < last) {
        src.data = p;
        src.len = ngx_min(57, (size_t) (last - p));
        dst.data = buf;
        ngx_encode_base64(&dst, &src);

        ngx_http_chatport_json_raw(h, dst.data, dst.len);
        ngx_http_chatport_mail_crlf(h);

        p += src.len;
    }
}


static size_t
ngx_http_chatport_mail_column(ngx_http_chatport_json_t *h)
{
    u_char  *p;

    if (h->failed) {
        return 0;
    }

    for (p = h->pos; p > h->start && p[-1] != '\n'; p--) { /* void */ }

    return h->pos - p;
}


/*
 * A name for one line: a run of control characters and Unicode line
 * breaks becomes a space; cut after max characters (0: no limit) with an
 * ellipsis.
 * The text is UTF-8, as jansson gives it.
 */

static ngx_int_t
ngx_http_chatport_mail_oneline(ngx_pool_t *pool, ngx_str_t *s, size_t max)
{
    u_char      *p, *q, *last, *out;
    size_t       chars, n;
    ngx_uint_t   cut;

    if (s->len == 0) {
        return NGX_OK;
    }

    p = s->data;
    last = p + s->len;

    out = ngx_pnalloc(pool, s->len + sizeof("…"));
    if (out == NULL) {
        return NGX_ERROR;
    }

    q = out;
    chars = 0;
    cut = 0;

    while (p < last) {
        if ((*p & 0xc0) != 0x80 && max && chars++ == max) {
            cut = 1;
            break;
        }

        if (*p < 0x20 || *p == 0x7f) {
            n = 1;

        } else if (p + 1 < last && p[0] == 0xc2 && p[1] >= 0x80
                   && p[1] <= 0x9f)
        {
            /* C1 controls, NEL among them */
            n = 2;

        } else if (p + 2 < last && p[0] == 0xe2 && p[1] == 0x80
                   && (p[2] == 0xa8 || p[2] == 0xa9))
        {
            /* LINE SEPARATOR, PARAGRAPH SEPARATOR */
            n = 3;

        } else {
            *q++ = *p++;
            continue;
        }

        /* a space for a run of them: "\r\n" is one break */

        if (q == out || q[-1] != ' ') {
            *q++ = ' ';
        }

        p += n;
    }

    if (cut) {
        q = ngx_cpymem(q, "…", sizeof("…") - 1);
    }

    s->data = out;
    s->len = q - out;

    return NGX_OK;
}


/* atoms and spaces: a display name that may stay as it is in quotes */

static ngx_uint_t
ngx_http_chatport_mail_plain(ngx_str_t *s)
{
    u_char  *p, *last;

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p == '\0'
            || !(isalnum(*p) || ngx_strchr(" !#$%&'*+-/=?^_`{|}~.,:[]()", *p)))
        {
            return 0;
        }

        if (*p == '=' && p + 1 < last && p[1] == '?') {
            /* it would read as an encoded-word */
            return 0;
        }
    }

    return 1;
}


static void
ngx_http_chatport_mail_string(json_t *object, const char *key,
    ngx_str_t *value)
{
    json_t  *member;

    member = json_object_get(object, key);

    if (json_is_string(member)) {
        value->data = (u_char *) json_string_value(member);
        value->len = json_string_length(member);

    } else {
        ngx_str_null(value);
    }
}


static ngx_int_t
ngx_http_chatport_mail_int(json_t *object, const char *key, int64_t *value)
{
    json_t  *member;

    member = json_object_get(object, key);

    if (!json_is_integer(member)) {
        return NGX_DECLINED;
    }

    *value = json_integer_value(member);

    return NGX_OK;
}


/* milliseconds of a member as seconds, when a date of years 1970-9999 */

static ngx_int_t
ngx_http_chatport_mail_time(json_t *object, const char *key, time_t *sec)
{
    int64_t  ms;

    if (ngx_http_chatport_mail_int(object, key, &ms) != NGX_OK
        || ms < 0 || ms > NGX_HTTP_CHATPORT_MAIL_TS_MAX)
    {
        return NGX_DECLINED;
    }

    *sec = ms / 1000;

    return NGX_OK;
}


/*
 * The envelope outlives the entry (the sender frees it when the mail is
 * rendered): a copy in the pool, null-terminated for libcurl.
 */

static ngx_int_t
ngx_http_chatport_mail_copy(ngx_pool_t *pool, ngx_str_t *src, ngx_str_t *dst)
{
    dst->data = ngx_pnalloc(pool, src->len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    *ngx_cpymem(dst->data, src->data, src->len) = '\0';
    dst->len = src->len;

    return NGX_OK;
}
