
/*
 * Uploaded photos: the sniffer on any bytes (libFuzzer gives a buffer of
 * exactly the input's size, so ASan sees any read past its end), and
 * what it promises of a file it accepts.
 */


#include "fuzz_common.h"

#include "../src/ngx_http_chatport_image.c"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_str_t                  *type;
    ngx_http_chatport_image_t   img;

    if (ngx_http_chatport_image_sniff((u_char *) data, size, &img)
        != NGX_OK)
    {
        if (img.format != NGX_HTTP_CHATPORT_IMAGE_NONE) {
            __builtin_trap();
        }

        return 0;
    }

    type = ngx_http_chatport_image_type(&img);

    if (img.format == NGX_HTTP_CHATPORT_IMAGE_NONE
        || img.width == 0 || img.height == 0
        || type->len == 0 || ngx_strncmp(type->data, "image/", 6) != 0)
    {
        __builtin_trap();
    }

    return 0;
}
