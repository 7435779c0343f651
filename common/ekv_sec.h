/* ekv_sec: the daemons' security settings: CURVE keys and the bearer token.
 *
 * The secrets come from the environment, never the command line (/proc/PID/cmdline is
 * world-readable, /proc/PID/environ is not), checked once at start:
 *   EDGEKV_TOKEN                   the bearer token of the HTTP admin paths and REST API
 *   EDGEKV_CURVE_SERVER_SECRET     a CURVE server's secret (coordinator, tiers)
 *   EDGEKV_CURVE_CLIENT_KEY        the one client public key a server's ZAP handler allows
 *   EDGEKV_CURVE_SERVER_KEY        the server public key a client connects to (PoPs, tiers)
 *   EDGEKV_CURVE_CLIENT_SECRET     a client's secret (its public key is derived)
 * Keys are Z85 text, 40 characters. One server keypair serves the coordinator and every tier,
 * one client keypair every PoP and tier (`edgekv keys` makes them).
 *
 * With keys present, CURVE is on whatever the addresses, so loopback tests exercise it.
 * Without them, a daemon refuses to bind or connect an address outside loopback: a plain
 * ZeroMQ or HTTP port off the machine would be open to anyone on the network.
 *
 * The ZAP handler (ekv_zap_*) makes the client key matter: without one, a CURVE server
 * accepts any client that knows the server's public key. It answers libzmq's authentication
 * requests on inproc://zeromq.zap.01 from the daemon's loop. */
#ifndef EKV_SEC_H
#define EKV_SEC_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

#define EKV_SEC_TOKEN_MIN 16
#define EKV_SEC_TOKEN_MAX 256

typedef struct ekv_sec {
    int has_token;                     /* EDGEKV_TOKEN was set */
    char token[EKV_SEC_TOKEN_MAX + 1]; /* its value */
    int server;                        /* server keys: SERVER_SECRET and CLIENT_KEY */
    uint8_t server_secret[32];         /* binary */
    uint8_t allowed_client[32];        /* CLIENT_KEY: the client the ZAP handler allows */
    int client;                        /* client keys: SERVER_KEY and CLIENT_SECRET */
    uint8_t server_public[32];         /* the server to trust */
    uint8_t client_secret[32];         /* ours */
    uint8_t client_public[32];         /* derived from client_secret */
} ekv_sec_t;

/* Reads and checks the five variables into *sec (zeroed first). EKV_EINVAL with a message
 * naming the variable in err: not Z85 of 40 characters, a secret that does not match the
 * public key given beside it, half a keypair's role, a token that is not 16..256 visible
 * ASCII characters. An empty variable counts as unset. */
int ekv_sec_load(ekv_sec_t *sec, char *err, size_t errlen);

/* Whether a host name or address stays on this machine: 127.0.0.0/8, ::1 (also mapped),
 * "localhost". "*", 0.0.0.0, other addresses and interface names do not. */
int ekv_sec_host_is_loopback(const char *host);
/* Whether a ZeroMQ endpoint stays on this machine: ipc://, inproc://, or tcp:// whose host
 * (after any "source;" part) is loopback. epgm:// and the rest do not. */
int ekv_sec_endpoint_is_loopback(const char *endpoint);
/* Whether an endpoint is PGM multicast (epgm://, pgm://), where CURVE does not apply. */
int ekv_sec_endpoint_is_pgm(const char *endpoint);

/* The start-up refusals; EKV_OK, or EKV_EINVAL with the message in err. option is the
 * option's name as typed ("--pub"), value its value, printed as given.
 * ekv_sec_check_http: an HTTP listener outside loopback needs EDGEKV_TOKEN.
 * ekv_sec_check_bind: a ZeroMQ server endpoint outside loopback needs the server keys.
 * ekv_sec_check_connect: a ZeroMQ client endpoint outside loopback needs the client keys.
 * Both ZeroMQ checks refuse a PGM endpoint when the keys they would use are present, and
 * leave one without keys alone (multicast runs only in a private network namespace, where
 * the launcher set it up). */
int ekv_sec_check_http(const ekv_sec_t *sec, const char *option, const char *value,
                       const char *host, char *err, size_t errlen);
int ekv_sec_check_bind(const ekv_sec_t *sec, const char *option, const char *endpoint, char *err,
                       size_t errlen);
int ekv_sec_check_connect(const ekv_sec_t *sec, const char *option, const char *endpoint, char *err,
                          size_t errlen);

/* Makes sock a CURVE server (before zmq_bind) when sec has server keys; else nothing.
 * EKV_OK or EKV_EIO (libzmq without CURVE). */
int ekv_sec_server(void *sock, const ekv_sec_t *sec);
/* Makes sock a CURVE client of the world's server (before zmq_connect) when sec has client
 * keys; else nothing. EKV_OK or EKV_EIO. */
int ekv_sec_client(void *sock, const ekv_sec_t *sec);

typedef struct ekv_zap ekv_zap_t;
/* Binds the ZAP handler in zctx (before any server socket binds there) and drains it on
 * base: 200 for sec's allowed client key, 400 for any other, each refusal counted and logged
 * once a minute per peer address. Borrows zctx and base (destroy the handler before either);
 * NULL with a message in err on failure. */
ekv_zap_t *ekv_zap_start(void *zctx, struct event_base *base, const ekv_sec_t *sec, char *err,
                         size_t errlen);
/* How many clients it refused so far (edgekv_zap_denied_total). 0 for NULL. */
uint64_t ekv_zap_denied(const ekv_zap_t *self);
void ekv_zap_destroy(ekv_zap_t **self_p);

#endif
