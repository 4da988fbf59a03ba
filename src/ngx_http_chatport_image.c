
/*
 * ChatPort: what an uploaded photo is, told from its bytes alone: the
 * name and the declared type of an upload mean nothing.
 *
 * Each format is walked from its magic number to its last structure
 * (JPEG's EOI, PNG's IEND, the RIFF size of WebP, GIF's trailer), which
 * must end the file: a truncated file, or one with anything appended (a
 * script, an archive: a polyglot), is not an image here. The width and
 * height come from the header the format defines for them. Nothing is
 * decoded: a browser renders the pixels, in a sandbox.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_chatport_image.h"


static ngx_int_t ngx_http_chatport_image_jpeg(u_char *p, size_t len,
    ngx_http_chatport_image_t *img);
static ngx_int_t ngx_http_chatport_image_png(u_char *p, size_t len,
    ngx_http_chatport_image_t *img);
static ngx_int_t ngx_http_chatport_image_webp(u_char *p, size_t len,
    ngx_http_chatport_image_t *img);
static ngx_int_t ngx_http_chatport_image_gif(u_char *p, size_t len,
    ngx_http_chatport_image_t *img);
static ngx_int_t ngx_http_chatport_image_sub_blocks(u_char *p, size_t len,
    size_t *pos);


#define ngx_http_chatport_be16(p)  ((ngx_uint_t) (p)[0] << 8 | (p)[1])
#define ngx_http_chatport_le16(p)  ((ngx_uint_t) (p)[1] << 8 | (p)[0])
#define ngx_http_chatport_le24(p)                                             \
    ((ngx_uint_t) (p)[2] << 16 | (ngx_uint_t) (p)[1] << 8 | (p)[0])
#define ngx_http_chatport_be32(p)                                             \
    ((uint32_t) (p)[0] << 24 | (uint32_t) (p)[1] << 16                        \
     | (uint32_t) (p)[2] << 8 | (p)[3])
#define ngx_http_chatport_le32(p)                                             \
    ((uint32_t) (p)[3] << 24 | (uint32_t) (p)[2] << 16                        \
     | (uint32_t) (p)[1] << 8 | (p)[0])


static ngx_str_t  ngx_http_chatport_image_types[] = {
    ngx_null_string,
    ngx_string("image/jpeg"),
    ngx_string("image/png"),
    ngx_string("image/webp"),
    ngx_string("image/gif")
};


/*
 * NGX_OK with the format and dimensions (each 1 or more), or
 * NGX_DECLINED for anything that is not a whole JPEG, PNG, WebP or GIF.
 */

