/* ekv_err: names for the error codes of ekv_err.h. */
#include "ekv_err.h"

const char *ekv_strerror(int code)
{
    switch (code) {
    case EKV_OK:
        return "ok";
    case EKV_EINVAL:
        return "invalid argument";
    case EKV_EMALFORMED:
        return "malformed message";
    case EKV_ETRUNCATED:
        return "truncated message";
    case EKV_ETOOBIG:
        return "too big";
    case EKV_EVERSION:
        return "unknown protocol version";
    case EKV_ETYPE:
        return "wrong type";
    case EKV_ENOTFOUND:
        return "not found";
    case EKV_EIO:
        return "I/O error";
    case EKV_ESTORE:
        return "storage error";
    case EKV_EAGAIN:
        return "try again";
    case EKV_EUNAVAIL:
        return "unavailable";
    case EKV_ETIMEDOUT:
        return "timed out";
    case EKV_EEXIST:
        return "already exists";
    }
    return "unknown error";
}
