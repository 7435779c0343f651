/* ekv_http: evhttp listening with ephemeral-port discovery. */
#include "ekv_http.h"

#include <arpa/inet.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "ekv_err.h"

int ekv_http_listen(struct evhttp *http, const char *host, int port, int *bound, char *errbuf,
                    size_t errlen)
{
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, host, (uint16_t)port);
    if (!bs) {
        snprintf(errbuf, errlen, "cannot listen on %s:%d", host, port);
        return EKV_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
    *bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                      : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return EKV_OK;
}
