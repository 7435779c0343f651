/* kvcli: `edgekv kv`, wrangler 4's KV commands (namespace, key, bulk) against the running
 * world: the coordinator's REST API by default, one PoP's binding surface with --pop NAME.
 * See kvcli.c for the design and docs/kv-cli.md for the user's view. */
#ifndef EKV_KVCLI_H
#define EKV_KVCLI_H

#include <stddef.h>

/* `edgekv kv GROUP VERB ...` (argv[0] is "kv"). Prints what wrangler prints and returns its
 * exit code: 0 on success, 1 on a usage, configuration or API error. */
int ekv_cmd_kv(int argc, char **argv);

/* Turns JSONC into JSON in place: comments and trailing commas become spaces, newlines stay,
 * so a parser's line and column still point into the original file. Strings are untouched. */
void ekv_kvcli_jsonc_strip(char *s, size_t n);

#endif
