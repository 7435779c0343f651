/* keys: `edgekv keys` and keys.json (sim/keys.c): fresh keys whose pairs belong together, a
 * file of mode 0600 made exclusively, replaced only with --force and never written through a
 * link, and the checks a loaded file passes. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_test.h"
#include "ekv_tmpdir.h"
#include "keys.h"

static char dir[256];

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    return ekv_file_read(path, 1 << 16, &text, &len) == EKV_OK ? text : NULL;
}

static void put_file(const char *path, const char *text)
{
    CHECK_EQ(ekv_file_write_atomic(path, text, strlen(text)), EKV_OK);
}

static void test_make(void)
{
    ekv_keys_t a, b;
    CHECK_EQ(ekv_keys_make(&a), EKV_OK);
    CHECK_EQ(ekv_keys_make(&b), EKV_OK);
    CHECK_EQ(strlen(a.token), 43); /* base64url of 32 bytes, unpadded */
    CHECK_EQ(strspn(a.token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
             43);
    CHECK(strcmp(a.token, b.token) != 0);
    CHECK(strcmp(a.server_secret, b.server_secret) != 0);
    CHECK(strcmp(a.server_public, a.client_public) != 0);
    char pub[41];
    CHECK_EQ(zmq_curve_public(pub, a.server_secret), 0);
    CHECK_STR(pub, a.server_public);
    CHECK_EQ(zmq_curve_public(pub, a.client_secret), 0);
    CHECK_STR(pub, a.client_public);
    uint8_t raw[32];
    CHECK(zmq_z85_decode(raw, a.client_public) != NULL);
}

