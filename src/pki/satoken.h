/* Service account tokens as kube-apiserver issues them: JWTs (ES256, signed with the data
 * directory's sa.key) whose claims name the namespace, the account and, for a pod's token, the
 * pod - what TokenRequest (`kubectl create token`) returns and what the node mounts into pods
 * as /var/run/secrets/kubernetes.io/serviceaccount/token. The API checks the signature, the
 * issuer, the audience and the times here; whether the account and pod still exist is the
 * caller's to check against its store. */
#ifndef JP_PKI_SATOKEN_H
#define JP_PKI_SATOKEN_H

#include "base/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The issuer and the API's audience, as a kubeadm cluster names them. */
#define JP_SA_ISSUER "https://kubernetes.default.svc.cluster.local"

/* Where the ServiceAccount admission plugin mounts a pod's token, and its volume's name prefix. */
#define JP_SA_TOKEN_MOUNT_PATH "/var/run/secrets/kubernetes.io/serviceaccount"
#define JP_SA_TOKEN_VOLUME     "kube-api-access-"

/* A token's lifetime as TokenRequest bounds it (a pod's projection too, defaulted to an hour). */
#define JP_SA_DEFAULT_SECONDS 3600
#define JP_SA_MIN_SECONDS     600
#define JP_SA_MAX_SECONDS     (1LL << 32)

/* kube-apiserver's words for a lifetime out of those bounds; NULL within them. */
static inline const char *jp_sa_lifetime_problem(int64_t seconds)
{
    return seconds < JP_SA_MIN_SECONDS   ? "may not specify a duration less than 10 minutes"
           : seconds > JP_SA_MAX_SECONDS ? "may not specify a duration larger than 2^32 seconds"
                                         : NULL;
}

/* A token lasting longer than this is no bound token of the node's: see jp_sa_claims. */
#define JP_SA_NODE_SECONDS 3607

struct jp_sa_signer; /* the key, loaded once */

/* From the PEM of a P-256 key (struct jp_pki's sa_key). */
int jp_sa_signer_new(const char *key_pem, struct jp_sa_signer **out, struct jp_err **err);
void jp_sa_signer_free(struct jp_sa_signer *s);

struct jp_sa_claims {
    const char *ns, *sa_name, *sa_uid;
    const char *pod_name, *pod_uid;       /* NULL: not bound to a pod */
    const char *secret_name, *secret_uid; /* NULL: not bound to a secret */
    const char *const *audiences;         /* NULL-terminated; NULL: the API's (JP_SA_ISSUER) */
    int64_t iat;                          /* seconds since the epoch */
    int64_t seconds;                      /* lifetime asked for */
    /* As kube-apiserver's --service-account-extend-token-expiration (on by default): a pod's
     * token asked for JP_SA_NODE_SECONDS lasts a year, with warnafter at the asked time, so a
     * node that cannot refresh it does not cut its pods off. */
    bool extend;
};

/* The JWT. exp_out (may be NULL): its expiry, seconds since the epoch. OUT: caller frees. */
char *jp_sa_token_mint(const struct jp_sa_signer *s, const struct jp_sa_claims *c,
                       int64_t *exp_out);

/* Who a token names, once its signature, issuer, audience and times check out. */
struct jp_sa_identity {
    char ns[256], sa_name[256], sa_uid[64];
    char pod_name[256], pod_uid[64];       /* "" when not bound to a pod */
    char secret_name[256], secret_uid[64]; /* "" when not bound to a secret */
};

/* 0 with *who filled in, or -1 (not ours, tampered with, expired, or for another audience). */
int jp_sa_token_verify(const struct jp_sa_signer *s, const char *jwt, int64_t now,
                       struct jp_sa_identity *who);

/* "system:serviceaccount:NS:NAME" into buf. */
const char *jp_sa_username(const struct jp_sa_identity *who, char *buf, size_t n);

#endif
