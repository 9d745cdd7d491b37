/*
 * wsproto: the few pieces of RFC 6455 a load generator needs, with no I/O:
 * the upgrade request, the check of the server's 101 answer, masked client
 * frames, and a parser of server frames that works in place on a receive
 * buffer (no copy, no allocation).
 *
 * The bench speaks raw sockets on one epoll loop because a library client
 * costs several times more CPU per received frame than the server spends
 * sending it, and the load generator must not be what limits the numbers.
 */
#ifndef ROSTRUM_WSPROTO_H
#define ROSTRUM_WSPROTO_H

#include <stddef.h>
#include <stdint.h>

enum {
    WSPROTO_CONT = 0x0, WSPROTO_TEXT = 0x1, WSPROTO_BINARY = 0x2,
    WSPROTO_CLOSE = 0x8, WSPROTO_PING = 0x9, WSPROTO_PONG = 0xA,
};

/* Writes the HTTP upgrade request for path on host (the Host header)
 * asking for subprotocol rostrum.v1. Returns its length, or 0 when out is
 * too small. */
size_t wsproto_request(char *out, size_t outsz, const char *host, const char *path);

/* Looks for the end of the server's answer in buf[0..len). Returns 0 while
 * incomplete, -1 when it is not "101 Switching Protocols" (a server that
 * refuses the subprotocol answers 4xx), or the length of the head (bytes
 * after it are frames). */
long wsproto_response(const char *buf, size_t len);

/* Bytes a client frame of payload length len takes. */
size_t wsproto_frame_size(size_t len);
/* Writes a masked client frame (FIN set) with opcode and payload into out
 * (wsproto_frame_size(len) bytes). mask is the 4-byte masking key. */
size_t wsproto_frame(unsigned char *out, int opcode, const void *payload, size_t len, uint32_t mask);

struct wsproto_frame {
    int opcode;
    int fin;
    const unsigned char *payload;
    size_t len;
};

/* Parses one server frame at buf[0..len). Returns the bytes it takes (and
 * fills *f), 0 when buf holds only part of it, or -1 for a frame a server
 * must not send (masked, reserved bits, over 64 MiB). */
long wsproto_parse(const unsigned char *buf, size_t len, struct wsproto_frame *f);

#endif
