/* badinput_node_seed: writes records that no client can write today into a coordinator's store
 * folder, before the coordinator starts on it (badinput_node_test.sh).
 *
 *   badinput_node_seed DATA_DIR
 *
 * A store kept from an older version (or written by another tool) may hold keys that are not
 * UTF-8, values that are not text, and metadata whose text holds raw control characters; a
 * PoP receives them by list, read, snapshot and catch-up and must render them safely. All go
 * into the default namespace, as one committed batch:
 *   "\x80odd"   value "odd-value", metadata {"m":<LF>"x"} (a raw LF between tokens)
 *   "odd\xff"   value "v", metadata "\xff" (text that is not even UTF-8)
 *   "meta-nl"   value "nl-value", metadata {"a":<CR><LF><TAB>"b"}
 *   "meta-del"  value "del-value", metadata {"d":"x<DEL>y"}
 *   "binval"    value bytes ff fe 00 41 (not text)
 * Exit 0 when the batch is durable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_err.h"
#include "ekv_kv.h"
#include "ekv_msg.h"
#include "ekv_time.h"
#include "store.h"

static ekv_msg_t put(const char *key, const char *value, size_t vlen, const char *meta)
{
    ekv_msg_t m = {0};
    m.op = EKV_OP_PUT;
    m.ns = (ekv_bytes_t){EKV_KV_DEFAULT_NS, strlen(EKV_KV_DEFAULT_NS)};
    m.key = (ekv_bytes_t){key, strlen(key)};
    m.value = (ekv_bytes_t){value, vlen};
    if (meta) {
        m.flags = EKV_MSG_F_METADATA;
        m.meta = (ekv_bytes_t){meta, strlen(meta)};
    }
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: badinput_node_seed DATA_DIR\n");
        return 2;
    }
    char err[512] = "";
    ekv_store_t *s = ekv_store_open(argv[1], EKV_STORE_FSYNC, err, sizeof err);
    if (!s) {
        fprintf(stderr, "badinput_node_seed: %s\n", err);
        return 1;
    }
    ekv_msg_t batch[] = {
        put("\x80odd", "odd-value", 9, "{\"m\":\n\"x\"}"),
        put("odd\xff", "v", 1, "\"\xff\""),
        put("meta-nl", "nl-value", 8, "{\"a\":\r\n\t\"b\"}"),
        put("meta-del", "del-value", 9, "{\"d\":\"x\x7fy\"}"),
        put("binval", "\xff\xfe\0A", 4, NULL),
    };
    size_t n = sizeof batch / sizeof batch[0];
    char *bodies[sizeof batch / sizeof batch[0]];
    size_t lens[sizeof batch / sizeof batch[0]];
    int rc = ekv_store_commit(s, batch, n, ekv_now_us(), bodies, lens);
    if (rc == EKV_OK)
        for (size_t i = 0; i < n; i++)
            free(bodies[i]);
    ekv_store_destroy(&s);
    if (rc != EKV_OK) {
        fprintf(stderr, "badinput_node_seed: commit: %s\n", ekv_strerror(rc));
        return 1;
    }
    printf("seeded %zu records\n", n);
    return 0;
}