ngx_int_t
ngx_http_chatport_image_sniff(u_char *p, size_t len,
    ngx_http_chatport_image_t *img)
{
    ngx_int_t  rc;

    ngx_memzero(img, sizeof(ngx_http_chatport_image_t));

    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        img->format = NGX_HTTP_CHATPORT_IMAGE_JPEG;
        rc = ngx_http_chatport_image_jpeg(p, len, img);

    } else if (len >= 8 && ngx_memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
        img->format = NGX_HTTP_CHATPORT_IMAGE_PNG;
        rc = ngx_http_chatport_image_png(p, len, img);

    } else if (len >= 12 && ngx_memcmp(p, "RIFF", 4) == 0
               && ngx_memcmp(p + 8, "WEBP", 4) == 0)
    {
        img->format = NGX_HTTP_CHATPORT_IMAGE_WEBP;
        rc = ngx_http_chatport_image_webp(p, len, img);

    } else if (len >= 6 && (ngx_memcmp(p, "GIF87a", 6) == 0
                            || ngx_memcmp(p, "GIF89a", 6) == 0))
    {
        img->format = NGX_HTTP_CHATPORT_IMAGE_GIF;
        rc = ngx_http_chatport_image_gif(p, len, img);

    } else {
        rc = NGX_DECLINED;
    }

    if (rc != NGX_OK || img->width == 0 || img->height == 0) {
        img->format = NGX_HTTP_CHATPORT_IMAGE_NONE;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


ngx_str_t *
ngx_http_chatport_image_type(ngx_http_chatport_image_t *img)
{
    return &ngx_http_chatport_image_types[img->format];
}


/*
 * Segments up to each start of scan, the entropy-coded data after it
 * (where 0xff is followed by 0x00 or a restart marker) up to the next
 * marker, and so on to the EOI: progressive files have several scans.
 */

static ngx_int_t
ngx_http_chatport_image_jpeg(u_char *p, size_t len,
    ngx_http_chatport_image_t *img)
{
    size_t      pos, seg;
    u_char      m;
    ngx_uint_t  sof, scans;

    pos = 2;
    sof = 0;
    scans = 0;

    for ( ;; ) {

        if (pos >= len || p[pos] != 0xff) {
            return NGX_DECLINED;
        }

        /* a marker may be preceded by fill bytes */
        while (pos < len && p[pos] == 0xff) {
            pos++;
        }

        if (pos >= len) {
            return NGX_DECLINED;
        }

        m = p[pos++];

        if (m == 0xd9) {
            return (pos == len && sof && scans) ? NGX_OK : NGX_DECLINED;
        }

        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
            continue;
        }

        if (m == 0x00 || m == 0xd8 || len - pos < 2) {
            return NGX_DECLINED;
        }

        seg = ngx_http_chatport_be16(p + pos);

        if (seg < 2 || len - pos < seg) {
            return NGX_DECLINED;
        }

        /* SOF0-15 but DHT, JPG and DAC: precision, height, width */
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (seg < 8 || sof) {
                return NGX_DECLINED;
            }

            img->height = ngx_http_chatport_be16(p + pos + 3);
            img->width = ngx_http_chatport_be16(p + pos + 5);
            sof = 1;
        }

        pos += seg;

        if (m != 0xda) {
            continue;
        }

        if (!sof) {
            return NGX_DECLINED;
        }

        scans++;

        while (pos < len) {

            if (p[pos] != 0xff) {
                pos++;
                continue;
            }

            if (len - pos < 2) {
                return NGX_DECLINED;
            }

            m = p[pos + 1];

            if (m == 0x00 || (m >= 0xd0 && m <= 0xd7)) {
                pos += 2;
                continue;
            }

            break;
        }
    }
}


/* IHDR first, at least one IDAT, and IEND last */

static ngx_int_t
ngx_http_chatport_image_png(u_char *p, size_t len,
    ngx_http_chatport_image_t *img)
{
    u_char      *type;
    size_t       pos, n;
    uint32_t     clen;
    ngx_uint_t   i, idat;

    pos = 8;
    idat = 0;

    for ( ;; ) {

        if (len - pos < 12) {
            return NGX_DECLINED;
        }

        clen = ngx_http_chatport_be32(p + pos);
        type = p + pos + 4;

        if (clen > 0x7fffffff || len - pos - 12 < clen) {
            return NGX_DECLINED;
        }

        for (i = 0; i < 4; i++) {
            if (!((type[i] >= 'a' && type[i] <= 'z')
                  || (type[i] >= 'A' && type[i] <= 'Z')))
            {
                return NGX_DECLINED;
            }
        }

        if (pos == 8) {
            if (ngx_memcmp(type, "IHDR", 4) != 0 || clen != 13) {
                return NGX_DECLINED;
            }

            /* 31 bits each; larger than any limit, and never 0 here */
            n = ngx_http_chatport_be32(p + pos + 8);
            img->width = ngx_min(n, (size_t) 0x7fffffff);
            n = ngx_http_chatport_be32(p + pos + 12);
            img->height = ngx_min(n, (size_t) 0x7fffffff);

        } else if (ngx_memcmp(type, "IHDR", 4) == 0) {
            return NGX_DECLINED;
        }

        if (ngx_memcmp(type, "IDAT", 4) == 0) {
            idat = 1;
        }

        pos += 12 + (size_t) clen;

        if (ngx_memcmp(type, "IEND", 4) == 0) {
            return (pos == len && clen == 0 && idat) ? NGX_OK : NGX_DECLINED;
        }
    }
}


