/* Commands of the jobs module (docs/jobs.md): thin shells over
 * include/perimeter/jobs.h. Every command opens the store (--db or
 * $PERIMETER_DB), the agreement (--agreement) and the disclosure log (--log),
 * runs one library call and prints its result. Exit codes: 0 ok; 1 refused by
 * a rule or nothing found; 2 usage; 3 fatal (I/O, database). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_env.h"
#include "perimeter/audit.h"
#include "perimeter/jobs.h"
#include "perimeter/policy.h"
#include "perimeter/store.h"
#include "perimeter/travel.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE   2
#define EXIT_FATAL   3

int pm_cmd_jobs_purge(int argc, char **argv);
int pm_cmd_jobs_destroy(int argc, char **argv);
int pm_cmd_received_add(int argc, char **argv);
int pm_cmd_received_list(int argc, char **argv);
int pm_cmd_received_irrelevant(int argc, char **argv);

/* Options every jobs command understands, plus the command's own. */
typedef struct jobs_opts {
    const char *db, *agreement, *log, *ours, *actor;
    int64_t now;
    int json;
    /* command-specific */
    const char *officer, *why, *origin, *cls, *purpose, *txn, *subject, *file, *to, *out;
    const char *partner, *ref, *document, *issuer, *surname, *given, *dob, *html, *status, *action,
        *evidence;
    double score;
    int64_t id, batch;
    int irrelevant_only, has_id;
    int npos;
    char *pos[4];
} jobs_opts_t;

enum {
    O_DB = 1000,
    O_AGREEMENT,
    O_LOG,
    O_OURS,
    O_ACTOR,
    O_NOW,
    O_JSON,
    O_OFFICER,
    O_WHY,
    O_ORIGIN,
    O_CLASS,
    O_PURPOSE,
    O_TXN,
    O_SUBJECT,
    O_FILE,
    O_TO,
    O_OUT,
    O_BATCH,
    O_IRRELEVANT,
    O_PARTNER,
    O_REF,
    O_DOCUMENT,
    O_ISSUER,
    O_SURNAME,
    O_GIVEN,
    O_DOB,
    O_HTML,
    O_STATUS,
    O_ACTION,
    O_EVIDENCE,
    O_SCORE,
    O_ID
};

static int parse_i64(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end) return -1;
    *out = (int64_t)v;
    return 0;
}

