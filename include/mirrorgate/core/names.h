/* Name and handle syntax: Kubernetes object names, ONTAP SVM and volume names, and Trident's
 * handle formats. Pure predicates plus the messages users see when they fail. */
#ifndef MIRRORGATE_NAMES_H
#define MIRRORGATE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Kubernetes' DNS-1123 subdomain (object names such as PVCs): at most 253 characters. */
bool mg_is_dns1123_subdomain(const char *s);
/* apimachinery's message for a bad subdomain, including its regex. */
extern const char mg_dns1123_subdomain_msg[];

/* ONTAP SVM name as mirrorgate accepts it: 1-47 characters, a letter or '_' first, then
 * letters, digits, '_', '-', '.'. */
bool mg_is_ontap_svm_name(const char *s);
/* ONTAP FlexVol name: 1-203 characters, a letter or '_' first, then letters, digits, '_'. */
bool mg_is_ontap_volume_name(const char *s);

/* Splits "<svm>:<volume>" at the first ':' into the caller's buffers (Trident's
 * parseVolumeHandle); false when there is no ':' or a part does not fit. */
bool mg_split_volume_handle(const char *handle, char *svm, size_t svm_len, char *volume,
			    size_t volume_len);
/* Trident's snapshot handle, regex ^[^\s/]+/[^\s/]+$ ("<volume>/<snapshot>"). */
bool mg_is_snapshot_handle(const char *s);
/* Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False. */
bool mg_parse_go_bool(const char *s, bool *out);

#endif
