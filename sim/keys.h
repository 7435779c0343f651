/* keys: the world's secrets, made by `edgekv keys` and kept in $EDGEKV_HOME/keys.json beside
 * state.json: the bearer token every HTTP request to a secure world carries, and the CURVE
 * keypairs its ZeroMQ links use (one server pair for the coordinator and every tier, one client
 * pair for every PoP and tier: the ZAP allowlist is one key).
 *
 *   {"version": 1, "token": "<base64url of 32 random bytes, 43 characters>",
 *    "curve": {"server_public": "<Z85, 40>", "server_secret": "...",
 *              "client_public": "...", "client_secret": "..."}}
 *
 * The file is mode 0600, created exclusively and never written through a link; the daemons
 * get the keys through their environment (ekv_keys_setenv), never the command line, which
 * every user can read in /proc. */
#ifndef EKV_KEYS_H
#define EKV_KEYS_H

#include <stddef.h>

#define EKV_KEYS_Z85_LEN   40 /* a 32-byte CURVE key in Z85 */
#define EKV_KEYS_TOKEN_MIN 16 /* what a token may be (a daemon checks the same) */
#define EKV_KEYS_TOKEN_MAX 256

typedef struct {
    char token[EKV_KEYS_TOKEN_MAX + 1];       /* visible ASCII */
    char server_public[EKV_KEYS_Z85_LEN + 1]; /* coordinator and tiers */
    char server_secret[EKV_KEYS_Z85_LEN + 1]; /* */
    char client_public[EKV_KEYS_Z85_LEN + 1]; /* PoPs and tiers */
    char client_secret[EKV_KEYS_Z85_LEN + 1]; /* */
} ekv_keys_t;

/* $EDGEKV_HOME/keys.json (ekv_state_dir()) into buf. */
void ekv_keys_path(char *buf, size_t n);

/* Fresh keys: 32 bytes of getrandom for the token, zmq_curve_keypair for the pairs. EKV_OK or
 * EKV_EIO. */
int ekv_keys_make(ekv_keys_t *k);

/* Writes k to path, mode 0600. Without force the file is created exclusively (O_EXCL: an
 * existing file or a link there gives EKV_EEXIST); with force a new file is renamed over
 * path, replacing a link instead of writing through it. EKV_OK, EKV_EEXIST or EKV_EIO. */
int ekv_keys_write(const char *path, const ekv_keys_t *k, int force);

/* Parses and checks keys.json's text: every key 40 characters of Z85 decoding to 32 bytes,
 * each secret matching its public key, a token of 16..256 visible characters. EKV_OK, or
 * EKV_EINVAL with the reason in why. */
int ekv_keys_parse(const char *text, size_t len, ekv_keys_t *k, char *why, size_t n);

/* Reads $EDGEKV_HOME/keys.json into k. EKV_ENOTFOUND when there is none; EKV_EINVAL or EKV_EIO
 * after printing why on stderr (a link there is refused, never followed). */
int ekv_keys_load(ekv_keys_t *k);

/* The world's token, or NULL when there are no keys (or they are unusable: said once on
 * stderr). Read once and kept for the life of the process. */
const char *ekv_keys_token(void);

/* 1 when a equals the token b, in time that does not depend on where they differ. */
int ekv_keys_token_eq(const char *a, const char *b);

/* Sets the five variables a child daemon reads: EDGEKV_TOKEN, EDGEKV_CURVE_SERVER_SECRET,
 * EDGEKV_CURVE_CLIENT_KEY (servers), EDGEKV_CURVE_SERVER_KEY, EDGEKV_CURVE_CLIENT_SECRET
 * (clients). Call before fork/exec; they stay set in this process. */
void ekv_keys_setenv(const ekv_keys_t *k);

/* `edgekv keys [--force] [--token]`. */
int ekv_cmd_keys(int argc, char **argv);

#endif
