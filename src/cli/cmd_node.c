/* Commands of the node module: serve, init, officer accounts, the officer's
 * client commands (partner query, feed status), the test PKI and the route
 * table. Exit codes: 0 success; 1 the node answered with an error; 2 usage;
 * 3 a fatal error (configuration, network, TLS). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "perimeter/core.h"
#include "perimeter/node.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

#define EXIT_ANSWER 1
#define EXIT_USAGE 2
#define EXIT_FATAL 3

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !end || end == s || *end || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static void log_line(void *ctx, int level, const char *line)
{
    (void)ctx;
    static const char *const lv[] = {"info", "warn", "error"};
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s %s\n", ts, lv[level < 0 || level > 2 ? 2 : level], line);
}

/* ---------------------------------------------------------------- serve */

static void serve_usage(FILE *out)
{
    fprintf(out, "usage: perimeter serve --config FILE [--drain-ms N]\n"
                 "Runs the node until SIGTERM or SIGINT, then stops accepting, lets requests in\n"
                 "flight finish (up to --drain-ms, default 30000) and closes the store.\n");
}

int pm_cmd_serve(int argc, char **argv);
int pm_cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"drain-ms", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    unsigned long drain = 30000;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'd':
            if (parse_uint(optarg, 3600000, &drain)) {
                serve_usage(stderr);
                return EXIT_USAGE;
            }
            break;
        case 'h': serve_usage(stdout); return 0;
        default: serve_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || optind != argc) {
        serve_usage(stderr);
        return EXIT_USAGE;
    }
    pm_error_t e;
    pm_error_clear(&e);
    pm_node_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg || pm_node_config_load(config, cfg, &e)) {
        fprintf(stderr, "perimeter: %s\n", cfg ? pm_error_text(&e) : "out of memory");
        free(cfg);
        return EXIT_FATAL;
    }
    /* The node's threads inherit this mask; only this thread takes the signals. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pm_node_options_t o = {log_line, NULL, 0};
    pm_node_t *node = NULL;
    if (pm_node_start(cfg, &o, &node, &e)) {
        fprintf(stderr, "perimeter: serve: %s\n", pm_error_text(&e));
        pm_node_config_free(cfg);
        free(cfg);
        return EXIT_FATAL;
    }
    int sig = 0;
    sigwait(&set, &sig);
    log_line(NULL, 0, sig == SIGTERM ? "SIGTERM: draining" : "SIGINT: draining");
    pm_node_stop(node, (unsigned)drain);
    pm_node_config_free(cfg);
    free(cfg);
    return 0;
}

/* ---------------------------------------------------------------- init */

static void init_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter init --country CC --partner PP [--port N] [--partner-port N]\n"
            "                      [--days N] DIR\n"
            "Writes DIR/CC and DIR/PP: a test CA per country, node certificates (ECDSA P-256,\n"
            "SAN localhost/127.0.0.1), and node.json configurations naming each other on\n"
            "127.0.0.1 (default ports 8443 and 8444). Then: perimeter serve --config DIR/CC/node.json\n");
}

int pm_cmd_init(int argc, char **argv);
int pm_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"country", required_argument, NULL, 'c'}, {"partner", required_argument, NULL, 'p'},
        {"port", required_argument, NULL, 'P'},    {"partner-port", required_argument, NULL, 'Q'},
        {"days", required_argument, NULL, 'd'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    pm_node_init_options_t o = {NULL, NULL, 0, 0, 0};
    unsigned long v;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': o.country = optarg; break;
        case 'p': o.partner = optarg; break;
        case 'P':
        case 'Q':
        case 'd':
            if (parse_uint(optarg, ch == 'd' ? 36500 : 65535, &v) || v == 0) {
                init_usage(stderr);
                return EXIT_USAGE;
            }
            if (ch == 'P')
                o.port = (unsigned)v;
            else if (ch == 'Q')
                o.partner_port = (unsigned)v;
            else
                o.days = (unsigned)v;
            break;
        case 'h': init_usage(stdout); return 0;
        default: init_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!o.country || !o.partner || optind != argc - 1) {
        init_usage(stderr);
        return EXIT_USAGE;
    }
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_node_init_pair(argv[optind], &o, &e)) {
        fprintf(stderr, "perimeter: init: %s\n", pm_error_text(&e));
        return e.code == PM_EINVAL ? EXIT_USAGE : EXIT_FATAL;
    }
    printf("wrote %s/%s/node.json and %s/%s/node.json\n", argv[optind], o.country, argv[optind],
           o.partner);
    printf("and the agreement both run: %s/%s/agreement-%s.json (= %s/%s/agreement-%s.json)\n",
           argv[optind], o.country, o.partner, argv[optind], o.partner, o.country);
    return 0;
}

