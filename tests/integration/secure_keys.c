/* secure_keys: prints N fresh CURVE keypairs (default 1), one "PUBLIC SECRET" line each, Z85,
 * for integration/secure_test.sh (which must not wait for `edgekv keys`). */
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    for (int i = 0; i < n; i++) {
        char pub[41], secret[41];
        if (zmq_curve_keypair(pub, secret) != 0) {
            fprintf(stderr, "secure_keys: %s\n", zmq_strerror(zmq_errno()));
            return 1;
        }
        printf("%s %s\n", pub, secret);
    }
    return 0;
}
