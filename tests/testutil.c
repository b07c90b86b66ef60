#include "testutil.h"

#include <libpq-fe.h>

#include "perimeter/store.h"
#include "perimeter/travel.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

const char *pm_test_data_dir(const char *sub)
{
    static char path[4096]; /* test-only helper; tests are single-threaded */
    const char *base = getenv("PERIMETER_DATA");
    const char *src = getenv("PERIMETER_SRC");
    char tmp[4096];
    if (!base || !*base) {
        if (!src)
            return NULL;
        snprintf(tmp, sizeof tmp, "%s/../shared/data", src);
        base = tmp;
    }
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", base, sub ? sub : "");
    if (stat(path, &st) != 0)
        return NULL;
    snprintf(path, sizeof path, "%s", base);
    return path;
}

static int skipped_tests; /* test-only; suites are single-threaded */

int pm_test_data_required(void)
{
    const char *r = getenv("PERIMETER_REQUIRE_DATA");
    const char *ci = getenv("CI");
    return (r && strcmp(r, "1") == 0) || (ci && strcmp(ci, "true") == 0);
}

void pm_test_note_skip(void)
{
    skipped_tests++;
}

int pm_test_exit(int failed)
{
    if (failed)
        return 1;
    return skipped_tests ? 77 : 0;
}

static int pg_env_script(char *out, size_t cap)
{
    const char *src = getenv("PERIMETER_SRC");
    if (!src || !*src)
        return -1;
    snprintf(out, cap, "%s/tests/pg_env.sh", src);
    return access(out, R_OK);
}

char *pm_test_pg_start(const char *dir, int *installed)
{
    char script[4096], cmd[9000];
    *installed = 1;
    if (pg_env_script(script, sizeof script)) {
        fprintf(stderr, "pg_env.sh not found (PERIMETER_SRC unset)\n");
        return NULL;
    }
    snprintf(cmd, sizeof cmd, "bash '%s' start '%s' --fast --watch %ld", script, dir,
             (long)getpid());
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    char line[512] = "";
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    int status = pclose(p);
    if (status != 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
            *installed = 0;
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line[0] ? strdup(line) : NULL;
}

static void pg_quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int pm_test_pg_exec(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PQsetNoticeProcessor(c, pg_quiet, NULL);
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

int pm_test_pg_fresh_db(const char *cluster_uri, const char *name, char *out, size_t cap)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    if (pm_test_pg_exec(cluster_uri, sql))
        return -1;
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    if (pm_test_pg_exec(cluster_uri, sql))
        return -1;
    const char *slash = strrchr(cluster_uri, '/');
    if (!slash)
        return -1;
    snprintf(out, cap, "%.*s/%s", (int)(slash - cluster_uri), cluster_uri, name);
    return 0;
}

void pm_test_pg_stop(const char *dir)
{
    char script[4096], cmd[9000];
    if (!dir || pg_env_script(script, sizeof script))
        return;
    snprintf(cmd, sizeof cmd, "bash '%s' stop '%s'", script, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "pg_env.sh stop %s failed\n", dir);
}

static const char *nats_program(void)
{
    const char *e = getenv("PM_NATS_SERVER");
    if (e && *e)
        return access(e, X_OK) == 0 ? e : NULL;
    static const char *const cand[] = {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                                       "/usr/local/bin/nats-server"};
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
        if (access(cand[i], X_OK) == 0)
            return cand[i];
    return NULL;
}

char *pm_test_nats_start(const char *dir, int *installed, int *out_pid)
{
    *out_pid = 0;
    const char *prog = nats_program();
    *installed = prog != NULL;
    if (!prog)
        return NULL;
    char ports[4200], log[4200];
    snprintf(ports, sizeof ports, "%s/nats-ports", dir);
    snprintf(log, sizeof log, "%s/nats.log", dir);
    mkdir(ports, 0700);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return NULL;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        execl(prog, prog, "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", ports, "-l", log,
              (char *)NULL);
        _exit(127);
    }
    char file[4400];
    snprintf(file, sizeof file, "%s/nats-server_%ld.ports", ports, (long)pid);
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        FILE *f = fopen(file, "r");
        if (f) {
            char buf[1024] = "";
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = '\0';
            char *u = strstr(buf, "nats://");
            if (u) {
                size_t len = strcspn(u, "\",] \n");
                char *url = malloc(len + 1);
                if (url) {
                    memcpy(url, u, len);
                    url[len] = '\0';
                    *out_pid = (int)pid;
                    return url;
                }
            }
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "nats-server exited (see %s)\n", log);
            return NULL;
        }
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fprintf(stderr, "nats-server did not write %s\n", file);
    return NULL;
}

