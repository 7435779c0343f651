/* ekv_sec: CURVE keys and the bearer token from the environment, the loopback rule, and the
 * ZAP handler (ekv_sec.h). */
#include "ekv_sec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "ekv_zev.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN   "edgekv"
#define KEYS_HINT    "(CURVE keys; `edgekv keys` makes them)"

/* ---- the environment ------------------------------------------------------------------- */

/* The variable's value, NULL when unset or empty. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Decodes a Z85 key into 32 bytes. */
static int z85_key(const char *name, const char *text, uint8_t key[32], char *err, size_t errlen)
{
    if (strlen(text) != 40 || !zmq_z85_decode(key, text)) {
        snprintf(err, errlen, "%s is not a Z85 CURVE key (40 characters)", name);
        return EKV_EINVAL;
    }
    return EKV_OK;
}

/* The public key of a Z85 secret, binary. */
static int public_of(const char *secret_z85, uint8_t pub[32])
{
    char z85[41];
    if (zmq_curve_public(z85, secret_z85) != 0 || !zmq_z85_decode(pub, z85))
        return EKV_EIO;
    return EKV_OK;
}

static int load_token(ekv_sec_t *sec, char *err, size_t errlen)
{
    const char *t = env("EDGEKV_TOKEN");
    if (!t)
        return EKV_OK;
    size_t n = strlen(t);
    int visible = n >= EKV_SEC_TOKEN_MIN && n <= EKV_SEC_TOKEN_MAX;
    for (size_t i = 0; visible && i < n; i++)
        visible = t[i] > ' ' && t[i] < 0x7f;
    if (!visible) {
        snprintf(err, errlen, "EDGEKV_TOKEN is not %d to %d visible ASCII characters",
                 EKV_SEC_TOKEN_MIN, EKV_SEC_TOKEN_MAX);
        return EKV_EINVAL;
    }
    memcpy(sec->token, t, n + 1);
    sec->has_token = 1;
    return EKV_OK;
}

/* Both halves of a role, or neither. */
static int pair_set(const char *a, const char *b, const char *role, char *err, size_t errlen)
{
    if (!!env(a) == !!env(b))
        return EKV_OK;
    snprintf(err, errlen, "%s is set without %s (a CURVE %s needs both)", env(a) ? a : b,
             env(a) ? b : a, role);
    return EKV_EINVAL;
}

/* A secret given beside its own public key (a daemon that is server and client, a tier, may
 * carry all four) must be that key's secret. */
static int matches(const char *secret_name, const uint8_t secret[32], const char *public_name,
                   const uint8_t pub[32], char *err, size_t errlen)
{
    char z85[41];
    uint8_t derived[32];
    zmq_z85_encode(z85, secret, 32);
    if (public_of(z85, derived) != EKV_OK || memcmp(derived, pub, 32) != 0) {
        snprintf(err, errlen, "%s is not the secret of %s", secret_name, public_name);
        return EKV_EINVAL;
    }
    return EKV_OK;
}

int ekv_sec_load(ekv_sec_t *sec, char *err, size_t errlen)
{
    memset(sec, 0, sizeof *sec);
    static const char *const keys[] = {"EDGEKV_CURVE_SERVER_SECRET", "EDGEKV_CURVE_CLIENT_KEY",
                                       "EDGEKV_CURVE_SERVER_KEY", "EDGEKV_CURVE_CLIENT_SECRET"};
    uint8_t *dest[] = {sec->server_secret, sec->allowed_client, sec->server_public,
                       sec->client_secret};
    int rc = load_token(sec, err, errlen);
    for (int i = 0; rc == EKV_OK && i < 4; i++)
        if (env(keys[i]))
            rc = z85_key(keys[i], env(keys[i]), dest[i], err, errlen);
    if (rc == EKV_OK)
        rc = pair_set(keys[0], keys[1], "server", err, errlen);
    if (rc == EKV_OK)
        rc = pair_set(keys[2], keys[3], "client", err, errlen);
    if (rc != EKV_OK)
        return rc;
    sec->server = env(keys[0]) != NULL;
    sec->client = env(keys[2]) != NULL;
    if (sec->client && public_of(env(keys[3]), sec->client_public) != EKV_OK) {
        snprintf(err, errlen, "EDGEKV_CURVE_CLIENT_SECRET: libzmq cannot derive its public key");
        return EKV_EINVAL;
    }
    if (sec->server && sec->client) {
        rc = matches(keys[0], sec->server_secret, keys[2], sec->server_public, err, errlen);
        if (rc == EKV_OK)
            rc = matches(keys[3], sec->client_secret, keys[1], sec->allowed_client, err, errlen);
    }
    return rc;
}