/* ---------------------------------------------------------------- officer accounts */

/* The password: $PERIMETER_PASSWORD, else one line of stdin. */
static int read_password(char *out, size_t cap)
{
    const char *env = getenv("PERIMETER_PASSWORD");
    if (env && *env) {
        if (strlen(env) >= cap)
            return -1;
        memcpy(out, env, strlen(env) + 1);
        return 0;
    }
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "password: ");
    if (!fgets(out, (int)cap, stdin))
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static void officer_usage(FILE *out)
{
    fprintf(out, "usage: perimeter officer add --config FILE [--role ROLE] [--replace] NAME\n"
                 "ROLE: officer, supervisor, admin (administrator), or a console role:\n"
                 "vetting_officer, adjudicator, analyst, auditor (docs/console.md).\n"
                 "The password comes from $PERIMETER_PASSWORD or one line of standard input;\n"
                 "it is stored as an Argon2id hash.\n");
}

int pm_cmd_officer_add(int argc, char **argv);
int pm_cmd_officer_add(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"role", required_argument, NULL, 'r'},
        {"replace", no_argument, NULL, 'R'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL;
    pm_officer_role_t role = PM_ROLE_OFFICER;
    int replace = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'r':
            if ((role = pm_officer_role_from_name(optarg)) == PM_ROLE_NONE) {
                officer_usage(stderr);
                return EXIT_USAGE;
            }
            break;
        case 'R': replace = 1; break;
        case 'h': officer_usage(stdout); return 0;
        default: officer_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || optind != argc - 1) {
        officer_usage(stderr);
        return EXIT_USAGE;
    }
    pm_error_t e;
    pm_error_clear(&e);
    pm_node_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg || pm_node_config_load(config, cfg, &e)) {
        fprintf(stderr, "perimeter: %s\n", cfg ? pm_error_text(&e) : "out of memory");
        free(cfg);
        return EXIT_FATAL;
    }
    char pw[1100];
    int rc = EXIT_FATAL;
    pm_store_t *st = NULL;
    pm_store_options_t so = {PM_STORE_DURABLE_FULL, 1, 0, 0};
    if (read_password(pw, sizeof pw)) {
        fprintf(stderr, "perimeter: no password given\n");
        rc = EXIT_USAGE;
    } else if (pm_store_open(cfg->store_path, &so, &st, &e) ||
               pm_officer_add(st, argv[optind], pw, role, replace, &e)) {
        fprintf(stderr, "perimeter: officer add: %s\n", pm_error_text(&e));
        rc = e.code == PM_EINVAL || e.code == PM_EEXISTS ? EXIT_USAGE : EXIT_FATAL;
    } else {
        printf("officer %s (%s) %s\n", argv[optind], pm_officer_role_name(role),
               replace ? "stored" : "added");
        rc = 0;
    }
    memset(pw, 0, sizeof pw);
    pm_store_close(st);
    pm_node_config_free(cfg);
    free(cfg);
    return rc;
}

/* ---------------------------------------------------------------- client commands */

/* Standard base64 of data into out (cap >= len / 3 * 4 + 5). */
static void base64_encode(const uint8_t *data, size_t len, char *out, size_t cap)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 <= cap; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

struct client {
    pm_node_config_t cfg;
    char url[PM_NODE_URL_MAX];
    pm_node_request_t rq;
};

/* Loads the node's configuration for its URL and CA; the token from --token
 * or $PERIMETER_TOKEN. */
static int client_open(struct client *c, const char *config, const char *url, const char *token)
{
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_node_config_load(config, &c->cfg, &e)) {
        fprintf(stderr, "perimeter: %s\n", pm_error_text(&e));
        return -1;
    }
    if (url)
        snprintf(c->url, sizeof c->url, "%s", url);
    else
        snprintf(c->url, sizeof c->url, "https://%s:%u",
                 strcmp(c->cfg.address, "0.0.0.0") == 0 ? "127.0.0.1" : c->cfg.address,
                 c->cfg.port);
    if (!c->cfg.ca_file[0]) {
        fprintf(stderr, "perimeter: %s has no tls.ca (the CA that signed this node's certificate)\n",
                config);
        pm_node_config_free(&c->cfg);
        return -1;
    }
    if (!token)
        token = getenv("PERIMETER_TOKEN");
    c->rq = (pm_node_request_t){c->url, c->cfg.ca_file, NULL, NULL, token, 60, 0, NULL};
    return 0;
}

