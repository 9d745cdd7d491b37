/*
 * fuzz_server.c: the server without libwebsockets (fuzz_server.h).
 *
 * What stands in for net.c and clock.c: a clock the target drives, and the
 * sessions' two-call connection interface, which has nothing to do here
 * (there are no sockets). main.c's wiring is done by fuzz_server_hub():
 * a memory backend, and a hub on it.
 */
#include "fuzz_server.h"

#include <string.h>

#include "backend.h"
#include "clock.h"
#include "config.h"
#include "hub.h"
#include "session.h"

static int64_t clock_ms = FUZZ_NOW_MS;
static char conns[64];
static struct backend *backend; /* of the hub fuzz_server_hub() made */

/* Stands in for clock.c: the target drives time. */
int64_t clock_now_ms(void)
{
    return clock_ms;
}

/* The connection interface of net.c: nothing to do without sockets (the
 * target drains the sessions itself). */
static void conn_want_write(void *conn)
{
    (void)conn;
}

static void conn_close_after(void *conn, int secs)
{
    (void)conn;
    (void)secs;
}

const struct session_conn_ops fuzz_server_conn_ops = {conn_want_write, conn_close_after};

void fuzz_server_set_clock(int64_t now_ms)
{
    clock_ms = now_ms;
}

int64_t fuzz_server_clock(void)
{
    return clock_ms;
}

void *fuzz_server_conn(unsigned i)
{
    return &conns[i % sizeof conns];
}

const struct config *fuzz_server_config(void)
{
    static struct config cfg;
    static bool done;
    if (!done) {
        char *argv[] = {"rostrum-fuzz", NULL};
        setenv("ROSTRUM_SECRET", FUZZ_KEY, 1);
        setenv("ROSTRUM_ADMIN_KEY", FUZZ_ADMIN_KEY, 1);
        unsetenv("ROSTRUM_REDIS");
        unsetenv("ROSTRUM_DATA_DIR");
        FUZZ_CHECK(config_parse(&cfg, 1, argv) == 0, "config_parse failed");
        FUZZ_CHECK(!cfg.redis_url && !cfg.data_dir, "the fuzz server must be memory only");
        FUZZ_CHECK(cfg.keys && cfg.keys->n == 1 && cfg.keys->keys[0].len == FUZZ_KEY_LEN &&
                       memcmp(cfg.keys->keys[0].secret, FUZZ_KEY, FUZZ_KEY_LEN) == 0,
                   "the secret is not FUZZ_KEY");
        done = true;
    }
    return &cfg;
}

static void created(void *arg, int status, const json_t *out, const char *msg)
{
    (void)out;
    FUZZ_CHECK(status == 201, "the fixed room is not created: %d %s", status, msg ? msg : "");
    *(bool *)arg = true;
}

struct hub *fuzz_server_hub(void)
{
    clock_ms = FUZZ_NOW_MS;
    FUZZ_CHECK(!backend, "the previous hub was not destroyed");
    backend = backend_memory_create(NULL);
    FUZZ_CHECK(backend, "backend_memory_create failed");
    struct hub *h = hub_create(fuzz_server_config(), backend);
    FUZZ_CHECK(h, "hub_create failed");
    json_t *spec = json_loads(FUZZ_ROOM_SPEC, 0, NULL);
    bool done = false;
    hub_room_create(h, spec, created, &done);
    FUZZ_CHECK(done, "the memory backend did not answer at once");
    json_decref(spec);
    return h;
}

void fuzz_server_hub_destroy(struct hub *h)
{
    hub_destroy(h);
    backend_destroy(backend);
    backend = NULL;
}

size_t fuzz_server_check_frames(const unsigned char *buf, size_t len,
                                void (*each)(void *arg, const json_t *msg), void *arg)
{
    size_t off = 0, n = 0;
    while (off < len) {
        FUZZ_CHECK(len - off >= 2, "a frame header is cut");
        FUZZ_CHECK(buf[off] == 0x81, "not a final unmasked text frame: 0x%02x", buf[off]);
        size_t plen = buf[off + 1], hdr = 2;
        FUZZ_CHECK(!(plen & 0x80), "a server frame is masked");
        if (plen == 126) {
            FUZZ_CHECK(len - off >= 4, "a frame header is cut");
            plen = (size_t)buf[off + 2] << 8 | buf[off + 3];
            FUZZ_CHECK(plen >= 126, "a length that is not minimal");
            hdr = 4;
        } else if (plen == 127) {
            FUZZ_CHECK(len - off >= 10, "a frame header is cut");
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | buf[off + 2 + i];
            FUZZ_CHECK(plen > 0xFFFF, "a length that is not minimal");
            hdr = 10;
        }
        FUZZ_CHECK(plen <= len - off - hdr, "a frame is cut");
        json_error_t err;
        json_t *j = json_loadb((const char *)buf + off + hdr, plen, JSON_REJECT_DUPLICATES, &err);
        FUZZ_CHECK(json_is_object(j) && json_is_string(json_object_get(j, "type")),
                   "the server sent something that is not a JSON message: %.*s", (int)plen,
                   (const char *)buf + off + hdr);
        if (each)
            each(arg, j);
        json_decref(j);
        off += hdr + plen;
        n++;
    }
    return n;
}