/* ---- the loopback rule ----------------------------------------------------------------- */

int ekv_sec_host_is_loopback(const char *host)
{
    char buf[256];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, host + 1, n - 2); /* [::1] as ZeroMQ writes IPv6 */
        buf[n - 2] = '\0';
        host = buf;
    }
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return strcasecmp(host, "localhost") == 0;
}

int ekv_sec_endpoint_is_pgm(const char *ep)
{
    return !strncmp(ep, "epgm://", 7) || !strncmp(ep, "pgm://", 6);
}

int ekv_sec_endpoint_is_loopback(const char *ep)
{
    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9))
        return 1;
    if (strncmp(ep, "tcp://", 6) != 0)
        return 0;
    const char *addr = strrchr(ep, ';'); /* tcp://SOURCE;DEST connects to DEST */
    addr = addr ? addr + 1 : ep + 6;
    const char *colon = strrchr(addr, ':');
    char host[256];
    size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
    if (n == 0 || n >= sizeof host)
        return 0;
    memcpy(host, addr, n);
    host[n] = '\0';
    return ekv_sec_host_is_loopback(host);
}

int ekv_sec_check_http(const ekv_sec_t *sec, const char *option, const char *value,
                       const char *host, char *err, size_t errlen)
{
    if (sec->has_token || ekv_sec_host_is_loopback(host))
        return EKV_OK;
    snprintf(err, errlen,
             "%s %s is not a loopback address: set EDGEKV_TOKEN (the bearer token every "
             "request must carry); `edgekv keys` makes one",
             option, value);
    return EKV_EINVAL;
}

/* The ZeroMQ refusals; keyed says whether the role's keys are present, need names them. */
static int check_zmq(int keyed, const char *need, const char *option, const char *ep, char *err,
                     size_t errlen)
{
    if (ekv_sec_endpoint_is_pgm(ep)) {
        if (!keyed)
            return EKV_OK;
        snprintf(err, errlen,
                 "%s %s: CURVE does not apply to epgm; a world with keys publishes over tcp",
                 option, ep);
        return EKV_EINVAL;
    }
    if (keyed || ekv_sec_endpoint_is_loopback(ep))
        return EKV_OK;
    snprintf(err, errlen, "%s %s is not a loopback address: set %s " KEYS_HINT, option, ep, need);
    return EKV_EINVAL;
}

int ekv_sec_check_bind(const ekv_sec_t *sec, const char *option, const char *endpoint, char *err,
                       size_t errlen)
{
    return check_zmq(sec->server, "EDGEKV_CURVE_SERVER_SECRET and EDGEKV_CURVE_CLIENT_KEY", option,
                     endpoint, err, errlen);
}

int ekv_sec_check_connect(const ekv_sec_t *sec, const char *option, const char *endpoint, char *err,
                          size_t errlen)
{
    return check_zmq(sec->client, "EDGEKV_CURVE_SERVER_KEY and EDGEKV_CURVE_CLIENT_SECRET", option,
                     endpoint, err, errlen);
}

/* ---- the sockets ------------------------------------------------------------------------ */

int ekv_sec_server(void *sock, const ekv_sec_t *sec)
{
    if (!sec || !sec->server)
        return EKV_OK;
    int on = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &on, sizeof on) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec->server_secret, 32) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) != 0)
        return EKV_EIO;
    return EKV_OK;
}

int ekv_sec_client(void *sock, const ekv_sec_t *sec)
{
    if (!sec || !sec->client)
        return EKV_OK;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, sec->server_public, 32) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, sec->client_public, 32) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec->client_secret, 32) != 0)
        return EKV_EIO;
    return EKV_OK;
}