/* Prints an answer: the body as is with --json, else a line per key. Returns
 * the exit code. */
static int client_answer(int rc, const pm_error_t *e, long status, pm_buf_t *body, int json)
{
    if (rc) {
        fprintf(stderr, "perimeter: %s\n", pm_error_text(e));
        pm_buf_free(body);
        return EXIT_FATAL;
    }
    json_t *o = body->len ? json_loadb((const char *)body->data, body->len, 0, NULL) : NULL;
    if (status >= 400) {
        const char *m = o ? json_string_value(json_object_get(o, "message")) : NULL;
        const char *code = o ? json_string_value(json_object_get(o, "code")) : NULL;
        const char *rule = o ? json_string_value(json_object_get(o, "rule")) : NULL;
        fprintf(stderr, "perimeter: node answered %ld %s%s%s: %s\n", status, code ? code : "",
                rule ? " " : "", rule ? rule : "", m ? m : "(no message)");
        if (json && body->len)
            printf("%.*s\n", (int)body->len, (const char *)body->data);
        json_decref(o);
        pm_buf_free(body);
        return EXIT_ANSWER;
    }
    if (json || !o) {
        printf("%.*s\n", (int)body->len, body->len ? (const char *)body->data : "");
    } else {
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        free(s);
    }
    json_decref(o);
    pm_buf_free(body);
    return 0;
}

static void login_usage(FILE *out)
{
    fprintf(out, "usage: perimeter officer login --config FILE --user NAME [--url URL]\n"
                 "Prints a session token (use it as --token or $PERIMETER_TOKEN). The password\n"
                 "comes from $PERIMETER_PASSWORD or one line of standard input.\n");
}

int pm_cmd_officer_login(int argc, char **argv);
int pm_cmd_officer_login(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"user", required_argument, NULL, 'u'},
        {"url", required_argument, NULL, 'U'},    {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *user = NULL, *url = NULL;
    int json = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'u': user = optarg; break;
        case 'U': url = optarg; break;
        case 'j': json = 1; break;
        case 'h': login_usage(stdout); return 0;
        default: login_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || !user || optind != argc) {
        login_usage(stderr);
        return EXIT_USAGE;
    }
    char pw[1100];
    if (read_password(pw, sizeof pw)) {
        fprintf(stderr, "perimeter: no password given\n");
        return EXIT_USAGE;
    }
    struct client c;
    memset(&c, 0, sizeof c);
    if (client_open(&c, config, url, NULL)) {
        memset(pw, 0, sizeof pw);
        return EXIT_FATAL;
    }
    json_t *req = json_pack("{s:s, s:s}", "username", user, "password", pw);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    memset(pw, 0, sizeof pw);
    pm_error_t e;
    pm_error_clear(&e);
    long status = 0;
    pm_buf_t ans;
    int rc = pm_node_call(&c.rq, "POST", "/v1/auth/login", body, body ? strlen(body) : 0,
                          "application/json", &status, &ans, &e);
    if (body) {
        memset(body, 0, strlen(body));
        free(body);
    }
    pm_node_config_free(&c.cfg);
    if (!rc && status == 200 && !json) {
        json_t *o = json_loadb((const char *)ans.data, ans.len, 0, NULL);
        const char *t = o ? json_string_value(json_object_get(o, "token")) : NULL;
        if (t)
            printf("%s\n", t);
        json_decref(o);
        pm_buf_free(&ans);
        return t ? 0 : EXIT_FATAL;
    }
    return client_answer(rc, &e, status, &ans, json);
}

static void query_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter partner query --config FILE --partner CC --purpose CODE\n"
            "         (--surname S [--given G] --dob DATE | --probe FILE --format F)\n"
            "         [--transaction-id ID] [--token T] [--url URL] [--json]\n"
            "Asks our node (officer route) to query partner CC over mutual TLS, by name +\n"
            "date of birth or with a biometric probe (F: iso19794-2, ansi378, wsq, png, an2k);\n"
            "prints the partner's answer. Token: --token or $PERIMETER_TOKEN.\n");
}

