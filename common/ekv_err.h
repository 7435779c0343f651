/* ekv_err: the one error enum of edgekv.
 *
 * Every function that can fail returns an int: EKV_OK (0) or a negative EKV_E* code. Results
 * travel in out-parameters. ekv_strerror() names a code for logs and error replies. */
#ifndef EKV_ERR_H
#define EKV_ERR_H

enum {
    EKV_OK = 0,
    EKV_EINVAL = -1,     /* an argument or input value is not acceptable */
    EKV_EMALFORMED = -2, /* wire input is not a well-formed message */
    EKV_ETRUNCATED = -3, /* wire input ends before the message does */
    EKV_ETOOBIG = -4,    /* input exceeds a size limit */
    EKV_EVERSION = -5,   /* unknown protocol version */
    EKV_ETYPE = -6,      /* unknown message type or wrong-typed field */
    EKV_ENOTFOUND = -7,  /* the thing asked for does not exist */
    EKV_EIO = -8,        /* the operating system or a library reported an I/O failure */
    EKV_ESTORE = -9,     /* the storage engine reported an error */
    EKV_EAGAIN = -10,    /* nothing to do now; try again later */
    EKV_EUNAVAIL = -11,  /* a peer (the coordinator) is not reachable */
    EKV_ETIMEDOUT = -12, /* a peer did not answer in time */
    EKV_EEXIST = -13,    /* the thing to create exists already */
};

/* Returns a static, human-readable name for an EKV_* code; never NULL. */
const char *ekv_strerror(int code);

#endif
