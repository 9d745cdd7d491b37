/*
 * frame: one server-to-client WebSocket text frame, built once and shared by
 * reference count among every connection it is queued on (fan-out encodes
 * an event once per node, never once per recipient).
 *
 * The bytes are a complete, unmasked RFC 6455 frame (header + payload),
 * preceded by FRAME_PRE bytes of headroom so that the network layer may
 * write them in place (libwebsockets' LWS_PRE; net.c checks the size).
 */
#ifndef ROSTRUM_FRAME_H
#define ROSTRUM_FRAME_H

#include <stddef.h>

#define FRAME_PRE 16

struct frame {
    unsigned refs;
    size_t len;              /* bytes of the whole frame after the headroom */
    unsigned char buf[];     /* FRAME_PRE headroom, then the frame */
};

/* Returns a new frame (one reference) holding payload[0..len) as a text
 * frame, or NULL on allocation failure. */
struct frame *frame_text(const char *payload, size_t len);
static inline const unsigned char *frame_bytes(const struct frame *f) { return f->buf + FRAME_PRE; }
static inline struct frame *frame_ref(struct frame *f) { f->refs++; return f; }
/* Drops one reference; frees at zero. NULL is a no-op. */
void frame_unref(struct frame *f);

#endif
