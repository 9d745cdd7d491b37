/* cmd_record.c: `rostrum record verify` (cmd_record.h). */
#include "cmd_record.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain.h"
#include "cli.h"

static const char usage[] =
    "Usage: rostrum record verify FILE [--public-key PEM_FILE]\n"
    "Checks a meeting record (the JSON transcript: rostrum room transcript ID\n"
    "--format json, or Download the record in the browser): recomputes the hash\n"
    "chain of its events and checks its Ed25519 signature.\n"
    "\n"
    "  --public-key PEM_FILE  the server's record key (GET /api/record-key); without\n"
    "                         it the key inside the record is used, which proves the\n"
    "                         record is whole but not who signed it\n"
    "\n"
    "Exit status: 0 the chain and the signature hold (an unsigned record: the chain\n"
    "holds and no --public-key was given); 1 they do not: the first event that does\n"
    "not match, or the signature, is named; 2 usage error, or FILE is not a record.\n";

/* Reads a small text file (a PEM key) into a new string, or NULL. */
static char *read_small(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0;
    if (!f)
        return NULL;
    buf = calloc(1, 65537);
    if (buf)
        n = fread(buf, 1, 65536, f);
    if (buf && (ferror(f) || !feof(f))) {
        free(buf);
        buf = NULL;
    }
    (void)n;
    fclose(f);
    return buf;
}

int cmd_record_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"public-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *key_path = NULL, *file = NULL;
    char *pem = NULL;
    json_t *rec = NULL;
    json_error_t jerr;
    char why[512] = "";
    int rc = CLI_EXIT_USAGE, opt, is_signed = 0;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        fprintf(stderr, "rostrum record: the only subcommand is verify\n\n%s", usage);
        return CLI_EXIT_USAGE;
    }
    optind = 1;
    opterr = 0;
    argc--;
    argv++;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'k':
            key_path = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            fprintf(stderr, "rostrum record verify: unknown or incomplete option %s\n\n%s",
                    argv[optind - 1], usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "rostrum record verify: give exactly one FILE\n\n%s", usage);
        return CLI_EXIT_USAGE;
    }
    file = argv[optind];
    if (key_path && !(pem = read_small(key_path))) {
        fprintf(stderr, "rostrum record verify: cannot read public key %s: %s\n", key_path,
                errno ? strerror(errno) : "too large");
        goto done;
    }
    rec = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &jerr) : json_load_file(file, 0, &jerr);
    if (!rec) {
        fprintf(stderr, "rostrum record verify: %s is not JSON (line %d: %s)\n", file, jerr.line,
                jerr.text);
        goto done;
    }
    switch (chain_verify_record(rec, pem, &is_signed, why, sizeof why)) {
    case CHAIN_OK:
        printf("%s: %s\n", file, why);
        rc = CLI_EXIT_OK;
        break;
    case CHAIN_MISMATCH:
        fprintf(stderr, "%s: DOES NOT VERIFY: %s\n", file, why);
        rc = CLI_EXIT_REFUSED;
        break;
    default:
        fprintf(stderr, "rostrum record verify: %s: %s\n", file, why);
        rc = CLI_EXIT_USAGE;
        break;
    }
done:
    json_decref(rec);
    free(pem);
    return rc;
}
