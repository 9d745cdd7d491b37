/*
 * wsproto.c: minimal RFC 6455 client framing (wsproto.h).
 */
#include "wsproto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_PAYLOAD (64u << 20)

size_t wsproto_request(char *out, size_t outsz, const char *host, const char *path)
{
    /* A fixed key: the accept value proves nothing to a load generator that
     * talks to servers it started itself, and computing SHA-1 per
     * connection would only slow the storm down. */
    int n = snprintf(out, outsz,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: rostrum.v1\r\n"
                     "\r\n",
                     path, host);
    return n < 0 || (size_t)n >= outsz ? 0 : (size_t)n;
}

long wsproto_response(const char *buf, size_t len)
{
    const char *end = NULL;
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = buf + i + 1;
            break;
        }
    if (!end)
        return len > 16384 ? -1 : 0;
    if (len < 12 || strncmp(buf, "HTTP/1.1 101", 12) != 0)
        return -1;
    return (long)(end - buf);
}

size_t wsproto_frame_size(size_t len)
{
    return len + 4 + (len < 126 ? 2 : len <= 0xFFFF ? 4 : 10);
}

size_t wsproto_frame(unsigned char *out, int opcode, const void *payload, size_t len, uint32_t mask)
{
    size_t h = 0;
    out[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        out[h++] = (unsigned char)(0x80 | len);
    } else if (len <= 0xFFFF) {
        out[h++] = 0x80 | 126;
        out[h++] = (unsigned char)(len >> 8);
        out[h++] = (unsigned char)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (unsigned char)((unsigned long long)len >> (8 * i));
    }
    unsigned char m[4] = {(unsigned char)(mask >> 24), (unsigned char)(mask >> 16),
                          (unsigned char)(mask >> 8), (unsigned char)mask};
    memcpy(out + h, m, 4);
    h += 4;
    const unsigned char *p = payload;
    for (size_t i = 0; i < len; i++)
        out[h + i] = p[i] ^ m[i & 3];
    return h + len;
}

long wsproto_parse(const unsigned char *buf, size_t len, struct wsproto_frame *f)
{
    if (len < 2)
        return 0;
    if ((buf[0] & 0x70) || (buf[1] & 0x80))
        return -1;
    size_t h = 2;
    uint64_t n = buf[1] & 0x7F;
    if (n == 126) {
        if (len < 4)
            return 0;
        n = ((uint64_t)buf[2] << 8) | buf[3];
        h = 4;
    } else if (n == 127) {
        if (len < 10)
            return 0;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | buf[2 + i];
        h = 10;
    }
    if (n > MAX_PAYLOAD)
        return -1;
    if (len < h + n)
        return 0;
    f->opcode = buf[0] & 0x0F;
    f->fin = (buf[0] & 0x80) != 0;
    f->payload = buf + h;
    f->len = (size_t)n;
    return (long)(h + n);
}
