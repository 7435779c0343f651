/* badinput_rest_seed: stores keys that are not UTF-8, as an older build could, into a
 * coordinator's RocksDB folder while no coordinator runs, so that badinput_rest_test.sh can
 * check how the REST list shows them. Today every surface refuses such a key
 * (ekv_kv_check_key), so this goes through the store directly.
 * Usage: badinput_rest_seed DIR NAMESPACE; exits 0 when the keys are durable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_msg.h"
#include "ekv_time.h"
#include "store.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: badinput_rest_seed DIR NAMESPACE\n");
        return 2;
    }
    char err[256];
    ekv_store_t *s = ekv_store_open(argv[1], EKV_STORE_FSYNC, err, sizeof err);
    if (!s) {
        fprintf(stderr, "badinput_rest_seed: %s\n", err);
        return 1;
    }
    /* Two keys that read alike as text ("old" and U+FFFD) but differ in bytes. */
    static const struct {
        const char *key, *value;
        size_t len;
    } keys[] = {{"old\xff\xfe", "legacy-1", 5}, {"old\xc3\x28", "legacy-2", 5}};
    ekv_msg_t d[2];
    memset(d, 0, sizeof d);
    for (int i = 0; i < 2; i++) {
        d[i].op = EKV_OP_PUT;
        d[i].ns = (ekv_bytes_t){argv[2], strlen(argv[2])};
        d[i].key = (ekv_bytes_t){keys[i].key, keys[i].len};
        d[i].value = (ekv_bytes_t){keys[i].value, strlen(keys[i].value)};
    }
    char *bodies[2] = {NULL, NULL};
    size_t lens[2];
    int rc = ekv_store_commit(s, d, 2, ekv_now_us(), bodies, lens);
    free(bodies[0]);
    free(bodies[1]);
    ekv_store_destroy(&s);
    if (rc != EKV_OK)
        fprintf(stderr, "badinput_rest_seed: commit failed (%d)\n", rc);
    return rc == EKV_OK ? 0 : 1;
}