/* ---- the ZAP handler -------------------------------------------------------------------- */

#define ZAP_WARNED 16 /* peer addresses remembered for the once-a-minute warning */

struct ekv_zap {
    void *rep;                     /* REP on inproc://zeromq.zap.01 (owned) */
    ekv_zev_t *zev;                /* its watcher */
    uint8_t allowed[32];           /* the world's client public key */
    uint64_t denied;               /* refusals so far */
    char warned[ZAP_WARNED][64];   /* addresses warned about ... */
    int64_t warned_us[ZAP_WARNED]; /* ... and when (monotonic) */
};

/* One warning per peer address a minute: a client retrying with a wrong key every few
 * hundred milliseconds must not flood the log. */
static void warn_refused(ekv_zap_t *z, const char *addr)
{
    int64_t now = ekv_mono_us();
    int slot = 0;
    for (int i = 0; i < ZAP_WARNED; i++) {
        if (strcmp(z->warned[i], addr) == 0) {
            slot = i;
            break;
        }
        if (z->warned_us[i] < z->warned_us[slot])
            slot = i; /* else the oldest entry makes room */
    }
    if (strcmp(z->warned[slot], addr) == 0 && now - z->warned_us[slot] < 60000000)
        return;
    snprintf(z->warned[slot], sizeof z->warned[slot], "%s", addr);
    z->warned_us[slot] = now;
    ekv_warn("refused a CURVE client from %s (unknown key)", addr);
}

/* ZAP 1.0: [version, request id, domain, address, identity, mechanism, credentials...];
 * the reply [version, request id, status code, status text, user id, metadata]. */
static void on_zap(void *sock, void *arg)
{
    ekv_zap_t *z = arg;
    zmq_msg_t parts[8];
    int n = 0, truncated = 0;
    if (ekv_zev_recv(sock, parts, 8, &n, &truncated) != EKV_OK)
        return;
    int ok = n >= 7 && !truncated && zmq_msg_size(&parts[5]) == 5 &&
             memcmp(zmq_msg_data(&parts[5]), "CURVE", 5) == 0 && zmq_msg_size(&parts[6]) == 32 &&
             memcmp(zmq_msg_data(&parts[6]), z->allowed, 32) == 0;
    char addr[64] = "?";
    if (n >= 4)
        snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&parts[3]),
                 (const char *)zmq_msg_data(&parts[3]));
    const void *frames[6] = {"1.0",
                             n >= 2 ? zmq_msg_data(&parts[1]) : "",
                             ok ? "200" : "400",
                             ok ? "OK" : "unknown key",
                             "",
                             ""};
    size_t lens[6] = {3, n >= 2 ? zmq_msg_size(&parts[1]) : 0, 3, ok ? 2 : 11, 0, 0};
    if (ekv_zev_send(sock, frames, lens, 6) != EKV_OK)
        ekv_warn("cannot answer a ZAP request");
    for (int i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
    if (!ok) {
        z->denied++;
        warn_refused(z, addr);
    }
}

ekv_zap_t *ekv_zap_start(void *zctx, struct event_base *base, const ekv_sec_t *sec, char *err,
                         size_t errlen)
{
    ekv_zap_t *z = ekv_calloc(1, sizeof *z);
    memcpy(z->allowed, sec->allowed_client, 32);
    z->rep = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    if (!z->rep || zmq_setsockopt(z->rep, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(z->rep, ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "cannot bind the ZAP handler: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    z->zev = ekv_zev_new(base, z->rep, 64, on_zap, z);
    if (!z->zev) {
        snprintf(err, errlen, "cannot watch the ZAP handler's socket");
        goto fail;
    }
    return z;
fail:
    ekv_zap_destroy(&z);
    return NULL;
}

uint64_t ekv_zap_denied(const ekv_zap_t *self)
{
    return self ? self->denied : 0;
}

void ekv_zap_destroy(ekv_zap_t **self_p)
{
    ekv_zap_t *z = *self_p;
    if (!z)
        return;
    ekv_zev_destroy(&z->zev);
    if (z->rep)
        zmq_close(z->rep);
    free(z);
    *self_p = NULL;
}
