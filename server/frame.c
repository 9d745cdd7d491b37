/* frame.c: reference-counted, pre-built WebSocket text frames (frame.h). */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

struct frame *frame_text(const char *payload, size_t len)
{
    size_t hdr = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
    struct frame *f = malloc(sizeof *f + FRAME_PRE + hdr + len);
    if (!f)
        return NULL;
    f->refs = 1;
    f->len = hdr + len;
    unsigned char *p = f->buf + FRAME_PRE;
    p[0] = 0x81; /* FIN, text */
    if (hdr == 2) {
        p[1] = (unsigned char)len;
    } else if (hdr == 4) {
        p[1] = 126;
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
    } else {
        p[1] = 127;
        for (int i = 0; i < 8; i++)
            p[2 + i] = (unsigned char)((unsigned long long)len >> (56 - 8 * i));
    }
    memcpy(p + hdr, payload, len);
    return f;
}

void frame_unref(struct frame *f)
{
    if (f && --f->refs == 0)
        free(f);
}