int pm_cmd_partner_query(int argc, char **argv);
int pm_cmd_partner_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},  {"partner", required_argument, NULL, 'p'},
        {"purpose", required_argument, NULL, 'P'}, {"surname", required_argument, NULL, 's'},
        {"given", required_argument, NULL, 'g'},   {"dob", required_argument, NULL, 'b'},
        {"transaction-id", required_argument, NULL, 't'},
        {"token", required_argument, NULL, 'T'},   {"url", required_argument, NULL, 'U'},
        {"probe", required_argument, NULL, 'r'},   {"format", required_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *partner = NULL, *purpose = NULL, *surname = NULL, *given = NULL,
               *dob = NULL, *txn = NULL, *token = NULL, *url = NULL, *probe = NULL,
               *format = NULL;
    int json = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'p': partner = optarg; break;
        case 'P': purpose = optarg; break;
        case 's': surname = optarg; break;
        case 'g': given = optarg; break;
        case 'b': dob = optarg; break;
        case 't': txn = optarg; break;
        case 'T': token = optarg; break;
        case 'U': url = optarg; break;
        case 'r': probe = optarg; break;
        case 'f': format = optarg; break;
        case 'j': json = 1; break;
        case 'h': query_usage(stdout); return 0;
        default: query_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || !partner || !purpose || optind != argc || (!probe == !surname) ||
        (surname && !dob) || (probe && (!format || dob || given)) ||
        strlen(partner) != 3 || strspn(partner, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3) {
        query_usage(stderr);
        return EXIT_USAGE;
    }
    struct client c;
    memset(&c, 0, sizeof c);
    if (client_open(&c, config, url, token))
        return EXIT_FATAL;
    char txn_buf[40];
    if (!txn) {
        snprintf(txn_buf, sizeof txn_buf, "%s-%lld-%d", c.cfg.country, (long long)time(NULL),
                 (int)getpid());
        txn = txn_buf;
    }
    json_t *req = NULL;
    if (probe) {
        uint8_t *data = NULL;
        size_t len = 0;
        pm_error_t fe;
        if (pm_file_read(probe, 8u << 20, &data, &len, &fe)) {
            fprintf(stderr, "perimeter: %s\n", pm_error_text(&fe));
            pm_node_config_free(&c.cfg);
            return EXIT_FATAL;
        }
        size_t b64cap = len / 3 * 4 + 8;
        char *b64 = malloc(b64cap);
        if (b64)
            base64_encode(data, len, b64, b64cap);
        free(data);
        req = b64 ? json_pack("{s:s, s:s, s:s, s:s}", "transaction_id", txn, "purpose", purpose,
                              "format", format, "data", b64)
                  : NULL;
        free(b64);
    } else {
        req = json_pack("{s:s, s:s, s:s, s:s}", "transaction_id", txn, "purpose", purpose,
                        "surname", surname, "date_of_birth", dob);
        if (req && given)
            json_object_set_new(req, "given_names", json_string(given));
    }
    char *body = req ? json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(req);
    char path[96];
    snprintf(path, sizeof path, "/v1/partners/%s/query/%s", partner,
             probe ? "biometric" : "biographic");
    pm_error_t e;
    pm_error_clear(&e);
    long status = 0;
    pm_buf_t ans;
    int rc = pm_node_call(&c.rq, "POST", path, body, body ? strlen(body) : 0, "application/json",
                          &status, &ans, &e);
    free(body);
    pm_node_config_free(&c.cfg);
    return client_answer(rc, &e, status, &ans, json);
}

static void status_usage(FILE *out)
{
    fprintf(out, "usage: perimeter partner feed-status --config FILE [--token T] [--url URL] "
                 "[--json]\n"
                 "Shows, per partner, how far our entries were acknowledged and how far its feed\n"
                 "was stored, from the running node (officer route).\n");
}

int pm_cmd_partner_feed_status(int argc, char **argv);
int pm_cmd_partner_feed_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"token", required_argument, NULL, 'T'},
        {"url", required_argument, NULL, 'U'},    {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *token = NULL, *url = NULL;
    int json = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'T': token = optarg; break;
        case 'U': url = optarg; break;
        case 'j': json = 1; break;
        case 'h': status_usage(stdout); return 0;
        default: status_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || optind != argc) {
        status_usage(stderr);
        return EXIT_USAGE;
    }
    struct client c;
    memset(&c, 0, sizeof c);
    if (client_open(&c, config, url, token))
        return EXIT_FATAL;
    pm_error_t e;
    pm_error_clear(&e);
    long status = 0;
    pm_buf_t ans;
    int rc = pm_node_call(&c.rq, "GET", "/v1/feed/status", NULL, 0, NULL, &status, &ans, &e);
    pm_node_config_free(&c.cfg);
    if (rc || status != 200 || json)
        return client_answer(rc, &e, status, &ans, json);
    json_t *o = json_loadb((const char *)ans.data, ans.len, 0, NULL);
    pm_buf_free(&ans);
    if (!o)
        return EXIT_FATAL;
    printf("%-7s %-5s %12s %12s %12s %12s %8s  %s\n", "partner", "mode", "acked", "pending",
           "store max", "received", "failures", "last error");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(o, "partners"), i, p) {
        printf("%-7s %-5s %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT
               " %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT " %8" JSON_INTEGER_FORMAT
               "  %s\n",
               json_string_value(json_object_get(p, "partner")),
               json_is_true(json_object_get(p, "push"))   ? "push"
               : json_is_true(json_object_get(p, "pull")) ? "pull"
                                                          : "-",
               json_integer_value(json_object_get(p, "push_acked")),
               json_integer_value(json_object_get(p, "push_pending")),
               json_integer_value(json_object_get(p, "store_max")),
               json_integer_value(json_object_get(p, "received_cursor")),
               json_integer_value(json_object_get(p, "failures")),
               json_string_value(json_object_get(p, "last_error")));
    }
    json_decref(o);
    return 0;
}

