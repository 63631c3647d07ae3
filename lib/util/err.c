#include "mirrorgate/util/err.h"

const char *mg_strerror(int err)
{
	switch (err) {
	case MG_OK: return "success";
	case MG_ENOMEM: return "out of memory";
	case MG_EINVAL: return "invalid argument";
	case MG_EPARSE: return "malformed input";
	case MG_EIO: return "input/output error";
	case MG_ENOTFOUND: return "not found";
	case MG_ECONFLICT: return "conflict";
	case MG_ETIMEOUT: return "timed out";
	case MG_ETOOBIG: return "input too large";
	case MG_ETLS: return "TLS or certificate error";
	case MG_EREMOTE: return "remote error";
	case MG_EEXIST: return "already exists";
	case MG_EUNKNOWN: return "outcome unknown";
	case MG_ETHROTTLED: return "throttled";
	case MG_EGONE: return "resource version expired";
	case MG_EAUTH: return "authentication failed";
	}
	return "unknown error";
}