static int parse_opts(int argc, char **argv, jobs_opts_t *o)
{
    static const struct option opts[] = {{"db", required_argument, NULL, O_DB},
                                         {"agreement", required_argument, NULL, O_AGREEMENT},
                                         {"log", required_argument, NULL, O_LOG},
                                         {"ours", required_argument, NULL, O_OURS},
                                         {"actor", required_argument, NULL, O_ACTOR},
                                         {"now", required_argument, NULL, O_NOW},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"officer", required_argument, NULL, O_OFFICER},
                                         {"why", required_argument, NULL, O_WHY},
                                         {"origin", required_argument, NULL, O_ORIGIN},
                                         {"class", required_argument, NULL, O_CLASS},
                                         {"purpose", required_argument, NULL, O_PURPOSE},
                                         {"txn", required_argument, NULL, O_TXN},
                                         {"subject", required_argument, NULL, O_SUBJECT},
                                         {"file", required_argument, NULL, O_FILE},
                                         {"to", required_argument, NULL, O_TO},
                                         {"out", required_argument, NULL, O_OUT},
                                         {"batch", required_argument, NULL, O_BATCH},
                                         {"irrelevant", no_argument, NULL, O_IRRELEVANT},
                                         {"partner", required_argument, NULL, O_PARTNER},
                                         {"ref", required_argument, NULL, O_REF},
                                         {"document", required_argument, NULL, O_DOCUMENT},
                                         {"issuer", required_argument, NULL, O_ISSUER},
                                         {"surname", required_argument, NULL, O_SURNAME},
                                         {"given", required_argument, NULL, O_GIVEN},
                                         {"dob", required_argument, NULL, O_DOB},
                                         {"html", required_argument, NULL, O_HTML},
                                         {"status", required_argument, NULL, O_STATUS},
                                         {"action", required_argument, NULL, O_ACTION},
                                         {"evidence", required_argument, NULL, O_EVIDENCE},
                                         {"score", required_argument, NULL, O_SCORE},
                                         {"id", required_argument, NULL, O_ID},
                                         {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->now = (int64_t)time(NULL);
    o->actor = "cli";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DB:
            o->db = optarg;
            break;
        case O_AGREEMENT:
            o->agreement = optarg;
            break;
        case O_LOG:
            o->log = optarg;
            break;
        case O_OURS:
            o->ours = optarg;
            break;
        case O_ACTOR:
            o->actor = optarg;
            break;
        case O_NOW:
            if (parse_i64(optarg, &o->now)) return -1;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case O_OFFICER:
            o->officer = optarg;
            break;
        case O_WHY:
            o->why = optarg;
            break;
        case O_ORIGIN:
            o->origin = optarg;
            break;
        case O_CLASS:
            o->cls = optarg;
            break;
        case O_PURPOSE:
            o->purpose = optarg;
            break;
        case O_TXN:
            o->txn = optarg;
            break;
        case O_SUBJECT:
            o->subject = optarg;
            break;
        case O_FILE:
            o->file = optarg;
            break;
        case O_TO:
            o->to = optarg;
            break;
        case O_OUT:
            o->out = optarg;
            break;
        case O_BATCH:
            if (parse_i64(optarg, &o->batch) || o->batch < 0) return -1;
            break;
        case O_IRRELEVANT:
            o->irrelevant_only = 1;
            break;
        case O_PARTNER:
            o->partner = optarg;
            break;
        case O_REF:
            o->ref = optarg;
            break;
        case O_DOCUMENT:
            o->document = optarg;
            break;
        case O_ISSUER:
            o->issuer = optarg;
            break;
        case O_SURNAME:
            o->surname = optarg;
            break;
        case O_GIVEN:
            o->given = optarg;
            break;
        case O_DOB:
            o->dob = optarg;
            break;
        case O_HTML:
            o->html = optarg;
            break;
        case O_STATUS:
            o->status = optarg;
            break;
        case O_ACTION:
            o->action = optarg;
            break;
        case O_EVIDENCE:
            o->evidence = optarg;
            break;
        case O_SCORE: {
            char *end = NULL;
            o->score = strtod(optarg, &end);
            if (*end || end == optarg) return -1;
            break;
        }
        case O_ID:
            if (parse_i64(optarg, &o->id)) return -1;
            o->has_id = 1;
            break;
        default:
            return -1;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (o->npos == 4) return -1;
        o->pos[o->npos++] = argv[i];
    }
    return 0;
}

/* The open handles of one command. */
typedef struct jobs_env {
    pm_agreement_t agr;
    pm_store_t *st;
    pm_audit_log_t *log;
    pm_jobs_ctx_t ctx;
} jobs_env_t;

static void env_close(jobs_env_t *e)
{
    pm_error_t err = {0};
    if (e->log && pm_audit_close(e->log, &err))
        fprintf(stderr, "perimeter: disclosure log: %s\n", pm_error_text(&err));
    pm_store_close(e->st);
    e->log = NULL;
    e->st = NULL;
}

/* need_log: the command writes the log (agreement, log and --ours required). */
static int env_open(const char *cmd, const jobs_opts_t *o, int need_log, jobs_env_t *e)
{
    memset(e, 0, sizeof *e);
    pm_error_t err = {0};
    if (need_log && (!o->agreement || !o->log || !o->ours)) {
        fprintf(stderr, "perimeter %s: --agreement FILE, --log LOG and --ours CODE are required\n",
                cmd);
        return EXIT_USAGE;
    }
    if (o->agreement && pm_agreement_load(o->agreement, &e->agr, &err)) {
        fprintf(stderr, "perimeter %s: agreement refused: %s\n", cmd, pm_error_text(&err));
        return EXIT_FATAL;
    }
    const char *path = pm__cli_db_path(o->db);
    if (pm_store_open(path, NULL, &e->st, &err)) {
        fprintf(stderr, "perimeter %s: database %s: %s\n", cmd, path, pm_error_text(&err));
        return EXIT_FATAL;
    }
    if (pm__cli_seal_store(e->st)) { /* $PERIMETER_DATA_KEY: partner data sealed */
        env_close(e);
        return EXIT_FATAL;
    }
    if (o->log && need_log && pm_audit_open(o->log, 1, &e->log, &err)) {
        fprintf(stderr, "perimeter %s: disclosure log: %s\n", cmd, pm_error_text(&err));
        env_close(e);
        return EXIT_FATAL;
    }
    e->ctx = (pm_jobs_ctx_t){e->st, e->log, &e->agr, o->ours, o->actor};
    return 0;
}