/* ---------------------------------------------------------------- pki */

static void pki_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter pki ca --dn DN --cert FILE --key FILE [--days N]\n"
            "       perimeter pki issue --ca-cert F --ca-key F --dn DN --cert FILE --key FILE "
            "[--days N]\n"
            "       perimeter pki describe CERT\n"
            "Test PKI (GnuTLS): a self-signed CA; a node certificate it signs (server and\n"
            "client use); a certificate's subject and public-key pin (for partners[].pins).\n");
}

static int pki_cmd(int argc, char **argv, int mode)
{
    static const struct option opts[] = {
        {"dn", required_argument, NULL, 'n'},      {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},     {"ca-cert", required_argument, NULL, 'C'},
        {"ca-key", required_argument, NULL, 'K'},  {"days", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *dn = NULL, *cert = NULL, *key = NULL, *ca_cert = NULL, *ca_key = NULL;
    unsigned long days = 365;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': dn = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'C': ca_cert = optarg; break;
        case 'K': ca_key = optarg; break;
        case 'd':
            if (parse_uint(optarg, 36500, &days) || days == 0) {
                pki_usage(stderr);
                return EXIT_USAGE;
            }
            break;
        case 'h': pki_usage(stdout); return 0;
        default: pki_usage(stderr); return EXIT_USAGE;
        }
    }
    pm_error_t e;
    pm_error_clear(&e);
    int rc;
    if (mode == 2) {
        if (optind != argc - 1) {
            pki_usage(stderr);
            return EXIT_USAGE;
        }
        char pin[72], subject[PM_NODE_DN_MAX];
        if ((rc = pm_node_pki_describe(argv[optind], pin, subject, sizeof subject, &e)) == 0)
            printf("subject %s\npin %s\n", subject, pin);
    } else {
        if (!dn || !cert || !key || optind != argc || (mode == 1 && (!ca_cert || !ca_key))) {
            pki_usage(stderr);
            return EXIT_USAGE;
        }
        rc = mode == 0 ? pm_node_pki_make_ca(dn, (unsigned)days, cert, key, &e)
                       : pm_node_pki_issue(ca_cert, ca_key, dn, (unsigned)days, cert, key, &e);
    }
    if (rc) {
        fprintf(stderr, "perimeter: pki: %s\n", pm_error_text(&e));
        return EXIT_FATAL;
    }
    return 0;
}

int pm_cmd_pki_ca(int argc, char **argv);
int pm_cmd_pki_ca(int argc, char **argv)
{
    return pki_cmd(argc, argv, 0);
}
int pm_cmd_pki_issue(int argc, char **argv);
int pm_cmd_pki_issue(int argc, char **argv)
{
    return pki_cmd(argc, argv, 1);
}
int pm_cmd_pki_describe(int argc, char **argv);
int pm_cmd_pki_describe(int argc, char **argv)
{
    return pki_cmd(argc, argv, 2);
}

/* ---------------------------------------------------------------- routes */

int pm_cmd_node_routes(int argc, char **argv);
int pm_cmd_node_routes(int argc, char **argv)
{
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json)) {
        fprintf(stderr, "usage: perimeter node routes [--json]\n");
        return EXIT_USAGE;
    }
    static const char *const auth[] = {"public", "officer", "partner"};
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < pm_node_route_count(); i++) {
        const pm_route_info_t *r = pm_node_route(i);
        if (json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "method", r->method,
                                                 "path", r->path, "auth", auth[r->auth],
                                                 "summary", r->summary));
        else
            printf("%-5s %-40s %-8s %s\n", r->method, r->path, auth[r->auth], r->summary);
    }
    if (json) {
        char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(arr);
    }
    return 0;
}

/* ---------------------------------------------------------------- officer import / stats */