/*
 * The RIFF size covers the whole file; the first chunk says how the
 * picture is coded (lossy VP8, lossless VP8L, or VP8X for the extended
 * format) and its dimensions.
 */

static ngx_int_t
ngx_http_chatport_image_webp(u_char *p, size_t len,
    ngx_http_chatport_image_t *img)
{
    u_char    *d;
    size_t     pos, size;
    uint32_t   bits;

    if (len - 8 != ngx_http_chatport_le32(p + 4) || len < 20) {
        return NGX_DECLINED;
    }

    pos = 12;

    while (pos < len) {

        if (len - pos < 8) {
            return NGX_DECLINED;
        }

        size = ngx_http_chatport_le32(p + pos + 4);
        d = p + pos + 8;

        /* an odd chunk is padded to an even size */
        if (len - pos - 8 < size + (size & 1)) {
            return NGX_DECLINED;
        }

        if (pos == 12) {

            if (ngx_memcmp(p + pos, "VP8 ", 4) == 0) {
                if (size < 10 || ngx_memcmp(d + 3, "\x9d\x01\x2a", 3) != 0) {
                    return NGX_DECLINED;
                }

                img->width = ngx_http_chatport_le16(d + 6) & 0x3fff;
                img->height = ngx_http_chatport_le16(d + 8) & 0x3fff;

            } else if (ngx_memcmp(p + pos, "VP8L", 4) == 0) {
                if (size < 5 || d[0] != 0x2f) {
                    return NGX_DECLINED;
                }

                bits = ngx_http_chatport_le32(d + 1);
                img->width = (bits & 0x3fff) + 1;
                img->height = ((bits >> 14) & 0x3fff) + 1;

            } else if (ngx_memcmp(p + pos, "VP8X", 4) == 0) {
                if (size < 10) {
                    return NGX_DECLINED;
                }

                img->width = ngx_http_chatport_le24(d + 4) + 1;
                img->height = ngx_http_chatport_le24(d + 7) + 1;

            } else {
                return NGX_DECLINED;
            }
        }

        pos += 8 + size + (size & 1);
    }

    return (pos == len) ? NGX_OK : NGX_DECLINED;
}


/* header, screen, blocks (extensions and images), and the trailer */

static ngx_int_t
ngx_http_chatport_image_gif(u_char *p, size_t len,
    ngx_http_chatport_image_t *img)
{
    size_t      pos;
    ngx_uint_t  images;

    if (len < 13) {
        return NGX_DECLINED;
    }

    img->width = ngx_http_chatport_le16(p + 6);
    img->height = ngx_http_chatport_le16(p + 8);

    pos = 13;

    /* the global color table */
    if (p[10] & 0x80) {
        pos += 3 * ((size_t) 2 << (p[10] & 7));
    }

    images = 0;

    for ( ;; ) {

        if (pos >= len) {
            return NGX_DECLINED;
        }

        switch (p[pos]) {

        case 0x3b:
            return (pos + 1 == len && images) ? NGX_OK : NGX_DECLINED;

        case 0x21:
            /* an extension: its label, then sub-blocks */
            pos += 2;
            break;

        case 0x2c:
            /* an image: descriptor, local color table, LZW code size */
            if (len - pos < 10) {
                return NGX_DECLINED;
            }

            if (p[pos + 9] & 0x80) {
                pos += 3 * ((size_t) 2 << (p[pos + 9] & 7));
            }

            pos += 11;
            images++;
            break;

        default:
            return NGX_DECLINED;
        }

        if (ngx_http_chatport_image_sub_blocks(p, len, &pos) != NGX_OK) {
            return NGX_DECLINED;
        }
    }
}


/* data sub-blocks, each a size byte and that many bytes, up to size 0 */

static ngx_int_t
ngx_http_chatport_image_sub_blocks(u_char *p, size_t len, size_t *pos)
{
    size_t  n;

    n = *pos;

    for ( ;; ) {

        if (n >= len) {
            return NGX_DECLINED;
        }

        if (p[n] == 0) {
            *pos = n + 1;
            return NGX_OK;
        }

        n += 1 + (size_t) p[n];
    }
}