void pm_test_nats_stop(int pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

char *pm_test_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    char *p = malloc(4096);
    if (!p)
        return NULL;
    snprintf(p, 4096, "%s/pmtest.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void pm_test_rmdir(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

uint64_t pm_test_rand(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* ---- both store backends (testutil.h) ---- */

const pm_test_backend_t PM_TEST_SQLITE = {"sqlite", 0};
const pm_test_backend_t PM_TEST_PG = {"postgres", 1};
/* One group per process (cmocka runs a suite's groups one after another). */
static char *backends_dir;
static char *backends_pg_uri;
static int backends_pg_installed;

int pm_test_backends_setup(void **state)
{
    (void)state;
    backends_dir = pm_test_tmpdir();
    if (!backends_dir)
        return -1;
    backends_pg_uri = pm_test_pg_start(backends_dir, &backends_pg_installed);
    return 0;
}

int pm_test_backends_teardown(void **state)
{
    (void)state;
    if (backends_pg_uri)
        pm_test_pg_stop(backends_dir);
    free(backends_pg_uri);
    backends_pg_uri = NULL;
    pm_test_rmdir(backends_dir);
    free(backends_dir);
    backends_dir = NULL;
    return 0;
}

const char *pm_test_backends_dir(void)
{
    return backends_dir;
}

void pm_test_backend_fresh_db(const pm_test_backend_t *t, const char *name, char *out, size_t cap)
{
    if (!t->pg) {
        snprintf(out, cap, "%s/%s.db", backends_dir, name);
        unlink(out);
        return;
    }
    PM_REQUIRE_SERVICE(backends_pg_uri, backends_pg_installed, "PostgreSQL");
    assert_int_equal(pm_test_pg_fresh_db(backends_pg_uri, name, out, cap), 0);
}

/* ---- stored crossings (testutil.h) ---- */

int64_t pm_test_put_crossing(pm_store_t *st, const char *id, const char *ts, const char *sur,
                             const char *given, const char *dob, const char *cit, const char *doc)
{
    const char *v[PM_CF_COUNT] = {id,  "CAN", "entry", ts,  "0901", "land", sur, given, "",
                                  dob, cit,   "M",     "P", doc,    cit,    ""};
    pm_crossing_t c;
    pm_crossing_init(&c);
    pm_error_t e;
    for (int i = 0; i < PM_CF_COUNT; i++)
        assert_int_equal(pm_crossing_set_field(&c, (pm_crossing_field_t)i, v[i], strlen(v[i]), &e),
                         PM_OK);
    assert_int_equal(pm_crossing_finish(&c, NULL, &e), PM_OK);
    int ins = 0;
    assert_int_equal(pm_store_put_crossing(st, &c, &ins, &e), PM_OK);
    assert_int_equal(ins, 1);
    /* its store id */
    pm_crossing_filter_t f;
    memset(&f, 0, sizeof f);
    f.order = PM_ORDER_STORE_ID;
    pm_crossing_iter_t *it = NULL;
    assert_int_equal(pm_store_crossings(st, &f, &it, &e), PM_OK);
    int64_t sid = 0;
    while (pm_crossing_iter_next(it, &c, &e) == 1)
        if (strcmp(c.record_id, id) == 0) sid = c.store_id;
    pm_crossing_iter_close(it);
    assert_true(sid > 0);
    return sid;
}

void pm_test_jobs_agreement(const char *version, char *buf, size_t n)
{
    int w = snprintf(
        buf, n,
        "{\"version\":\"%s\",\"parties\":[\"CAN\",\"USA\"],"
        "\"purposes\":[\"REFUGEE_VETTING\",\"ENTRY_EXIT\"],"
        "\"never_disclose\":[\"citizen\",\"permanent_resident\",\"asylum_claimant_persecution_by_"
        "requester\"],"
        "\"allow\":{\"REFUGEE_VETTING\":[\"surname\",\"date_of_birth\",\"match\",\"refused\"],"
        "\"ENTRY_EXIT\":[\"surname\",\"given_names\",\"date_of_birth\",\"document_number\","
        "\"document_issuer\",\"crossing_time\",\"port\",\"direction\"]},"
        "\"biographic_query_purposes\":[\"ENTRY_EXIT\"],\"match_threshold\":40.0,"
        "\"quota\":{\"period_days\":365,\"biometric_query\":3,\"biographic_query\":100},"
        "\"retention_days\":{\"crossing\":5479,\"probe\":0,\"match_result\":1826,"
        "\"received_biographic\":1000},"
        "\"onward_transfer_consent\":[{\"third_party\":\"GBR\",\"purpose\":\"REFUGEE_VETTING\"}],"
        "\"review_before_adverse_action\":true,\"irrelevant_destruction_days\":30,"
        "\"biographic_with_biometric\":false}",
        version);
    assert_true(w > 0 && (size_t)w < n);
}