static void oimport_usage(FILE *out)
{
    fprintf(out, "usage: perimeter officer import --config FILE [--format csv|jsonl] [--token T]\n"
                 "                                [--url URL] [--json] FILE\n"
                 "Sends crossing records to the running node (POST /v1/crossings): the import\n"
                 "rules of `crossings import`, done by the node. Exit 0 all stored or already\n"
                 "present, 1 rows rejected or the node refused, 3 unreachable.\n");
}

int pm_cmd_officer_import(int argc, char **argv);
int pm_cmd_officer_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"format", required_argument, NULL, 'f'},
        {"token", required_argument, NULL, 'T'},  {"url", required_argument, NULL, 'U'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *format = NULL, *token = NULL, *url = NULL;
    int json = 0, ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'f': format = optarg; break;
        case 'T': token = optarg; break;
        case 'U': url = optarg; break;
        case 'j': json = 1; break;
        case 'h': oimport_usage(stdout); return 0;
        default: oimport_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || optind != argc - 1) {
        oimport_usage(stderr);
        return EXIT_USAGE;
    }
    const char *file = argv[optind];
    pm_crossing_format_t fmt = format ? (strcmp(format, "csv") == 0     ? PM_CROSSING_FORMAT_CSV
                                         : strcmp(format, "jsonl") == 0 ? PM_CROSSING_FORMAT_JSONL
                                                                        : PM_CROSSING_FORMAT_AUTO)
                                      : pm_crossing_format_for_path(file);
    if (fmt == PM_CROSSING_FORMAT_AUTO) {
        fprintf(stderr, "perimeter: cannot tell the format of '%s'; use --format csv|jsonl\n",
                file);
        return EXIT_USAGE;
    }
    struct client c;
    memset(&c, 0, sizeof c);
    if (client_open(&c, config, url, token))
        return EXIT_FATAL;
    uint8_t *data = NULL;
    size_t len = 0;
    pm_error_t e;
    pm_error_clear(&e);
    if (pm_file_read(file, c.cfg.limits.max_import_bytes, &data, &len, &e)) {
        fprintf(stderr, "perimeter: %s\n", pm_error_text(&e));
        pm_node_config_free(&c.cfg);
        return EXIT_FATAL;
    }
    long status = 0;
    pm_buf_t ans;
    int rc = pm_node_call(&c.rq, "POST", "/v1/crossings", data, len,
                          fmt == PM_CROSSING_FORMAT_CSV ? "text/csv" : "application/x-ndjson",
                          &status, &ans, &e);
    free(data);
    pm_node_config_free(&c.cfg);
    if (rc || status != 200 || json)
        return client_answer(rc, &e, status, &ans, json);
    json_t *o = json_loadb((const char *)ans.data, ans.len, 0, NULL);
    pm_buf_free(&ans);
    if (!o)
        return EXIT_FATAL;
    json_int_t rejected = json_integer_value(json_object_get(o, "rejected"));
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(o, "errors"), i, x)
        fprintf(stderr, "perimeter: rejected: %s\n", json_string_value(json_object_get(x, "message")));
    fprintf(stderr,
            "perimeter: %s: %" JSON_INTEGER_FORMAT " rows, %" JSON_INTEGER_FORMAT
            " stored, %" JSON_INTEGER_FORMAT " already present, %" JSON_INTEGER_FORMAT
            " rejected\n",
            file, json_integer_value(json_object_get(o, "rows")),
            json_integer_value(json_object_get(o, "stored")),
            json_integer_value(json_object_get(o, "duplicates")), rejected);
    json_decref(o);
    return rejected ? EXIT_ANSWER : 0;
}

/* ---- officer history | report | enrol | identify: the officer routes from a terminal */

/* Appends "&name=value" (value percent-encoded) to a query string. */
static void qarg(char *q, size_t cap, const char *name, const char *value)
{
    size_t l = strlen(q);
    if (!value || l + 1 >= cap) return;
    l += (size_t)snprintf(q + l, cap - l, "%s%s=", l ? "&" : "?", name);
    for (const unsigned char *p = (const unsigned char *)value; *p && l + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            q[l++] = (char)*p;
        else
            l += (size_t)snprintf(q + l, cap - l, "%%%02X", *p);
    }
    q[l < cap ? l : cap - 1] = '\0';
}

/* Prints a report answer as the node sent it (the same bytes as `perimeter report`). */
static int print_body(int rc, const pm_error_t *e, long status, pm_buf_t *ans)
{
    if (rc || status != 200) return client_answer(rc, e, status, ans, 0);
    fwrite(ans->data ? (const char *)ans->data : "", 1, ans->len, stdout);
    pm_buf_free(ans);
    return 0;
}

