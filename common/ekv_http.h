/* ekv_http: small helpers around libevent's evhttp shared by the daemons. */
#ifndef EKV_HTTP_H
#define EKV_HTTP_H

#include <stddef.h>

struct evhttp;

/* Binds http to host:port (0 = any free port) and stores the bound port in *bound. Returns
 * EKV_OK, or EKV_EIO with a message in errbuf. */
int ekv_http_listen(struct evhttp *http, const char *host, int port, int *bound, char *errbuf,
                    size_t errlen);

#endif
