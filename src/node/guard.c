/* Slow-loris guard (limits.header_timeout_s): libmicrohttpd's connection
 * timeout is an idle timeout, so a client sending one header byte a second
 * holds its connection for ever. Every connection is registered when it is
 * accepted (MHD_OPTION_NOTIFY_CONNECTION) with a deadline by which its
 * request line and headers must be complete; the deadline is cleared when the
 * request reaches on_request and set again when a request ends (the next one
 * on a kept-alive connection has the same time). A sweeper thread shuts
 * down (shutdown(2), never close: the descriptor stays MHD's) the socket of
 * every connection past its deadline; libmicrohttpd then sees the end of the
 * stream and closes the connection itself. The registry is under one mutex
 * that the CLOSED notification also takes before MHD closes the descriptor,
 * so a descriptor is never shut down after it was reused.
 * Slow body (limits.request_timeout_s): when the headers are complete the
 * deadline becomes the body's, cleared when the whole body has arrived, so
 * a client that dribbles its body is cut the same way. The handler's own
 * time (a worker) is not bounded here.
 * Connection limits (limits.connections, limits.connections_per_ip): the
 * same registry counts the open connections, in all and per client address.
 * libmicrohttpd's own limits (which refuse at accept, so the client sees a
 * failed TLS handshake) are set above ours (pm__guard_hard_limit); a
 * connection accepted past ours is marked, and its first request is answered
 * 503 too_many_connections with Retry-After and the connection closed
 * (server.c), counted in perimeter_connections_refused_total. */
#include <microhttpd.h>
#include <stdlib.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "node/node_impl.h"

typedef struct entry {
    struct entry *prev, *next;
    int fd;
    uint64_t deadline_ns; /* 0: inside a request (or already cut) */
    int over;             /* accepted past limits.connections or connections_per_ip */
    int fam;              /* client address family (0: unknown) */
    unsigned char ip[16]; /* client address */
} entry_t;

struct pm__guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int started, stop;
    uint64_t limit_ns; /* headers: from the connection or the previous answer */
    uint64_t body_ns;  /* body: from the end of the headers (limits.request_timeout_s) */
    entry_t head; /* circular list */
    atomic_ullong cut;
    unsigned max_conns, max_per_ip; /* 0: no limit of ours */
    unsigned n;                     /* open connections (under mu) */
    atomic_ullong refused;
};

static void *sweep(void *v)
{
    pm__guard_t *g = v;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        uint64_t now = pm_now_ns();
        for (entry_t *e = g->head.next; e != &g->head; e = e->next)
            if (e->deadline_ns && now > e->deadline_ns) {
                shutdown(e->fd, SHUT_RDWR);
                e->deadline_ns = 0;
                atomic_fetch_add(&g->cut, 1);
            }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int pm__guard_start(unsigned header_timeout_s, unsigned request_timeout_s, unsigned max_conns,
                    unsigned max_per_ip, pm__guard_t **out, pm_error_t *err)
{
    *out = NULL;
    pm__guard_t *g = calloc(1, sizeof *g);
    if (!g)
        return pm_error_set(err, PM_ENOMEM, "out of memory");
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->head.next = g->head.prev = &g->head;
    g->limit_ns = (uint64_t)header_timeout_s * 1000000000u;
    g->body_ns = (uint64_t)request_timeout_s * 1000000000u;
    int on = header_timeout_s || request_timeout_s;
    g->max_conns = max_conns;
    g->max_per_ip = max_per_ip;
    if (on && pthread_create(&g->th, NULL, sweep, g) != 0) {
        free(g);
        return pm_error_set(err, PM_EINTERNAL, "cannot start the header-timeout thread");
    }
    g->started = on;
    *out = g;
    return PM_OK;
}

void pm__guard_stop(pm__guard_t *g)
{
    if (!g)
        return;
    if (g->started) {
        pthread_mutex_lock(&g->mu);
        g->stop = 1;
        pthread_cond_signal(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->th, NULL);
    }
    /* MHD_stop_daemon has closed every connection: the list is empty */
    for (entry_t *e = g->head.next, *n; e != &g->head; e = n) {
        n = e->next;
        free(e);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

unsigned long long pm__guard_cut(pm__guard_t *g)
{
    return g ? atomic_load(&g->cut) : 0;
}

unsigned pm__guard_hard_limit(unsigned limit)
{
    if (!limit)
        return 0;
    unsigned room = limit / 2 < 64 ? 64 : limit / 2;
    return limit > UINT_MAX - room ? UINT_MAX : limit + room;
}

static void client_ip(struct MHD_Connection *c, entry_t *e)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET) {
        e->fam = AF_INET;
        memcpy(e->ip, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        e->fam = AF_INET6;
        memcpy(e->ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

void pm__guard_notify(void *cls, struct MHD_Connection *c, void **socket_context, int started)
{
    pm__guard_t *g = cls;
    if (!g)
        return;
    if (started) {
        entry_t *e = calloc(1, sizeof *e);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = e;
        if (!e || !ci)
            return; /* unguarded and uncounted: libmicrohttpd's limits still apply */
        e->fd = ci->connect_fd;
        client_ip(c, e);
        pthread_mutex_lock(&g->mu);
        e->deadline_ns = g->started && g->limit_ns ? pm_now_ns() + g->limit_ns : 0;
        g->n++;
        if (g->max_conns && g->n > g->max_conns)
            e->over = 1;
        if (!e->over && g->max_per_ip && e->fam) { /* this address's connections, this one too */
            unsigned same = 1;
            size_t alen = e->fam == AF_INET ? 4 : 16;
            for (entry_t *o = g->head.next; o != &g->head; o = o->next)
                same += o->fam == e->fam && memcmp(o->ip, e->ip, alen) == 0;
            e->over = same > g->max_per_ip;
        }
        e->next = g->head.next;
        e->prev = &g->head;
        g->head.next->prev = e;
        g->head.next = e;
        pthread_mutex_unlock(&g->mu);
        return;
    }
    entry_t *e = *socket_context;
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    if (e->next) {
        e->prev->next = e->next;
        e->next->prev = e->prev;
        g->n--;
    }
    pthread_mutex_unlock(&g->mu);
    free(e);
    *socket_context = NULL;
}

int pm__guard_over(pm__guard_t *g, struct MHD_Connection *c)
{
    if (!g)
        return 0;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    entry_t *e = ci ? ci->socket_context : NULL;
    if (!e || !e->over)
        return 0;
    atomic_fetch_add(&g->refused, 1);
    return 1;
}

unsigned long long pm__guard_refused(pm__guard_t *g)
{
    return g ? atomic_load(&g->refused) : 0;
}

/* Deadline of the connection's current phase: limit_ns from now (0: none). */
static void set_deadline(pm__guard_t *g, struct MHD_Connection *c, uint64_t limit_ns)
{
    if (!g || !g->started)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    entry_t *e = ci ? ci->socket_context : NULL;
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    e->deadline_ns = limit_ns ? pm_now_ns() + limit_ns : 0;
    pthread_mutex_unlock(&g->mu);
}

void pm__guard_headers_done(pm__guard_t *g, struct MHD_Connection *c)
{
    set_deadline(g, c, g ? g->body_ns : 0);
}

void pm__guard_body_done(pm__guard_t *g, struct MHD_Connection *c)
{
    set_deadline(g, c, 0);
}

void pm__guard_request_ended(pm__guard_t *g, struct MHD_Connection *c)
{
    set_deadline(g, c, g ? g->limit_ns : 0);
}
