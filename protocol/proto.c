/*
 * proto.c: the name tables of the wire vocabulary (built from
 * proto_tables.h) and the string rules shared by every parser.
 * Pure: no I/O, no allocation.
 */
#include "proto.h"

#include <string.h>

#define NAME2(E, s) s,
#define NAME3(E, s, x) s,
#define TEXT3(E, s, t) t,
#define PARTS3(E, s, p) p,

static const char *const cmd_names[] = {PROTO_COMMANDS(NAME2)};
static const char *const err_codes[] = {"ok", PROTO_ERRORS(NAME3)};
static const char *const err_texts[] = {"ok", PROTO_ERRORS(TEXT3)};
static const char *const event_names[] = {PROTO_EVENTS(NAME3)};
static const unsigned event_parts[] = {PROTO_EVENTS(PARTS3)};
static const char *const role_names[] = {PROTO_ROLES(NAME2)};
static const char *const kind_names[] = {PROTO_KINDS(NAME2)};
static const char *const category_names[] = {PROTO_CATEGORIES(NAME2)};
static const char *const status_names[] = {PROTO_STATUSES(NAME2)};
static const char *const end_names[] = {PROTO_END_REASONS(NAME2)};
static const char *const timeup_names[] = {PROTO_ON_TIME_UP(NAME2)};
static const char *const chat_names[] = {PROTO_CHAT_RULES(NAME2)};
static const char *const order_names[] = {PROTO_QUEUE_ORDERS(NAME2)};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : "";
}

static int parse_in(const char *const *names, size_t n, const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

const char *proto_cmd_name(enum proto_cmd_type t) { return name_of(cmd_names, COUNT(cmd_names), (int)t); }
int proto_cmd_parse(const char *s) { return parse_in(cmd_names, COUNT(cmd_names), s); }
const char *proto_err_code(enum proto_err e) { return name_of(err_codes, COUNT(err_codes), (int)e); }
const char *proto_err_text(enum proto_err e) { return name_of(err_texts, COUNT(err_texts), (int)e); }
const char *proto_event_name(enum proto_event e) { return name_of(event_names, COUNT(event_names), (int)e); }
int proto_event_parse(const char *s) { return parse_in(event_names, COUNT(event_names), s); }
unsigned proto_event_parts(enum proto_event e)
{
    return (int)e >= 0 && (size_t)e < COUNT(event_parts) ? event_parts[e] : 0u;
}
const char *proto_role_name(enum proto_role r) { return name_of(role_names, COUNT(role_names), (int)r); }
int proto_role_parse(const char *s) { return parse_in(role_names, COUNT(role_names), s); }
const char *proto_kind_name(enum proto_kind k) { return name_of(kind_names, COUNT(kind_names), (int)k); }
int proto_kind_parse(const char *s) { return parse_in(kind_names, COUNT(kind_names), s); }
const char *proto_category_name(enum proto_category c)
{
    return c == PROTO_CAT_NONE ? NULL : name_of(category_names, COUNT(category_names), (int)c);
}
int proto_category_parse(const char *s) { return parse_in(category_names, COUNT(category_names), s); }
const char *proto_status_name(enum proto_status s) { return name_of(status_names, COUNT(status_names), (int)s); }
int proto_status_parse(const char *s) { return parse_in(status_names, COUNT(status_names), s); }
const char *proto_end_reason_name(enum proto_end_reason r) { return name_of(end_names, COUNT(end_names), (int)r); }
int proto_end_reason_parse(const char *s) { return parse_in(end_names, COUNT(end_names), s); }
const char *proto_on_time_up_name(enum proto_on_time_up v) { return name_of(timeup_names, COUNT(timeup_names), (int)v); }
int proto_on_time_up_parse(const char *s) { return parse_in(timeup_names, COUNT(timeup_names), s); }
const char *proto_chat_name(enum proto_chat v) { return name_of(chat_names, COUNT(chat_names), (int)v); }
int proto_chat_parse(const char *s) { return parse_in(chat_names, COUNT(chat_names), s); }
const char *proto_queue_order_name(enum proto_queue_order v) { return name_of(order_names, COUNT(order_names), (int)v); }
int proto_queue_order_parse(const char *s) { return parse_in(order_names, COUNT(order_names), s); }

const char *proto_close_reason(int code)
{
#define CLOSE_CASE(E, c, r) case c: return r;
    switch (code) {
        PROTO_CLOSES(CLOSE_CASE)
    default:
        return "";
    }
#undef CLOSE_CASE
}

long proto_utf8_chars(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t extra;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            n++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return -1;
        }
        if (len - i <= extra)
            return -1;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        i += extra + 1;
        n++;
    }
    return n;
}

static bool all_in(const char *s, size_t max, const char *extra_chars, bool lower_only)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (!lower_only && c >= 'A' && c <= 'Z') || (c && strchr(extra_chars, c));
        if (!ok)
            return false;
    }
    return true;
}

bool proto_valid_sub(const char *s) { return s && all_in(s, PROTO_MAX_SUB, "._:@-", false); }

bool proto_valid_jti(const char *s) { return s && all_in(s, PROTO_MAX_JTI, "._-", false); }

bool proto_valid_room_id(const char *s)
{
    return s && s[0] != '-' && all_in(s, PROTO_MAX_ROOM_ID, "-", true);
}

bool proto_valid_item_id(const char *s) { return s && all_in(s, PROTO_MAX_ITEM_ID, "._-", false); }

bool proto_valid_name(const char *s)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    long n = proto_utf8_chars(s, len);
    if (n < 1 || n > PROTO_MAX_NAME_CHARS)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

bool proto_valid_region(const char *s)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    long n = proto_utf8_chars(s, len);
    if (n < 1 || n > PROTO_MAX_REGION_CHARS)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* The shape only: a name that passes can be joined to a zone directory
 * without escaping it ("..", leading '/', anything but the characters IANA
 * names use), so that the server's check against the database is safe. */
bool proto_valid_time_zone_name(const char *s)
{
    size_t len, comp = 0;
    if (!s)
        return false;
    len = strlen(s);
    if (len < 1 || len > PROTO_MAX_TIME_ZONE || s[0] == '/' || s[len - 1] == '/')
        return false;
    for (size_t i = 0; i <= len; i++) {
        char ch = s[i];
        if (ch == '/' || ch == '\0') {
            if (comp == 0)
                return false;
            if (s[i - comp] == '.')
                return false; /* ".", "..", or a hidden file */
            comp = 0;
            continue;
        }
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '+' || ch == '-'))
            return false;
        comp++;
    }
    return true;
}
