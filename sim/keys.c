/* keys: keys.json, the world's token and CURVE keys (see keys.h). */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "ekv_base64.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "state.h"

#define MAX_FILE (64 * 1024)

void ekv_keys_path(char *buf, size_t n)
{
    snprintf(buf, n, "%s/keys.json", ekv_state_dir());
}

int ekv_keys_make(ekv_keys_t *k)
{
    memset(k, 0, sizeof *k);
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
        if (r < 0 && errno != EINTR)
            return EKV_EIO;
        got += r > 0 ? (size_t)r : 0;
    }
    char *t = ekv_b64_encode(raw, sizeof raw, EKV_B64_URL);
    snprintf(k->token, sizeof k->token, "%s", t);
    free(t);
    memset(raw, 0, sizeof raw);
    if (zmq_curve_keypair(k->server_public, k->server_secret) != 0 ||
        zmq_curve_keypair(k->client_public, k->client_secret) != 0)
        return EKV_EIO; /* libzmq built without CURVE */
    return EKV_OK;
}

static char *to_json(const ekv_keys_t *k)
{
    json_t *j =
        json_pack("{s:i, s:s, s:{s:s, s:s, s:s, s:s}}", "version", 1, "token", k->token, "curve",
                  "server_public", k->server_public, "server_secret", k->server_secret,
                  "client_public", k->client_public, "client_secret", k->client_secret);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    return text;
}

/* Writes all of text to fd, then fsync; 0 or -1. */
static int put(int fd, const char *text)
{
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return write(fd, "\n", 1) == 1 && fsync(fd) == 0 ? 0 : -1;
}

int ekv_keys_write(const char *path, const ekv_keys_t *k, int force)
{
    char tmp[EKV_FILE_TMP_MAX];
    int fd;
    if (force) { /* a new file renamed over path: rename replaces a link, never follows it */
        snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
        fd = mkstemp(tmp);
    } else {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
            return EKV_EEXIST;
    }
    if (fd < 0)
        return EKV_EIO;
    char *text = to_json(k);
    /* 0600 whatever the umask (mkstemp's mode already is, open's is only at most that) */
    int ok = text && fchmod(fd, 0600) == 0 && put(fd, text) == 0;
    if (text) {
        memset(text, 0, strlen(text));
        free(text);
    }
    ok = close(fd) == 0 && ok;
    if (ok && force && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        unlink(force ? tmp : path);
    return ok ? EKV_OK : EKV_EIO;
}

/* Copies member name of o, a Z85 key, into out; 0, or -1 with why. */
static int z85_key(json_t *o, const char *name, char out[EKV_KEYS_Z85_LEN + 1], char *why, size_t n)
{
    const char *s = json_string_value(json_object_get(o, name));
    uint8_t raw[32];
    if (!s || strlen(s) != EKV_KEYS_Z85_LEN || !zmq_z85_decode(raw, s)) {
        snprintf(why, n, "curve.%s is not a Z85 CURVE key (40 characters)", name);
        return -1;
    }
    memcpy(out, s, EKV_KEYS_Z85_LEN + 1);
    return 0;
}

/* 0 when secret's public key is pub, else -1 with why. */
static int pair_ok(const char *pub, const char *secret, const char *which, char *why, size_t n)
{
    char derived[EKV_KEYS_Z85_LEN + 1];
    if (zmq_curve_public(derived, secret) != 0 || strcmp(derived, pub) != 0) {
        snprintf(why, n, "curve.%s_secret does not belong to curve.%s_public", which, which);
        return -1;
    }
    return 0;
}

static int token_ok(const char *t)
{
    size_t len = t ? strlen(t) : 0;
    if (len < EKV_KEYS_TOKEN_MIN || len > EKV_KEYS_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (t[i] <= ' ' || t[i] > '~')
            return 0;
    return 1;
}

int ekv_keys_parse(const char *text, size_t len, ekv_keys_t *k, char *why, size_t n)
{
    memset(k, 0, sizeof *k);
    json_error_t e;
    json_t *j = json_loadb(text, len, 0, &e);
    json_t *c = json_object_get(j, "curve");
    const char *t = json_string_value(json_object_get(j, "token"));
    int rc = EKV_EINVAL;
    if (!j)
        snprintf(why, n, "not JSON (line %d: %s)", e.line, e.text);
    else if (json_integer_value(json_object_get(j, "version")) != 1)
        snprintf(why, n, "version is not 1 (made by another edgekv?)");
    else if (!token_ok(t))
        snprintf(why, n, "token is not 16 to 256 visible characters");
    else if (z85_key(c, "server_public", k->server_public, why, n) == 0 &&
             z85_key(c, "server_secret", k->server_secret, why, n) == 0 &&
             z85_key(c, "client_public", k->client_public, why, n) == 0 &&
             z85_key(c, "client_secret", k->client_secret, why, n) == 0 &&
             pair_ok(k->server_public, k->server_secret, "server", why, n) == 0 &&
             pair_ok(k->client_public, k->client_secret, "client", why, n) == 0) {
        snprintf(k->token, sizeof k->token, "%s", t);
        rc = EKV_OK;
    }
    json_decref(j);
    if (rc != EKV_OK)
        memset(k, 0, sizeof *k);
    return rc;
}

/* The file's text (malloc'd) through an fd that refuses a link; EKV_* as ekv_keys_load. */
static int read_keys(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return EKV_ENOTFOUND;
    if (fd < 0) {
        fprintf(stderr, "edgekv: %s: %s\n", path,
                errno == ELOOP ? "is a symbolic link (refused: run `edgekv keys --force`)"
                               : strerror(errno));
        return EKV_EIO;
    }
    struct stat st;
    int rc = EKV_EIO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
        fprintf(stderr, "edgekv: %s: not a regular file of at most 64 KB\n", path);
        goto out;
    }
    *out = calloc(1, (size_t)st.st_size + 1);
    ssize_t r = *out ? read(fd, *out, (size_t)st.st_size) : -1;
    if (r != st.st_size) {
        fprintf(stderr, "edgekv: %s: cannot read it\n", path);
        free(*out);
        *out = NULL;
        goto out;
    }
    *len = (size_t)r;
    rc = EKV_OK;
out:
    close(fd);
    return rc;
}

int ekv_keys_load(ekv_keys_t *k)
{
    char path[1100], why[200];
    ekv_keys_path(path, sizeof path);
    char *text = NULL;
    size_t len = 0;
    int rc = read_keys(path, &text, &len);
    if (rc != EKV_OK)
        return rc;
    rc = ekv_keys_parse(text, len, k, why, sizeof why);
    if (rc != EKV_OK)
        fprintf(stderr, "edgekv: %s: %s (`edgekv keys --force` makes new keys)\n", path, why);
    memset(text, 0, len);
    free(text);
    return rc;
}

const char *ekv_keys_token(void)
{
    static int loaded;
    static char token[EKV_KEYS_TOKEN_MAX + 1];
    if (!loaded) {
        loaded = 1;
        ekv_keys_t k;
        if (ekv_keys_load(&k) == EKV_OK)
            memcpy(token, k.token, sizeof token);
        memset(&k, 0, sizeof k);
    }
    return token[0] ? token : NULL;
}

int ekv_keys_token_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < lb; i++) /* over the token's length whatever a's */
        diff |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
    return diff == 0;
}

