/* Error codes shared by every module: functions that can fail return 0 or one of these
 * (negative), and fill their out-parameters only on success. */
#ifndef MIRRORGATE_ERR_H
#define MIRRORGATE_ERR_H

enum mg_err {
	MG_OK = 0,
	MG_ENOMEM = -1,    /* an allocation failed */
	MG_EINVAL = -2,    /* a caller passed something unusable */
	MG_EPARSE = -3,    /* input is not well-formed JSON/YAML/PEM/... */
	MG_EIO = -4,       /* reading or writing a file or socket failed */
	MG_ENOTFOUND = -5, /* the named object does not exist */
	MG_ECONFLICT = -6, /* optimistic concurrency: somebody else wrote first */
	MG_ETIMEOUT = -7,  /* a deadline passed */
	MG_ETOOBIG = -8,   /* input over a configured limit */
	MG_ETLS = -9,      /* certificate or TLS failure */
	MG_EREMOTE = -10,  /* a remote server answered with an error */
	MG_EEXIST = -11,   /* the object already exists */
	MG_EUNKNOWN = -12, /* outcome unknown: re-read before acting again */
	MG_ETHROTTLED = -13, /* the server asked us to slow down */
	MG_EGONE = -14,    /* a watch version expired (HTTP 410) */
	MG_EAUTH = -15,    /* authentication or authorisation refused */
};

/* A static, human-readable name for an mg_err code; never NULL. */
const char *mg_strerror(int err);

#endif