static void oreport_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter officer history --config FILE (--traveller ID | --record CCC:ID |\n"
            "                                 --document NUMBER) [--csv | --json]\n"
            "       perimeter officer report KIND --config FILE [--as-of DATE] [--stay CODE=DAYS ...]\n"
            "                                 [--all] [--traveller ID] [--years N] [--required N]\n"
            "                                 [--csv | --json]\n"
            "A running node's history and reports (KIND: reconcile, overstays, presence;\n"
            "reports need the supervisor role), printed as `perimeter report` prints them.\n"
            "Token from --token or $PERIMETER_TOKEN; --url overrides the node's address.\n");
}

/* officer history / officer report: argv[0] is "history" or "report". */
static int officer_reports(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"token", required_argument, NULL, 'T'},
        {"url", required_argument, NULL, 'U'},    {"csv", no_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'j'},         {"traveller", required_argument, NULL, 't'},
        {"record", required_argument, NULL, 'r'}, {"document", required_argument, NULL, 'd'},
        {"as-of", required_argument, NULL, 'a'},  {"stay", required_argument, NULL, 's'},
        {"all", no_argument, NULL, 'A'},          {"years", required_argument, NULL, 'y'},
        {"required", required_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int history = strcmp(argv[0], "history") == 0;
    const char *config = NULL, *token = NULL, *url = NULL, *fmt = "text";
    char q[1024] = "", stay[512] = "";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'T': token = optarg; break;
        case 'U': url = optarg; break;
        case 'C': fmt = "csv"; break;
        case 'j': fmt = "json"; break;
        case 't': qarg(q, sizeof q, "traveller", optarg); break;
        case 'r': qarg(q, sizeof q, "record", optarg); break;
        case 'd': qarg(q, sizeof q, "document", optarg); break;
        case 'a': qarg(q, sizeof q, "as_of", optarg); break;
        case 'A': qarg(q, sizeof q, "all", "1"); break;
        case 'y': qarg(q, sizeof q, "years", optarg); break;
        case 'q': qarg(q, sizeof q, "required", optarg); break;
        case 's': {
            size_t l = strlen(stay);
            snprintf(stay + l, sizeof stay - l, "%s%s", l ? "," : "", optarg);
            break;
        }
        case 'h': oreport_usage(stdout); return 0;
        default: oreport_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || optind != argc - (history ? 0 : 1)) {
        oreport_usage(stderr);
        return EXIT_USAGE;
    }
    if (stay[0]) qarg(q, sizeof q, "stay", stay);
    qarg(q, sizeof q, "format", fmt);
    char path[1200];
    if (history)
        snprintf(path, sizeof path, "/v1/history%s", q);
    else {
        const char *kind = argv[optind];
        if (strcmp(kind, "reconcile") && strcmp(kind, "overstays") && strcmp(kind, "presence")) {
            fprintf(stderr, "perimeter: report kind is reconcile, overstays or presence\n");
            return EXIT_USAGE;
        }
        snprintf(path, sizeof path, "/v1/reports/%s%s", kind, q);
    }
    struct client c;
    memset(&c, 0, sizeof c);
    if (client_open(&c, config, url, token)) return EXIT_FATAL;
    pm_error_t e;
    pm_error_clear(&e);
    long status = 0;
    pm_buf_t ans;
    int rc = pm_node_call(&c.rq, "GET", path, NULL, 0, NULL, &status, &ans, &e);
    pm_node_config_free(&c.cfg);
    return print_body(rc, &e, status, &ans);
}

int pm_cmd_officer_history(int argc, char **argv);
int pm_cmd_officer_history(int argc, char **argv) { return officer_reports(argc, argv); }
int pm_cmd_officer_report(int argc, char **argv);
int pm_cmd_officer_report(int argc, char **argv) { return officer_reports(argc, argv); }

static void ogallery_usage(FILE *out)
{
    fprintf(out,
            "usage: perimeter officer enrol --config FILE --subject ID [--status CLASS]\n"
            "                               FILE[@POSITION] ...\n"
            "       perimeter officer identify --config FILE [--max N] FILE[@POSITION] ...\n"
            "Enrols finger views into a running node's gallery, or searches it (1:N), through\n"
            "the officer routes. FILE is a PNG or WSQ image (.png, .wsq) or a template\n"
            "(.iso / .ist ISO 19794-2, .ansi ANSI 378); POSITION 1-10 (ISO/ANSI finger).\n"
            "CLASS (enrol): foreign_national (default), citizen, permanent_resident,\n"
            "asylum_claimant. Token from --token or $PERIMETER_TOKEN.\n");
}