/* Exit code for a library failure: refusals by a rule are 1, the rest 3. */
static int fail_rc(const char *cmd, int rc, const pm_error_t *err)
{
    fprintf(stderr, "perimeter %s: %s\n", cmd, pm_error_text(err));
    if (rc == PM_EINVAL || rc == PM_ELIMIT) return EXIT_USAGE;
    return rc == PM_EDENIED || rc == PM_ESTATE || rc == PM_ENOTFOUND ? EXIT_REFUSED : EXIT_FATAL;
}

#define COMMON_USAGE "[--db PATH] --agreement FILE --log LOG --ours CODE [--actor WHO] [--now UNIX]"

int pm_cmd_jobs_purge(int argc, char **argv)
{
    jobs_opts_t o;
    if (parse_opts(argc, argv, &o) || o.npos) {
        fprintf(stderr, "usage: perimeter jobs purge " COMMON_USAGE " [--batch N]\n"
                        "Deletes every record past its class's retention (R9) and leaves a\n"
                        "tombstone per batch in the disclosure log.\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("jobs purge", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_purge_result_t r;
    rc = pm_jobs_purge(&e.ctx, o.now, (size_t)o.batch, &r, &err);
    env_close(&e);
    if (rc) return fail_rc("jobs purge", rc, &err);
    printf("purged: crossing %llu, match_result %llu, received_biographic %llu; tombstones %llu "
           "(%llu from an interrupted run)\n",
           (unsigned long long)r.purged[PM_RC_CROSSING],
           (unsigned long long)r.purged[PM_RC_MATCH_RESULT],
           (unsigned long long)r.purged[PM_RC_RECEIVED_BIOGRAPHIC],
           (unsigned long long)r.tombstones, (unsigned long long)r.recovered);
    return 0;
}

int pm_cmd_jobs_destroy(int argc, char **argv)
{
    jobs_opts_t o;
    if (parse_opts(argc, argv, &o) || o.npos) {
        fprintf(stderr, "usage: perimeter jobs destroy " COMMON_USAGE "\n"
                        "Destroys received data found irrelevant (R7), with a tombstone.\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("jobs destroy", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_destroy_result_t r;
    rc = pm_jobs_destroy_irrelevant(&e.ctx, o.now, &r, &err);
    env_close(&e);
    if (rc) return fail_rc("jobs destroy", rc, &err);
    printf("destroyed: %llu (past the deadline: %llu); tombstones %llu\n",
           (unsigned long long)r.destroyed, (unsigned long long)r.overdue,
           (unsigned long long)r.tombstones);
    return r.overdue ? EXIT_REFUSED : 0;
}

int pm_cmd_received_add(int argc, char **argv)
{
    jobs_opts_t o;
    if (parse_opts(argc, argv, &o) || o.npos || !o.origin || !o.cls || !o.purpose || !o.txn ||
        !o.subject || !o.file) {
        fprintf(stderr,
                "usage: perimeter received add " COMMON_USAGE "\n"
                "         --origin CODE --class match_result|received_biographic --purpose P\n"
                "         --txn T --subject REF --file PAYLOAD\n"
                "Stores data received from the partner, tagged with its origin.\n");
        return EXIT_USAGE;
    }
    pm_record_class_t cls = strcmp(o.cls, "match_result") == 0          ? PM_RC_MATCH_RESULT
                            : strcmp(o.cls, "received_biographic") == 0 ? PM_RC_RECEIVED_BIOGRAPHIC
                                                                        : PM_RC_COUNT;
    pm_error_t err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    if (pm_file_read(o.file, PM_JOBS_PAYLOAD_MAX, &data, &len, &err)) {
        fprintf(stderr, "perimeter received add: %s\n", pm_error_text(&err));
        return EXIT_FATAL;
    }
    jobs_env_t e;
    int rc = env_open("received add", &o, 1, &e);
    if (rc) {
        free(data);
        return rc;
    }
    int64_t id = 0;
    rc = pm_received_store(&e.ctx, o.origin, cls, o.purpose, o.txn, o.subject, data, len, o.now,
                           &id, &err);
    free(data);
    env_close(&e);
    if (rc) return fail_rc("received add", rc, &err);
    printf("%lld\n", (long long)id);
    return 0;
}

int pm_cmd_received_list(int argc, char **argv)
{
    jobs_opts_t o;
    if (parse_opts(argc, argv, &o) || o.npos) {
        fprintf(stderr, "usage: perimeter received list [--db PATH] [--irrelevant] [--json]\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("received list", &o, 0, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_received_t *v = NULL;
    size_t n = 0;
    rc = pm_received_list(e.st, o.irrelevant_only, &v, &n, &err);
    env_close(&e);
    if (rc) return fail_rc("received list", rc, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (o.json) {
            json_t *j = json_object();
            json_object_set_new(j, "id", json_integer(v[i].id));
            json_object_set_new(j, "origin", json_string(v[i].origin));
            json_object_set_new(j, "class", json_string(pm_record_class_name(v[i].cls)));
            json_object_set_new(j, "purpose", json_string(v[i].purpose));
            json_object_set_new(j, "txn", json_string(v[i].txn));
            json_object_set_new(j, "subject", json_string(v[i].subject_ref));
            json_object_set_new(j, "received_at", json_integer(v[i].received_at));
            json_object_set_new(j, "irrelevant_since", json_integer(v[i].irrelevant_since));
            json_object_set_new(j, "irrelevant_by", json_string(v[i].irrelevant_by));
            json_object_set_new(j, "irrelevant_why", json_string(v[i].irrelevant_why));
            json_object_set_new(j, "sha256", json_string(v[i].sha256));
            json_array_append_new(arr, j);
        } else {
            printf("#%lld  from %s  %s  %s  txn %s  subject %s%s%s\n", (long long)v[i].id,
                   v[i].origin, pm_record_class_name(v[i].cls), v[i].purpose, v[i].txn,
                   v[i].subject_ref, v[i].irrelevant_since ? "  IRRELEVANT, by " : "",
                   v[i].irrelevant_since ? v[i].irrelevant_by : "");
        }
    }
    if (o.json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
    } else if (!n) {
        printf("no received records\n");
    }
    json_decref(arr);
    free(v);
    return 0;
}

int pm_cmd_received_irrelevant(int argc, char **argv)
{
    jobs_opts_t o;
    int64_t id = 0;
    if (parse_opts(argc, argv, &o) || o.npos != 1 || parse_i64(o.pos[0], &id) || !o.officer ||
        !o.why) {
        fprintf(stderr, "usage: perimeter received irrelevant ID " COMMON_USAGE
                        " --officer NAME --why TEXT\n"
                        "Records that received data was found irrelevant (R7): `jobs destroy`\n"
                        "then destroys it, within the agreement's deadline.\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("received irrelevant", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    rc = pm_received_mark_irrelevant(&e.ctx, id, o.officer, o.why, o.now, &err);
    env_close(&e);
    if (rc) return fail_rc("received irrelevant", rc, &err);
    printf("received record %lld found irrelevant by %s: destroy by %lld\n", (long long)id,
           o.officer, (long long)(o.now + e.agr.irrelevant_destruction_s));
    return 0;
}

/* ---- R11 ---- */

int pm_cmd_transfer(int argc, char **argv);
int pm_cmd_review_add(int argc, char **argv);
int pm_cmd_review_list(int argc, char **argv);
int pm_cmd_review_show(int argc, char **argv);
int pm_cmd_review_confirm(int argc, char **argv);
int pm_cmd_review_reject(int argc, char **argv);
int pm_cmd_review_act(int argc, char **argv);

int pm_cmd_transfer(int argc, char **argv)
{
    jobs_opts_t o;
    int bad = parse_opts(argc, argv, &o);
    int64_t id = 0;
    int crossing = 0;
    if (!bad && o.npos == 2 &&
        (strcmp(o.pos[0], "received") == 0 || (crossing = strcmp(o.pos[0], "crossing") == 0)))
        bad = parse_i64(o.pos[1], &id);
    else
        bad = 1;
    if (bad || !o.to || !o.purpose) {
        fprintf(stderr,
                "usage: perimeter transfer received|crossing ID " COMMON_USAGE "\n"
                "         --to THIRD_PARTY --purpose P [--out FILE]\n"
                "Hands a record to a third party: data received from the partner only with\n"
                "the consent recorded in the agreement (R11). Logged either way.\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("transfer", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_buf_t out;
    pm_buf_init(&out, 0);
    pm_decision_t d;
    rc = crossing ? pm_transfer_crossing(&e.ctx, id, o.to, o.purpose, o.now, &out, &d, &err)
                  : pm_transfer_received(&e.ctx, id, o.to, o.purpose, o.now, &out, &d, &err);
    env_close(&e);
    if (rc) {
        pm_buf_free(&out);
        return fail_rc("transfer", rc, &err);
    }
    FILE *f = o.out ? fopen(o.out, "wb") : stdout;
    if (!f || fwrite(out.data, 1, out.len, f) != out.len || (o.out && fclose(f) != 0)) {
        fprintf(stderr, "perimeter transfer: cannot write %s\n", o.out ? o.out : "stdout");
        pm_buf_free(&out);
        return EXIT_FATAL;
    }
    if (o.out) fprintf(stderr, "transferred %zu bytes to %s for %s\n", out.len, o.to, o.purpose);
    pm_buf_free(&out);
    return 0;
}

/* ---- R14 ---- */

static void review_print(const pm_review_item_t *r, int64_t now, int long_form)
{
    printf("#%lld  %s  age %lldh  %s  %s  subject %s  score %.1f  proposed: %s\n", (long long)r->id,
           pm_review_status_name(r->status), (long long)((now - r->created_at) / 3600),
           r->partner[0] ? r->partner : "local", r->purpose, r->subject_ref, r->score, r->action);
    if (!long_form) return;
    printf("  txn        %s\n  evidence   %s\n  queued at  %lld\n", r->txn, r->evidence,
           (long long)r->created_at);
    if (r->received_id) printf("  answer     received record %lld\n", (long long)r->received_id);
    if (r->status != PM_REVIEW_PENDING)
        printf("  decided    %s by %s at %lld: %s\n", pm_review_status_name(r->status), r->officer,
               (long long)r->decided_at, r->why);
}

static json_t *review_json(const pm_review_item_t *r, int64_t now)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(r->id));
    json_object_set_new(j, "status", json_string(pm_review_status_name(r->status)));
    json_object_set_new(j, "txn", json_string(r->txn));
    json_object_set_new(j, "partner", json_string(r->partner));
    json_object_set_new(j, "purpose", json_string(r->purpose));
    json_object_set_new(j, "subject", json_string(r->subject_ref));
    json_object_set_new(j, "score", json_real(r->score));
    json_object_set_new(j, "action", json_string(r->action));
    json_object_set_new(j, "evidence", json_string(r->evidence));
    json_object_set_new(j, "received_id", json_integer(r->received_id));
    json_object_set_new(j, "created_at", json_integer(r->created_at));
    json_object_set_new(j, "age_seconds", json_integer(now - r->created_at));
    json_object_set_new(j, "officer", json_string(r->officer));
    json_object_set_new(j, "decided_at", json_integer(r->decided_at));
    json_object_set_new(j, "why", json_string(r->why));
    return j;
}

int pm_cmd_review_add(int argc, char **argv)
{
    jobs_opts_t o;
    if (parse_opts(argc, argv, &o) || o.npos || !o.txn || !o.purpose || !o.subject || !o.action) {
        fprintf(stderr,
                "usage: perimeter review add " COMMON_USAGE "\n"
                "         --txn T --purpose P --subject REF --action TEXT [--partner CODE]\n"
                "         [--score S] [--evidence TEXT] [--id RECEIVED_ID]\n"
                "Queues an adverse match for human review (R14).\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("review add", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_review_request_t rq = {
        o.txn, o.partner, o.purpose, o.subject, o.score, o.action, o.evidence ? o.evidence : "",
        o.id};
    int64_t id = 0;
    rc = pm_review_enqueue(&e.ctx, &rq, o.now, &id, &err);
    env_close(&e);
    if (rc) return fail_rc("review add", rc, &err);
    printf("%lld\n", (long long)id);
    return 0;
}

int pm_cmd_review_list(int argc, char **argv)
{
    jobs_opts_t o;
    int status = PM_REVIEW_PENDING;
    if (parse_opts(argc, argv, &o) || o.npos) goto usage;
    if (o.status) {
        if (strcmp(o.status, "all") == 0)
            status = -1;
        else if (strcmp(o.status, "pending") == 0)
            status = PM_REVIEW_PENDING;
        else if (strcmp(o.status, "confirmed") == 0)
            status = PM_REVIEW_CONFIRMED;
        else if (strcmp(o.status, "rejected") == 0)
            status = PM_REVIEW_REJECTED;
        else
            goto usage;
    }
    jobs_env_t e;
    int rc = env_open("review list", &o, 0, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_review_item_t *v = NULL;
    size_t n = 0;
    rc = pm_review_list(e.st, status, &v, &n, &err);
    env_close(&e);
    if (rc) return fail_rc("review list", rc, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (o.json)
            json_array_append_new(arr, review_json(&v[i], o.now));
        else
            review_print(&v[i], o.now, 0);
    }
    if (o.json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
    } else if (!n) {
        printf("no %s adverse matches\n", o.status ? o.status : "pending");
    }
    json_decref(arr);
    free(v);
    return 0;
usage:
    fprintf(stderr, "usage: perimeter review list [--db PATH] [--status "
                    "pending|confirmed|rejected|all] [--json] [--now UNIX]\n"
                    "The human review queue of adverse matches (R14), oldest first, with age.\n"
                    "(`perimeter review` without a subcommand is the link module's queue.)\n");
    return EXIT_USAGE;
}

static int one_id(int argc, char **argv, jobs_opts_t *o, int64_t *id)
{
    return parse_opts(argc, argv, o) || o->npos != 1 || parse_i64(o->pos[0], id);
}

int pm_cmd_review_show(int argc, char **argv)
{
    jobs_opts_t o;
    int64_t id;
    if (one_id(argc, argv, &o, &id)) {
        fprintf(stderr, "usage: perimeter review show ID [--db PATH] [--json]\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("review show", &o, 0, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_review_item_t it;
    rc = pm_review_get(e.st, id, &it, &err);
    env_close(&e);
    if (rc) return fail_rc("review show", rc, &err);
    if (o.json) {
        json_t *j = review_json(&it, o.now);
        char *s = json_dumps(j, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
        json_decref(j);
    } else {
        review_print(&it, o.now, 1);
    }
    return 0;
}

static int decide(int argc, char **argv, int confirm)
{
    const char *cmd = confirm ? "review confirm" : "review reject";
    jobs_opts_t o;
    int64_t id;
    if (one_id(argc, argv, &o, &id) || !o.officer || !o.why) {
        fprintf(stderr, "usage: perimeter %s ID " COMMON_USAGE " --officer NAME --why TEXT\n", cmd);
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open(cmd, &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    rc = pm_review_decide(&e.ctx, id, confirm, o.officer, o.why, o.now, &err);
    env_close(&e);
    if (rc) return fail_rc(cmd, rc, &err);
    printf("review item %lld %s by %s\n", (long long)id, confirm ? "confirmed" : "rejected",
           o.officer);
    return 0;
}

int pm_cmd_review_confirm(int argc, char **argv)
{
    return decide(argc, argv, 1);
}

int pm_cmd_review_reject(int argc, char **argv)
{
    return decide(argc, argv, 0);
}

int pm_cmd_review_act(int argc, char **argv)
{
    jobs_opts_t o;
    int64_t id;
    if (one_id(argc, argv, &o, &id)) {
        fprintf(stderr, "usage: perimeter review act ID " COMMON_USAGE "\n"
                        "May adverse action follow this match? Exit 0 yes, 1 refused (R14).\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("review act", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_decision_t d;
    rc = pm_review_adverse_action(&e.ctx, id, o.now, &d, &err);
    env_close(&e);
    if (rc) return fail_rc("review act", rc, &err);
    printf("adverse action may follow review item %lld (match confirmed)\n", (long long)id);
    return 0;
}

/* ---- R8 ---- */

int pm_cmd_correction_crossing(int argc, char **argv);
int pm_cmd_correction_list(int argc, char **argv);
int pm_cmd_correction_sent(int argc, char **argv);
int pm_cmd_correction_ack(int argc, char **argv);
int pm_cmd_correction_status(int argc, char **argv);

int pm_cmd_correction_crossing(int argc, char **argv)
{
    jobs_opts_t o;
    if (parse_opts(argc, argv, &o) || o.npos != 1 || !o.why) {
        fprintf(stderr, "usage: perimeter correction crossing FILE " COMMON_USAGE " --why TEXT\n"
                        "Corrects our stored crossings with the records in FILE (CSV or JSON\n"
                        "Lines, same reporting_country + record_id) and queues a correction for\n"
                        "every partner that received each (R8).\n");
        return EXIT_USAGE;
    }
    pm_error_t err = {0};
    pm_crossing_format_t fmt = pm_crossing_format_for_path(o.pos[0]);
    uint8_t *data = NULL;
    size_t len = 0;
    if (pm_file_read(o.pos[0], 64u << 20, &data, &len, &err)) {
        fprintf(stderr, "perimeter correction crossing: %s\n", pm_error_text(&err));
        return EXIT_FATAL;
    }
    pm_crossing_reader_t *r = NULL;
    if (pm_crossing_reader_open_mem((const char *)data, len, fmt ? fmt : PM_CROSSING_FORMAT_JSONL,
                                    &r, &err)) {
        free(data);
        fprintf(stderr, "perimeter correction crossing: %s\n", pm_error_text(&err));
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("correction crossing", &o, 1, &e);
    if (rc) {
        pm_crossing_reader_free(r);
        free(data);
        return rc;
    }
    pm_crossing_t *c = malloc(sizeof *c);
    int exit_code = c ? 0 : EXIT_FATAL;
    size_t total = 0;
    while (c) {
        int got = pm_crossing_reader_next(r, c, NULL, &err);
        if (got == 0) break;
        if (got < 0) {
            fprintf(stderr, "perimeter correction crossing: %s\n", pm_error_text(&err));
            exit_code = EXIT_REFUSED;
            if (got != PM_EVALIDATION) break;
            continue;
        }
        size_t queued = 0;
        rc = pm_correction_crossing(&e.ctx, c, o.why, o.now, &queued, &err);
        if (rc) {
            int x = fail_rc("correction crossing", rc, &err);
            if (x > exit_code) exit_code = x;
            continue;
        }
        total += queued;
        printf("%s:%s corrected; queued for %zu partner(s)\n", c->reporting_country, c->record_id,
               queued);
    }
    free(c);
    env_close(&e);
    pm_crossing_reader_free(r);
    free(data);
    printf("corrections queued: %zu\n", total);
    return exit_code;
}

int pm_cmd_correction_list(int argc, char **argv)
{
    jobs_opts_t o;
    if (parse_opts(argc, argv, &o) || o.npos) {
        fprintf(stderr, "usage: perimeter correction list [--db PATH] [--partner CODE] [--json] "
                        "[--now UNIX]\n"
                        "Unacknowledged corrections, oldest first, with their age (R8).\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("correction list", &o, 0, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_correction_t *v = NULL;
    size_t n = 0;
    rc = pm_corrections_pending(e.st, o.partner, &v, &n, &err);
    env_close(&e);
    if (rc) return fail_rc("correction list", rc, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        int64_t age = o.now - v[i].created_at;
        if (o.json) {
            json_t *j = json_object();
            json_object_set_new(j, "id", json_integer(v[i].id));
            json_object_set_new(j, "record", json_string(v[i].record));
            json_object_set_new(j, "partner", json_string(v[i].partner));
            json_object_set_new(j, "txn", json_string(v[i].txn));
            json_object_set_new(j, "reason", json_string(v[i].reason));
            json_object_set_new(j, "created_at", json_integer(v[i].created_at));
            json_object_set_new(j, "age_seconds", json_integer(age));
            json_object_set_new(j, "attempts", json_integer(v[i].attempts));
            json_object_set_new(j, "last_sent_at", json_integer(v[i].last_sent_at));
            json_array_append_new(arr, j);
        } else {
            printf("#%lld  %s  to %s  age %lldh  sent %u time(s)  %s\n", (long long)v[i].id,
                   v[i].record, v[i].partner, (long long)(age / 3600), v[i].attempts, v[i].reason);
        }
    }
    if (o.json) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s) puts(s);
        free(s);
    } else if (!n) {
        printf("no unacknowledged corrections\n");
    }
    json_decref(arr);
    free(v);
    return 0;
}

int pm_cmd_correction_sent(int argc, char **argv)
{
    jobs_opts_t o;
    int64_t id;
    if (one_id(argc, argv, &o, &id)) {
        fprintf(stderr, "usage: perimeter correction sent ID " COMMON_USAGE "\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("correction sent", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    rc = pm_correction_sent(&e.ctx, id, o.now, &err);
    env_close(&e);
    if (rc) return fail_rc("correction sent", rc, &err);
    printf("correction %lld marked sent\n", (long long)id);
    return 0;
}

int pm_cmd_correction_ack(int argc, char **argv)
{
    jobs_opts_t o;
    int64_t id;
    if (one_id(argc, argv, &o, &id) || !o.partner) {
        fprintf(stderr,
                "usage: perimeter correction ack ID " COMMON_USAGE " --partner CODE [--ref R]\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("correction ack", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    rc = pm_correction_acknowledged(&e.ctx, id, o.partner, o.ref ? o.ref : "", o.now, &err);
    env_close(&e);
    if (rc) return fail_rc("correction ack", rc, &err);
    printf("correction %lld acknowledged by %s\n", (long long)id, o.partner);
    return 0;
}

int pm_cmd_correction_status(int argc, char **argv)
{
    jobs_opts_t o;
    if (parse_opts(argc, argv, &o) || o.npos != 1) {
        fprintf(stderr, "usage: perimeter correction status RECORD [--db PATH]\n"
                        "RECORD is CODE:record_id. Exit 0 complete, 1 not yet (R8).\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("correction status", &o, 0, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_decision_t d;
    rc = pm_correction_status(e.st, o.pos[0], &d, &err);
    env_close(&e);
    if (rc) return fail_rc("correction status", rc, &err);
    if (d.allow) {
        printf("%s: correction complete (every recipient acknowledged)\n", o.pos[0]);
        return 0;
    }
    printf("%s: R%d: %s\n", o.pos[0], d.rule, d.reason);
    return EXIT_REFUSED;
}

/* ---- R12 ---- */

int pm_cmd_subject_access(int argc, char **argv);

int pm_cmd_subject_access(int argc, char **argv)
{
    jobs_opts_t o;
    int bad = parse_opts(argc, argv, &o) || o.npos || !o.officer;
    int by_doc = o.document && o.issuer, by_name = o.surname && o.dob;
    if (bad || by_doc == by_name) {
        fprintf(stderr,
                "usage: perimeter subject-access " COMMON_USAGE " --officer NAME\n"
                "         (--document NUMBER --issuer CODE | --surname S [--given G] --dob "
                "YYYY-MM-DD)\n"
                "         [--subject REF] [--out FILE.json] [--html FILE.html]\n"
                "A person's own crossings and every logged disclosure about them (R12), as\n"
                "JSON (stdout or --out) and a readable page (--html). --officer: who handles\n"
                "the request (logged).\n");
        return EXIT_USAGE;
    }
    jobs_env_t e;
    int rc = env_open("subject-access", &o, 1, &e);
    if (rc) return rc;
    pm_error_t err = {0};
    pm_subject_query_t q = {o.document, o.issuer, o.surname, o.given, o.dob, o.subject};
    pm_buf_t json, html;
    pm_buf_init(&json, 0);
    pm_buf_init(&html, 0);
    rc = pm_subject_access(&e.ctx, &q, o.officer, o.now, &json, &err);
    env_close(&e);
    if (!rc && o.html) rc = pm_subject_access_html((const char *)json.data, json.len, &html, &err);
    if (rc) {
        pm_buf_free(&json);
        pm_buf_free(&html);
        return fail_rc("subject-access", rc, &err);
    }
    int exit_code = 0;
    const char *paths[2] = {o.out, o.html};
    pm_buf_t *bufs[2] = {&json, &html};
    for (int k = 0; k < 2; k++) {
        if (k == 1 && !o.html) break;
        FILE *f = paths[k] ? fopen(paths[k], "wb") : stdout;
        if (!f || fwrite(bufs[k]->data, 1, bufs[k]->len, f) != bufs[k]->len ||
            (paths[k] && fclose(f) != 0)) {
            fprintf(stderr, "perimeter subject-access: cannot write %s\n",
                    paths[k] ? paths[k] : "stdout");
            exit_code = EXIT_FATAL;
        }
    }
    pm_buf_free(&json);
    pm_buf_free(&html);
    return exit_code;
}
