/* A Kubernetes-style field error list, formatted exactly as the API server formats
 * k8s.io/apimachinery/pkg/util/validation/field errors, e.g.
 *   TridentMirrorRelationship.trident.netapp.io "csi-nas" is invalid:
 *   spec.volumeMappings[0].remoteVolumeHandle: Required value: required when ...
 * (one line; several errors are joined as "[e1, e2]"). */
#ifndef MIRRORGATE_FIELDERR_H
#define MIRRORGATE_FIELDERR_H

#include <stddef.h>

enum mg_fe_type {
	MG_FE_REQUIRED,      /* "Required value" */
	MG_FE_INVALID,       /* "Invalid value: <v>" */
	MG_FE_NOT_SUPPORTED, /* "Unsupported value: <v>" */
	MG_FE_FORBIDDEN,     /* "Forbidden" */
	MG_FE_DUPLICATE,     /* "Duplicate value: <v>" */
	MG_FE_TOO_MANY,      /* "Too many: <n>" */
	MG_FE_NOT_FOUND,     /* "Not found: <v>" */
};

typedef struct mg_field_error {
	const char *rule;     /* static rule ID, e.g. "TMR-STATE" */
	enum mg_fe_type type;
	char *path;           /* e.g. "spec.volumeMappings[0].localPVCName" */
	char *value;          /* bad value already rendered as Go's %q / %v would, or NULL */
	char *detail;         /* may be NULL */
} mg_field_error;

typedef struct mg_field_errors {
	mg_field_error *items;
	size_t len;
	size_t cap;
} mg_field_errors;

/* Adds an error whose bad value is a string (rendered quoted, as Go's %q). value may be
 * NULL for types that print no value. detail is a printf format (may be NULL). */
int mg_fe_add(mg_field_errors *list, const char *rule, enum mg_fe_type type, const char *path,
	      const char *value, const char *detail_fmt, ...) __attribute__((format(printf, 6, 7)));
/* Same with a bad value rendered verbatim (numbers, null). */
int mg_fe_add_raw(mg_field_errors *list, const char *rule, enum mg_fe_type type,
		  const char *path, const char *raw_value, const char *detail_fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* "<path>: <body>" for one error. */
int mg_fe_format_one(const mg_field_error *fe, char **out);
/* The API server's StatusError message for an invalid object: `<qualifiedKind> "<name>" is
 * invalid: <errors>`, e.g. qualified kind "TridentMirrorRelationship.trident.netapp.io" or
 * "PersistentVolumeClaim" for the core group. */
int mg_fe_format_invalid(const mg_field_errors *list, const char *qualified_kind,
			 const char *name, char **out);

void mg_fe_clear(mg_field_errors *list);

#endif