void ekv_keys_setenv(const ekv_keys_t *k)
{
    setenv("EDGEKV_TOKEN", k->token, 1);
    setenv("EDGEKV_CURVE_SERVER_SECRET", k->server_secret, 1);
    setenv("EDGEKV_CURVE_CLIENT_KEY", k->client_public, 1);
    setenv("EDGEKV_CURVE_SERVER_KEY", k->server_public, 1);
    setenv("EDGEKV_CURVE_CLIENT_SECRET", k->client_secret, 1);
}

/* ---- edgekv keys -------------------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr, "usage: edgekv keys [--force] [--token]\n");
    return 2;
}

int ekv_cmd_keys(int argc, char **argv)
{
    int force = 0, token_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (!strcmp(argv[i], "--token"))
            token_only = 1;
        else
            return usage();
    }
    char path[1100];
    ekv_keys_path(path, sizeof path);
    ekv_keys_t k;
    int rc = EKV_EEXIST;
    if (token_only && !force) { /* the token of the keys there, made when there are none */
        rc = ekv_keys_load(&k);
        if (rc != EKV_OK && rc != EKV_ENOTFOUND)
            return 1;
    }
    if (rc != EKV_OK) {
        if (ekv_file_mkdirs(ekv_state_dir()) != EKV_OK || ekv_keys_make(&k) != EKV_OK) {
            fprintf(stderr, "edgekv: cannot make keys in %s: %s\n", ekv_state_dir(),
                    strerror(errno));
            return 1;
        }
        rc = ekv_keys_write(path, &k, force);
        if (rc == EKV_EEXIST) {
            fprintf(stderr,
                    "edgekv: %s exists: `edgekv keys --force` replaces it (a running world "
                    "keeps the old keys until `edgekv down`)\n",
                    path);
            return 1;
        }
        if (rc != EKV_OK) {
            fprintf(stderr, "edgekv: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    if (token_only) {
        printf("%s\n", k.token);
    } else {
        printf("edgekv keys: wrote %s (mode 0600)\n"
               "  CURVE server public key: %s\n"
               "  CURVE client public key: %s\n"
               "The token and the secret keys stay in that file: `edgekv keys --token` prints "
               "the token.\n",
               path, k.server_public, k.client_public);
    }
    memset(&k, 0, sizeof k);
    return 0;
}