static void test_write_exclusive_0600(void)
{
    char path[320];
    path_in(path, sizeof path, "w.json");
    ekv_keys_t k, k2, back;
    CHECK_EQ(ekv_keys_make(&k), EKV_OK);
    CHECK_EQ(ekv_keys_make(&k2), EKV_OK);
    mode_t old = umask(0); /* the mode must not depend on the umask */
    CHECK_EQ(ekv_keys_write(path, &k, 0), EKV_OK);
    umask(old);
    struct stat st;
    CHECK_EQ(lstat(path, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0600);
    char *text = slurp(path), why[200];
    CHECK(text != NULL);
    CHECK_EQ(ekv_keys_parse(text, strlen(text), &back, why, sizeof why), EKV_OK);
    CHECK(!memcmp(&back, &k, sizeof k));
    /* a second write without force leaves the first keys */
    CHECK_EQ(ekv_keys_write(path, &k2, 0), EKV_EEXIST);
    char *again = slurp(path);
    CHECK_STR(again, text);
    free(again);
    /* with force the new keys replace them, still 0600 */
    umask(0);
    CHECK_EQ(ekv_keys_write(path, &k2, 1), EKV_OK);
    umask(old);
    CHECK_EQ(lstat(path, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0600);
    again = slurp(path);
    CHECK_EQ(ekv_keys_parse(again, strlen(again), &back, why, sizeof why), EKV_OK);
    CHECK_STR(back.token, k2.token);
    free(again);
    free(text);
}

/* A link planted at keys.json (to a file of someone else's, or to where one would appear) is
 * never written through: refused without force, replaced with force. */
static void test_never_through_a_link(void)
{
    char path[320], victim[320], ghost[320];
    path_in(path, sizeof path, "l.json");
    path_in(victim, sizeof victim, "victim");
    path_in(ghost, sizeof ghost, "ghost");
    put_file(victim, "precious\n");
    CHECK_EQ(symlink(victim, path), 0);
    ekv_keys_t k, back;
    CHECK_EQ(ekv_keys_make(&k), EKV_OK);
    CHECK_EQ(ekv_keys_write(path, &k, 0), EKV_EEXIST);
    char *v = slurp(victim);
    CHECK_STR(v, "precious\n");
    free(v);
    CHECK_EQ(ekv_keys_write(path, &k, 1), EKV_OK);
    v = slurp(victim);
    CHECK_STR(v, "precious\n");
    free(v);
    struct stat st;
    CHECK_EQ(lstat(path, &st), 0);
    CHECK(S_ISREG(st.st_mode)); /* the link itself was replaced */
    char *text = slurp(path), why[200];
    CHECK_EQ(ekv_keys_parse(text, strlen(text), &back, why, sizeof why), EKV_OK);
    free(text);
    /* a dangling link: the file it names is not created */
    path_in(path, sizeof path, "d.json");
    CHECK_EQ(symlink(ghost, path), 0);
    CHECK_EQ(ekv_keys_write(path, &k, 0), EKV_EEXIST);
    CHECK_EQ(access(ghost, F_OK), -1);
}

/* keys.json with one member replaced by value (a JSON text), parsed; why gets the reason. */
static int parse_with(const ekv_keys_t *k, const char *member, json_t *value, char *why, size_t n)
{
    json_t *j =
        json_pack("{s:i, s:s, s:{s:s, s:s, s:s, s:s}}", "version", 1, "token", k->token, "curve",
                  "server_public", k->server_public, "server_secret", k->server_secret,
                  "client_public", k->client_public, "client_secret", k->client_secret);
    if (value && !strncmp(member, "curve.", 6))
        json_object_set_new(json_object_get(j, "curve"), member + 6, value);
    else if (value)
        json_object_set_new(j, member, value);
    char *text = json_dumps(j, 0);
    ekv_keys_t out;
    why[0] = '\0';
    int rc = ekv_keys_parse(text, strlen(text), &out, why, n);
    free(text);
    json_decref(j);
    return rc;
}

static void test_parse_checks(void)
{
    ekv_keys_t k, other;
    char why[200];
    CHECK_EQ(ekv_keys_make(&k), EKV_OK);
    CHECK_EQ(ekv_keys_make(&other), EKV_OK);
    CHECK_EQ(parse_with(&k, "version", NULL, why, sizeof why), EKV_OK);
    CHECK_EQ(parse_with(&k, "version", json_integer(2), why, sizeof why), EKV_EINVAL);
    CHECK(strstr(why, "version") != NULL);
    CHECK_EQ(parse_with(&k, "token", json_string("short"), why, sizeof why), EKV_EINVAL);
    CHECK(strstr(why, "token") != NULL);
    CHECK_EQ(parse_with(&k, "token", json_string("sixteen chars ok"), why, sizeof why),
             EKV_EINVAL); /* a space is not visible */
    CHECK_EQ(parse_with(&k, "token", json_string("sixteen-chars-ok"), why, sizeof why), EKV_OK);
    CHECK_EQ(parse_with(&k, "curve.server_public", json_string("abc"), why, sizeof why),
             EKV_EINVAL);
    CHECK_STR(why, "curve.server_public is not a Z85 CURVE key (40 characters)");
    /* 40 characters, but '"' is not a Z85 symbol */
    CHECK_EQ(parse_with(&k, "curve.client_secret",
                        json_string("\"234567890123456789012345678901234567890"), why, sizeof why),
             EKV_EINVAL);
    CHECK_EQ(
        parse_with(&k, "curve.client_secret", json_string(other.client_secret), why, sizeof why),
        EKV_EINVAL);
    CHECK_STR(why, "curve.client_secret does not belong to curve.client_public");
    CHECK_EQ(
        parse_with(&k, "curve.server_secret", json_string(other.server_secret), why, sizeof why),
        EKV_EINVAL);
    CHECK_STR(why, "curve.server_secret does not belong to curve.server_public");
    CHECK_EQ(ekv_keys_parse("{", 1, &other, why, sizeof why), EKV_EINVAL);
}

static void test_token_eq(void)
{
    CHECK(ekv_keys_token_eq("abcdefghijklmnop", "abcdefghijklmnop"));
    CHECK(!ekv_keys_token_eq("abcdefghijklmnoq", "abcdefghijklmnop"));
    CHECK(!ekv_keys_token_eq("abcdefghijklmno", "abcdefghijklmnop"));
    CHECK(!ekv_keys_token_eq("abcdefghijklmnopq", "abcdefghijklmnop"));
    CHECK(!ekv_keys_token_eq("", "abcdefghijklmnop"));
}

static void test_setenv(void)
{
    ekv_keys_t k;
    CHECK_EQ(ekv_keys_make(&k), EKV_OK);
    ekv_keys_setenv(&k);
    CHECK_STR(getenv("EDGEKV_TOKEN"), k.token);
    CHECK_STR(getenv("EDGEKV_CURVE_SERVER_SECRET"), k.server_secret);
    CHECK_STR(getenv("EDGEKV_CURVE_CLIENT_KEY"), k.client_public);
    CHECK_STR(getenv("EDGEKV_CURVE_SERVER_KEY"), k.server_public);
    CHECK_STR(getenv("EDGEKV_CURVE_CLIENT_SECRET"), k.client_secret);
}

/* edgekv keys in $EDGEKV_HOME, and ekv_keys_load / ekv_keys_token reading what it wrote. */
static void test_command_and_load(void)
{
    char home[320], path[400];
    path_in(home, sizeof home, "home");
    setenv("EDGEKV_HOME", home, 1);
    ekv_keys_t k;
    CHECK_EQ(ekv_keys_load(&k), EKV_ENOTFOUND);
    char *argv[] = {"keys", "--force", NULL};
    CHECK_EQ(ekv_cmd_keys(1, argv), 0);
    CHECK_EQ(ekv_cmd_keys(1, argv), 1); /* exists: refused */
    CHECK_EQ(ekv_keys_load(&k), EKV_OK);
    char first[EKV_KEYS_TOKEN_MAX + 1];
    snprintf(first, sizeof first, "%s", k.token);
    CHECK_EQ(ekv_cmd_keys(2, argv), 0);
    CHECK_EQ(ekv_keys_load(&k), EKV_OK);
    CHECK(strcmp(first, k.token) != 0);
    const char *t = ekv_keys_token();
    CHECK(t != NULL);
    CHECK_STR(t, k.token);
    char *bad[] = {"keys", "--frce", NULL};
    CHECK_EQ(ekv_cmd_keys(2, bad), 2);
    /* a link at keys.json is not read through */
    ekv_keys_path(path, sizeof path);
    char moved[420];
    snprintf(moved, sizeof moved, "%s.real", path);
    CHECK_EQ(rename(path, moved), 0);
    CHECK_EQ(symlink(moved, path), 0);
    CHECK_EQ(ekv_keys_load(&k), EKV_EIO);
    unsetenv("EDGEKV_HOME");
}

int main(void)
{
    if (ekv_tmpdir_init("keys") != 0)
        return 1;
    snprintf(dir, sizeof dir, "%s", ekv_tmpdir_top);
    EKV_TEST_RUN(test_make);
    EKV_TEST_RUN(test_write_exclusive_0600);
    EKV_TEST_RUN(test_never_through_a_link);
    EKV_TEST_RUN(test_parse_checks);
    EKV_TEST_RUN(test_token_eq);
    EKV_TEST_RUN(test_setenv);
    EKV_TEST_RUN(test_command_and_load);
    EKV_TEST_DONE();
}
