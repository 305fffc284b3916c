/* The server's credentials: a private CA, a serving certificate, an admin client certificate, a
 * bearer token and the service account token key, all kept as 0600 files in the data directory
 * and created on first start. */
#ifndef JP_PKI_H
#define JP_PKI_H

#include "base/err.h"

#include <stddef.h>

struct jp_pki {
    char *ca_crt, *ca_key;         /* PEM */
    char *server_crt, *server_key; /* PEM; SANs: localhost, 127.0.0.1, ::1 + extra */
    char *admin_crt, *admin_key;   /* PEM; CN=admin, O=system:masters, clientAuth */
    char *token;                   /* 64 hex characters */
    char *sa_key;                  /* PEM; signs service account tokens (pki/satoken.h) */
};

/* Loads the credentials from dir, creating what is missing. The serving certificate is
 * reissued when it lacks one of the SANs (extra_sans: NULL-terminated, may be NULL) or expires
 * within 30 days. */
int jp_pki_ensure(const char *dir, const char *const *extra_sans, struct jp_pki *out,
                  struct jp_err **err);
void jp_pki_free(struct jp_pki *p);

/* Writes dir/kubeconfig (0600) for server_url with the CA and the admin client certificate. */
int jp_pki_write_kubeconfig(const struct jp_pki *p, const char *dir, const char *server_url,
                            struct jp_err **err);

#endif