static const char *finger_format(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return NULL;
    if (!strcasecmp(dot, ".png")) return "png";
    if (!strcasecmp(dot, ".wsq")) return "wsq";
    if (!strcasecmp(dot, ".iso") || !strcasecmp(dot, ".ist")) return "iso19794-2";
    if (!strcasecmp(dot, ".ansi")) return "ansi378";
    return NULL;
}

/* officer enrol / officer identify: argv[0] is "enrol" or "identify". */
static int officer_gallery(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"token", required_argument, NULL, 'T'},
        {"url", required_argument, NULL, 'U'},    {"subject", required_argument, NULL, 's'},
        {"status", required_argument, NULL, 'S'}, {"max", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int enrol = strcmp(argv[0], "enrol") == 0;
    const char *config = NULL, *token = NULL, *url = NULL, *status_s = "foreign_national";
    long long subject = 0, maxc = 5;
    int json = 0, ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'c': config = optarg; break;
        case 'T': token = optarg; break;
        case 'U': url = optarg; break;
        case 'S': status_s = optarg; break;
        case 'j': json = 1; break;
        case 's':
            subject = strtoll(optarg, &end, 10);
            if (*end || subject <= 0) { ogallery_usage(stderr); return EXIT_USAGE; }
            break;
        case 'm':
            maxc = strtoll(optarg, &end, 10);
            if (*end || maxc < 1 || maxc > 100) { ogallery_usage(stderr); return EXIT_USAGE; }
            break;
        case 'h': ogallery_usage(stdout); return 0;
        default: ogallery_usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || optind >= argc || (enrol && !subject) || argc - optind > 10) {
        ogallery_usage(stderr);
        return EXIT_USAGE;
    }
    json_t *fingers = json_array();
    pm_error_t e;
    pm_error_clear(&e);
    for (int i = optind; i < argc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s", argv[i]);
        long pos = 0;
        char *at = strrchr(path, '@');
        if (at) {
            char *end;
            pos = strtol(at + 1, &end, 10);
            if (*end || pos < 0 || pos > 10) {
                fprintf(stderr, "perimeter: %s: finger position is 0..10\n", argv[i]);
                json_decref(fingers);
                return EXIT_USAGE;
            }
            *at = '\0';
        }
        const char *fmt = finger_format(path);
        if (!fmt) {
            fprintf(stderr, "perimeter: %s: not .png, .wsq, .iso, .ist or .ansi\n", path);
            json_decref(fingers);
            return EXIT_USAGE;
        }
        uint8_t *data = NULL;
        size_t len = 0;
        if (pm_file_read(path, 8u << 20, &data, &len, &e)) {
            fprintf(stderr, "perimeter: %s\n", pm_error_text(&e));
            json_decref(fingers);
            return EXIT_FATAL;
        }
        size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
        char *b64 = malloc(b64len);
        if (!b64) {
            free(data);
            json_decref(fingers);
            return EXIT_FATAL;
        }
        sodium_bin2base64(b64, b64len, data, len, sodium_base64_VARIANT_ORIGINAL);
        free(data);
        json_t *f = json_pack("{s:s, s:s}", "format", fmt, "data", b64);
        free(b64);
        if (pos) json_object_set_new(f, "position", json_integer(pos));
        json_array_append_new(fingers, f);
    }
    json_t *body = enrol ? json_pack("{s:I, s:{s:s}, s:o}", "subject", (json_int_t)subject,
                                     "person", "status", status_s, "fingers", fingers)
                         : json_pack("{s:o, s:I}", "fingers", fingers, "max_candidates",
                                     (json_int_t)maxc);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) return EXIT_FATAL;
    struct client c;
    memset(&c, 0, sizeof c);
    if (client_open(&c, config, url, token)) {
        free(text);
        return EXIT_FATAL;
    }
    long status = 0;
    pm_buf_t ans;
    int rc = pm_node_call(&c.rq, "POST", enrol ? "/v1/gallery/enrol" : "/v1/gallery/identify",
                          text, strlen(text), "application/json", &status, &ans, &e);
    free(text);
    pm_node_config_free(&c.cfg);
    return client_answer(rc, &e, status, &ans, json);
}

int pm_cmd_officer_enrol(int argc, char **argv);
int pm_cmd_officer_enrol(int argc, char **argv) { return officer_gallery(argc, argv); }
int pm_cmd_officer_identify(int argc, char **argv);
int pm_cmd_officer_identify(int argc, char **argv) { return officer_gallery(argc, argv); }
