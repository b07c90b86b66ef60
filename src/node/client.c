/* The HTTPS client of a node (partner calls, the feed job) and of the CLI
 * (officer commands): libcurl with GnuTLS, the server verified against a
 * given CA, optionally our certificate for mutual TLS. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "node/node_impl.h"

/* curl_global_init is not thread-safe; it runs exactly once (pthread_once is
 * the one piece of process-wide state here, and it is never written again). */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
    pm_buf_t *buf;
    int over;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t len = size * n;
    if (pm_buf_append(s->buf, p, len)) {
        s->over = 1;
        return 0; /* aborts the transfer */
    }
    return len;
}

struct hsink {
    const char *name;
    char *out;
    size_t cap;
};

/* Keeps the value of one response header (rq->want_header), bounded. */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct hsink *h = ctx;
    size_t len = size * n, nl = strlen(h->name);
    if (len > nl + 1 && strncasecmp(p, h->name, nl) == 0 && p[nl] == ':') {
        size_t i = nl + 1, end = len;
        while (i < end && (p[i] == ' ' || p[i] == '\t')) i++;
        while (end > i && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' ')) end--;
        size_t k = end - i < h->cap - 1 ? end - i : h->cap - 1;
        memcpy(h->out, p + i, k);
        h->out[k] = '\0';
    }
    return len;
}

int pm_node_call(const pm_node_request_t *rq, const char *method, const char *path,
                 const void *body, size_t body_len, const char *content_type, long *out_status,
                 pm_buf_t *out_body, pm_error_t *err)
{
    return pm_node_call_header(rq, method, path, body, body_len, content_type, out_status,
                               out_body, NULL, NULL, 0, err);
}

int pm_node_call_header(const pm_node_request_t *rq, const char *method, const char *path,
                        const void *body, size_t body_len, const char *content_type,
                        long *out_status, pm_buf_t *out_body, const char *header, char *hout,
                        size_t hcap, pm_error_t *err)
{
    pthread_once(&curl_once, curl_init_once);
    *out_status = 0;
    pm_buf_init(out_body, rq->max_response ? rq->max_response : (64u << 20));
    char url[PM_NODE_URL_MAX + 1024];
    int n = snprintf(url, sizeof url, "%s%s", rq->base_url, path);
    if (n < 0 || (size_t)n >= sizeof url)
        return pm_error_set(err, PM_ELIMIT, "URL too long");
    CURL *c = curl_easy_init();
    if (!c)
        return pm_error_set(err, PM_ENOMEM, "curl: cannot create a handle");
    struct curl_slist *hdrs = NULL;
    char line[256];
    if (content_type) {
        snprintf(line, sizeof line, "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (rq->token) {
        snprintf(line, sizeof line, "Authorization: Bearer %.200s", rq->token);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (rq->agreement_hash) {
        snprintf(line, sizeof line, "Perimeter-Agreement: %.64s", rq->agreement_hash);
        hdrs = curl_slist_append(hdrs, line);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sink s = {out_body, 0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(rq->timeout_s ? rq->timeout_s : 30));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_CAINFO, rq->ca_file);
    curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (rq->cert_file) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, rq->cert_file);
        curl_easy_setopt(c, CURLOPT_SSLKEY, rq->key_file);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    struct hsink hs = {header, hout, hcap};
    if (header && hout && hcap) {
        hout[0] = '\0';
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &hs);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    CURLcode cc = curl_easy_perform(c);
    int rc = PM_OK;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, out_status);
    } else if (s.over) {
        rc = pm_error_set(err, PM_ELIMIT, "%s: response larger than %zu bytes", url,
                          out_body->max);
    } else {
        int code = cc == CURLE_OPERATION_TIMEDOUT                                   ? PM_ETIMEOUT
                   : (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION ||
                      cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CACERT_BADFILE)
                       ? PM_ETLS
                       : PM_ENET;
        rc = pm_error_set(err, code, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc;
}
